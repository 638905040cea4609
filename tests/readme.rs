//! The README does not drift: every ```console block in it is a command
//! (`$ cms-contract …`, against the embedded simulator) and what it prints,
//! and this test runs each one and compares. What changes from run to run
//! (the simulator's port, the signature's timestamp, response times) is
//! masked on both sides. A trailing `2>&1` compares stderr too (after
//! stdout); otherwise stdout alone.

use std::path::Path;
use std::process::Command;

/// (line of the block, command words, expected output) for every console block.
fn console_blocks(readme: &str) -> Vec<(usize, Vec<String>, String)> {
    let mut out = Vec::new();
    let mut lines = readme.lines().enumerate();
    while let Some((n, line)) = lines.next() {
        if line.trim_end() != "```console" {
            continue;
        }
        let Some((_, command)) = lines.next() else {
            break;
        };
        let command = command
            .strip_prefix("$ ")
            .unwrap_or_else(|| panic!("README.md:{}: a console block starts with `$ `", n + 2));
        let words: Vec<String> = command.split_whitespace().map(str::to_owned).collect();
        let mut expected = String::new();
        for (_, l) in lines.by_ref() {
            if l.trim_end() == "```" {
                break;
            }
            expected.push_str(l);
            expected.push('\n');
        }
        out.push((n + 1, words, expected));
    }
    out
}

/// The output with what changes between runs masked.
fn masked(text: &str) -> String {
    let port = regex::Regex::new(r"127\.0\.0\.1:\d+").unwrap();
    let time = regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ").unwrap();
    let ms = regex::Regex::new(r"\), \d+ ms").unwrap();
    let text = port.replace_all(text, "127.0.0.1:PORT");
    let text = time.replace_all(&text, "TIMESTAMP");
    let text = ms.replace_all(&text, "), N ms");
    text.lines()
        .map(str::trim_end)
        .collect::<Vec<_>>()
        .join("\n")
        .trim()
        .to_owned()
}

#[test]
fn every_console_block_of_the_readme_prints_what_it_shows() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let blocks = console_blocks(&readme);
    assert!(blocks.len() >= 3, "{} console blocks", blocks.len());
    let mut drift = Vec::new();
    for (line, words, expected) in blocks {
        assert_eq!(words[0], "cms-contract", "README.md:{line}");
        let with_stderr = words.last().is_some_and(|w| w == "2>&1");
        let args = &words[1..words.len() - usize::from(with_stderr)];
        let o = Command::new(env!("CARGO_BIN_EXE_cms-contract"))
            .current_dir(root)
            .args(args)
            .env("NO_COLOR", "1")
            .env_remove("CMS_BASE_URL")
            .env_remove("CMS_PROFILE")
            .env_remove("CMS_AK")
            .env_remove("CMS_SK")
            .output()
            .unwrap();
        let mut got = String::from_utf8_lossy(&o.stdout).into_owned();
        if with_stderr {
            got.push_str(&String::from_utf8_lossy(&o.stderr));
        }
        if masked(&got) != masked(&expected) {
            drift.push(format!(
                "README.md:{line}: `{}` prints\n{}\n",
                words.join(" "),
                masked(&got)
            ));
        }
    }
    assert!(
        drift.is_empty(),
        "the README drifted:\n{}",
        drift.join("\n")
    );
}
