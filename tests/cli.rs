//! The `cms-contract` binary end to end: exit codes, located load errors,
//! reports, dry runs, signing, and that secrets never reach any output.

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn cli(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cms-contract"));
    c.current_dir(root()).args(args).env("NO_COLOR", "1");
    for k in ["CMS_BASE_URL", "CMS_PROFILE", "CMS_AK", "CMS_SK"] {
        c.env_remove(k);
    }
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run cms-contract")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn tmp(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("cms-contract-cli-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[test]
fn the_shipped_suite_passes_against_the_embedded_simulator() {
    let o = cli(&["run"], &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains(" passed, 0 failed"), "{t}");
}

#[test]
fn a_contract_violation_exits_1_with_path_row_and_diff() {
    let o = cli(
        &[
            "run",
            "--sim-fault",
            "vdn-mismatch",
            "--filter",
            "agent_vdn3",
        ],
        &[],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("FAIL agentbyworkno::agent_vdn3"), "{t}");
    assert!(t.contains("/resultDesc/vdnId"), "{t}");
    assert!(t.contains("Table 4 row 2.2"), "{t}");
    assert!(t.contains("-    \"vdnId\": 3"), "{t}");
    assert!(t.contains("+    \"vdnId\": 4"), "{t}");
    assert!(t.contains("0 passed, 1 failed"), "{t}");
}

#[test]
fn a_malformed_case_file_gives_a_located_error_and_exit_2() {
    let d = tmp("malformed");
    std::fs::create_dir_all(d.join("s")).unwrap();
    std::fs::write(d.join("s/bad.yaml"), "cases:\n  - name: one\n    request: {method: POST, path: /x}\n    expcet:\n      status: 200\n").unwrap();
    let o = cli(&["run", d.join("s").to_str().unwrap()], &[]);
    let t = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("error: unknown field `expcet`"), "{t}");
    assert!(t.contains("bad.yaml:4:5"), "{t}");
    assert!(t.contains("^ did you mean `expect`?"), "{t}");
    std::fs::write(
        d.join("s/bad.yaml"),
        "cases:\n  - name: one\n    request: {method: POST, path: /x\n",
    )
    .unwrap();
    let o = cli(&["check", d.join("s").to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("bad.yaml:"), "{}", text(&o));
}

#[test]
fn an_empty_selection_or_folder_is_a_failure() {
    let d = tmp("empty");
    let o = cli(&["run", d.to_str().unwrap()], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no case files"), "{}", text(&o));
    let o = cli(&["run", "--filter", "no-such-case"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("no case matches"), "{}", text(&o));
}

#[test]
fn undefined_variables_are_errors_against_a_real_target() {
    let o = cli(&["check", "--target", "https://cms.invalid:28080"], &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("undefined variable"), "{t}");
    assert!(t.contains("--var"), "{t}");
}

#[test]
fn junit_and_json_reports_are_written() {
    let d = tmp("reports");
    let (junit, json) = (d.join("r.xml"), d.join("r.json"));
    let o = cli(
        &[
            "run",
            "--sim-fault",
            "text-plain",
            "--tag",
            "sample",
            "cases/agentbyworkno",
            "--junit",
            junit.to_str().unwrap(),
            "--json",
            json.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<testsuite name=\"agentbyworkno\" tests=\"1\" failures=\"1\""),
        "{xml}"
    );
    assert!(xml.contains("<testcase name=\"sample_exchange\""), "{xml}");
    assert!(xml.contains("<failure message="), "{xml}");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(doc["summary"]["failed"], 1);
    assert_eq!(doc["cases"][0]["failures"][0]["kind"], "content type");
}

#[test]
fn html_report_is_self_contained_and_shows_the_diff() {
    let d = tmp("html");
    let html = d.join("r.html");
    let o = cli(
        &[
            "run",
            "--sim-fault",
            "vdn-mismatch",
            "--filter",
            "agent_vdn3",
            "--html",
            html.to_str().unwrap(),
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"), "{page}");
    assert!(
        page.contains("FAIL</span> agentbyworkno::agent_vdn3"),
        "{page}"
    );
    assert!(
        page.contains("<span class=\"del\">-    &quot;vdnId&quot;: 3</span>"),
        "{page}"
    );
    assert!(page.contains("Table 4 row 2.2"), "{page}");
    for external in ["<script", "<link", "src=\"http", "href=\"http"] {
        assert!(!page.contains(external), "not self-contained: {external}");
    }
}

#[test]
fn secrets_never_appear_in_output_or_reports() {
    let d = tmp("secrets");
    let junit = d.join("r.xml");
    let html = d.join("r.html");
    let env = [("CMS_AK", "my-ak"), ("CMS_SK", "very-secret-sk-value")];
    for args in [
        vec![
            "run",
            "--sim-fault",
            "result-disagrees",
            "--junit",
            junit.to_str().unwrap(),
        ],
        vec!["run", "--dry-run"],
    ] {
        let o = cli(&args, &env);
        let t = text(&o)
            + &std::fs::read_to_string(&junit).unwrap_or_default()
            + &std::fs::read_to_string(&html).unwrap_or_default();
        assert!(!t.contains("very-secret-sk-value"), "SK leaked");
        assert!(
            t.contains("auth-v2/my-ak/"),
            "the AK and timestamp stay visible: {t}"
        );
        assert!(t.contains("/host/<redacted>"), "{t}");
        // No 64-hex-digit signature anywhere.
        let hex_run = t.as_bytes().windows(64).any(|w| {
            w.iter()
                .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
        });
        assert!(!hex_run, "a signature leaked");
    }
}

#[test]
fn sign_prints_the_spec_vector() {
    let o = cli(
        &[
            "sign",
            "--contract",
            "agentbyworkno",
            "--host",
            "10.22.26.181:28080",
            "--timestamp",
            "2024-01-01T00:00:00Z",
            "--body",
            r#"{"queryParam":{"ccId":1,"vdn":1,"agentId":101}}"#,
        ],
        &[("CMS_AK", "globalaktest"), ("CMS_SK", "example-secret-key")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        "Authorization: auth-v2/globalaktest/2024-01-01T00:00:00Z/host/2da95fd4bf39ceb59782ffe762256861457efda80e2a2701cca0b565f27f894b"
    );
    let o = cli(&["sign", "--host", "h:1", "--path", "/p"], &[]);
    assert_eq!(o.status.code(), Some(2));
    assert!(text(&o).contains("CMS_AK"));
}

#[test]
fn an_unreachable_target_fails_the_cases_with_a_one_line_cause() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let url = format!("http://127.0.0.1:{port}");
    let o = cli(
        &[
            &["run", "--target", &url, "--tag", "sample"][..],
            &common::REAL_TARGET_VARS[..],
        ]
        .concat(),
        &[("CMS_AK", "a"), ("CMS_SK", "b")],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(t.contains("ERROR agentbyworkno::sample_exchange"), "{t}");
    assert!(t.contains("cannot connect to 127.0.0.1"), "{t}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(cli(&["run", "--no-such-flag"], &[]).status.code(), Some(2));
    assert_eq!(cli(&["run", "--rate", "fast"], &[]).status.code(), Some(2));
    assert_eq!(
        cli(&["run", "--target", "cms-host:28080"], &[])
            .status
            .code(),
        Some(2)
    );
    let o = cli(
        &[
            &["run", "--target", "https://x:1"][..],
            &common::REAL_TARGET_VARS[..],
        ]
        .concat(),
        &[],
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("set CMS_AK and CMS_SK"), "{}", text(&o));
}

#[test]
fn colour_follows_no_color_and_the_color_flag() {
    let args = [
        "run",
        "--sim-fault",
        "vdn-mismatch",
        "--filter",
        "agent_vdn3",
    ];
    let forced = cli(&args, &[("CLICOLOR_FORCE", "1")]);
    // The helper sets NO_COLOR=1: it wins over CLICOLOR_FORCE.
    assert!(
        !text(&forced).contains('\u{1b}'),
        "NO_COLOR must switch colours off"
    );
    let always = cli(&[&args[..], &["--color", "always"]].concat(), &[]);
    assert!(
        text(&always).contains("\u{1b}[31m-"),
        "--color always colours the diff"
    );
    let never = cli(
        &[&args[..], &["--color", "never"]].concat(),
        &[("CLICOLOR_FORCE", "1")],
    );
    assert!(!text(&never).contains('\u{1b}'));
    // Not a TTY (CI): one plain line per case, no progress bar.
    assert!(
        text(&never).contains("case agentbyworkno::agent_vdn3 ... FAILED"),
        "{}",
        text(&never)
    );
}

#[test]
fn a_tty_gets_a_progress_bar() {
    // `script` (util-linux) gives the run a pseudo-terminal.
    let cmd = format!(
        "env -u CI NO_COLOR=1 {} run --tag sample cases/agentbyworkno cases/agentbyworkno-legacy",
        env!("CARGO_BIN_EXE_cms-contract")
    );
    let o = Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(root())
        .output()
        .expect("`script` (util-linux) runs the CLI on a pseudo-terminal");
    let t = text(&o).replace('\r', "\n");
    assert!(t.contains("] 2/2 cases, 0 failed"), "{t}");
    assert!(t.contains("[=============================="), "{t}");
    assert!(
        !t.contains("case agentbyworkno::sample_exchange ... ok"),
        "no plain lines on a TTY: {t}"
    );
}

/// Spawn the CLI with stdout or stderr already closed by its reader (as
/// `| head` does once it has its lines); return the exit code and what the
/// other stream got.
fn with_closed(stream: &str, args: &[&str]) -> (Option<i32>, String) {
    use std::io::Read;
    use std::process::Stdio;
    let mut c = Command::new(env!("CARGO_BIN_EXE_cms-contract"));
    c.current_dir(root())
        .args(args)
        .env("NO_COLOR", "1")
        .env("CMS_AK", "my-ak")
        .env("CMS_SK", "very-secret-sk-value")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for k in ["CMS_BASE_URL", "CMS_PROFILE", "CI"] {
        c.env_remove(k);
    }
    let mut child = c.spawn().expect("run cms-contract");
    // Closed before the CLI writes anything: its first write fails.
    let mut other = String::new();
    if stream == "stdout" {
        drop(child.stdout.take());
        child
            .stderr
            .take()
            .unwrap()
            .read_to_string(&mut other)
            .unwrap();
    } else {
        drop(child.stderr.take());
        child
            .stdout
            .take()
            .unwrap()
            .read_to_string(&mut other)
            .unwrap();
    }
    (child.wait().expect("wait").code(), other)
}

#[test]
fn a_closed_pipe_ends_output_quietly_with_the_usual_exit_code() {
    let runs: [(&[&str], i32); 9] = [
        (&["list"], 0),
        (&["check"], 0),
        (&["schema"], 0),
        (&["serve", "--list-faults"], 0),
        (&["sign", "--host", "h:1", "--path", "/p"], 0),
        (&["run", "--tag", "sample"], 0),
        (
            &[
                "run",
                "--sim-fault",
                "vdn-mismatch",
                "--filter",
                "agent_vdn3",
            ],
            1,
        ),
        (&["run", "--dry-run", "--tag", "sample"], 0),
        (
            &[
                "compare",
                "--baseline",
                "sim",
                "--candidate",
                "sim:8.13",
                "--filter",
                "sample_exchange",
                "cases/agentbyworkno",
            ],
            1,
        ),
    ];
    for (args, code) in runs {
        let (got, stderr) = with_closed("stdout", args);
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert_eq!(got, Some(code), "{args:?} with stdout closed: {stderr}");
    }
    // Progress, notices and the run's banner go to stderr.
    for (args, code) in [runs[6], runs[8]] {
        let (got, stdout) = with_closed("stderr", args);
        assert_eq!(got, Some(code), "{args:?} with stderr closed: {stdout}");
    }
}

#[test]
fn reports_say_whether_tls_was_verified() {
    let d = tmp("tls-verify");
    let profile = d.join("insecure.yaml");
    std::fs::write(&profile, "tls:\n  insecure: true\n").unwrap();
    let (junit, json, html) = (d.join("r.xml"), d.join("r.json"), d.join("r.html"));
    let reports = [
        "--junit",
        junit.to_str().unwrap(),
        "--json",
        json.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ];
    let runs: [(&[&str], bool); 3] = [
        (&[], true),
        (&["--insecure"], false),
        (&["--profile", profile.to_str().unwrap()], false),
    ];
    for (flags, verified) in runs {
        let args = [&["run", "--tag", "sample"][..], flags, &reports[..]].concat();
        let o = cli(&args, &[]);
        assert_eq!(o.status.code(), Some(0), "{}", text(&o));
        let word = if verified { "on" } else { "off" };
        let xml = std::fs::read_to_string(&junit).unwrap();
        assert!(
            xml.contains(&format!("<property name=\"tls.verify\" value=\"{word}\"/>")),
            "{flags:?}: {xml}"
        );
        let doc: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(doc["tls_verify"], verified, "{flags:?}");
        assert_eq!(doc["target"], "embedded simulator", "{flags:?}");
        let page = std::fs::read_to_string(&html).unwrap();
        assert!(
            page.contains(&format!("TLS verification: {word}")),
            "{flags:?}: {page}"
        );
        assert_eq!(page.contains("class=\"insecure\""), !verified, "{flags:?}");
    }
}

/// Run the binary, killing it (and failing) if it runs longer than `limit`.
#[cfg(unix)]
fn cli_within(args: &[&str], limit: std::time::Duration) -> Output {
    use std::process::Stdio;
    let mut c = Command::new(env!("CARGO_BIN_EXE_cms-contract"));
    c.current_dir(root())
        .args(args)
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for k in ["CMS_BASE_URL", "CMS_PROFILE", "CMS_AK", "CMS_SK"] {
        c.env_remove(k);
    }
    let mut child = c.spawn().expect("run cms-contract");
    let started = std::time::Instant::now();
    while child.try_wait().expect("wait").is_none() {
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "`cms-contract {}` ran longer than {limit:?}",
                args.join(" ")
            );
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    child.wait_with_output().expect("output")
}

/// Folder links back to `.`, a FIFO and a `/dev/zero` link named like case
/// files: `check` ends at once, says what it skipped, and checks the rest.
#[cfg(unix)]
#[test]
fn check_ends_on_link_loops_fifos_and_devices() {
    let d = tmp("discovery");
    let s = d.join("s");
    std::fs::create_dir_all(&s).unwrap();
    std::fs::write(
        s.join("a.yaml"),
        "cases:\n  - name: one\n    request: {method: POST, path: /p}\n",
    )
    .unwrap();
    std::os::unix::fs::symlink(".", s.join("l1")).unwrap();
    std::os::unix::fs::symlink(".", s.join("l2")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(s.join("fifo.yaml"))
        .status()
        .unwrap();
    assert!(fifo.success());
    std::os::unix::fs::symlink("/dev/zero", s.join("zero.yaml")).unwrap();
    let o = cli_within(
        &["check", s.to_str().unwrap()],
        std::time::Duration::from_secs(10),
    );
    let err = String::from_utf8_lossy(&o.stderr).to_string();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        String::from_utf8_lossy(&o.stdout).starts_with("ok: 1 cases"),
        "{}",
        text(&o)
    );
    for line in [
        format!("warning: skipped {}: not a regular file (a FIFO)", s.join("fifo.yaml").display()),
        format!(
            "warning: skipped {}: not a regular file (a character device)",
            s.join("zero.yaml").display()
        ),
        format!(
            "warning: skipped {}: folder already searched (a symbolic link loop or a second link to it)",
            s.join("l1").display()
        ),
    ] {
        assert!(err.lines().any(|l| l == line), "{line}\n{err}");
    }

    // A case file over 1 MiB: a located error, exit 2.
    std::fs::write(
        s.join("big.yaml"),
        format!("cases: []\n#{}\n", "x".repeat(1 << 20)),
    )
    .unwrap();
    let o = cli_within(
        &["check", s.to_str().unwrap()],
        std::time::Duration::from_secs(10),
    );
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains(&format!(
            "error: cannot read `{}`: larger than 1 MiB",
            s.join("big.yaml").display()
        )),
        "{}",
        text(&o)
    );
}

/// 40 `each` ranges of 100,000 values in a ~1 KB file: `check` refuses them
/// at once, with a located error, without building the 4,000,000 cases (it
/// runs under a 1 GiB address-space limit); `--max-cases` names the limit.
#[cfg(unix)]
#[test]
fn check_refuses_a_huge_expansion_at_once_and_in_little_memory() {
    let d = tmp("expansion");
    std::fs::create_dir_all(d.join("s")).unwrap();
    let ranges: Vec<String> = (0..40i64)
        .map(|i| format!("{}..={}", i * 100_000 + 1, (i + 1) * 100_000))
        .collect();
    let file = d.join("s/many.yaml");
    std::fs::write(
        &file,
        format!(
            "cases:\n  - name: many\n    each: {{var: a, values: \"{}\"}}\n    request: {{method: POST, path: /p}}\n",
            ranges.join(", ")
        ),
    )
    .unwrap();
    let bin = env!("CARGO_BIN_EXE_cms-contract");
    let started = std::time::Instant::now();
    let o = Command::new("sh")
        .current_dir(root())
        .args(["-c", "ulimit -v 1048576 && exec \"$@\"", "sh", bin, "check"])
        .arg(&file)
        .env("NO_COLOR", "1")
        .env_remove("CMS_BASE_URL")
        .env_remove("CMS_PROFILE")
        .output()
        .unwrap();
    let elapsed = started.elapsed();
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains("error: too many cases: 4000000 with these, over the limit of 100000"),
        "{t}"
    );
    assert!(t.contains("many.yaml:3:28"), "{t}");
    assert!(t.contains("--max-cases N"), "{t}");
    assert!(elapsed < std::time::Duration::from_secs(1), "{elapsed:?}");

    let o = cli(&["check", "--max-cases", "0"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("give a whole number from 1"), "{}", text(&o));
    let o = cli(&["list", "--max-cases", "5"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(text(&o).contains("over the limit of 5"), "{}", text(&o));
}
