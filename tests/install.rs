//! The binary as an installed user meets it: run from a folder that is not
//! the checkout (the shipped cases and schemas come from the binary), `init`
//! for a first profile, and the README's real-CMS example against
//! `cms-contract serve`.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A folder outside the checkout, and a cache folder of its own.
struct Away {
    dir: tempfile::TempDir,
    cache: tempfile::TempDir,
}

impl Away {
    fn new() -> Self {
        Away {
            dir: tempfile::tempdir().unwrap(),
            cache: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self) -> &Path {
        self.dir.path()
    }

    /// The binary, run in this folder with this cache.
    fn cli(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cms-contract"));
        c.current_dir(self.path())
            .args(args)
            .env("NO_COLOR", "1")
            .env("XDG_CACHE_HOME", self.cache.path())
            .stdin(Stdio::null());
        for k in ["CMS_BASE_URL", "CMS_PROFILE", "CMS_AK", "CMS_SK", "CMS_TAG"] {
            c.env_remove(k);
        }
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().expect("run cms-contract")
    }

    /// Where the shipped copy went.
    fn shipped(&self) -> PathBuf {
        let base = self.cache.path().join("cms-contract");
        let found: Vec<PathBuf> = std::fs::read_dir(&base)
            .unwrap_or_else(|e| panic!("{}: {e}", base.display()))
            .map(|e| e.unwrap().path())
            .filter(|p| {
                p.file_name()
                    .unwrap()
                    .to_str()
                    .unwrap()
                    .starts_with("shipped-")
            })
            .collect();
        assert_eq!(found.len(), 1, "{found:?}");
        found[0].clone()
    }
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn outside_the_checkout_the_shipped_suites_run() {
    let away = Away::new();
    let o = away.cli(&["run", "--tag", "sample"], &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("6 passed, 0 failed"), "{t}");
    for what in [
        "no cases/: using the suites",
        "no schemas/: using the contracts",
    ] {
        assert!(
            t.contains(&format!(
                "note: this folder has {what} shipped in this binary"
            )),
            "{t}"
        );
    }
    let copy = away.shipped();
    // Every case and report names a real file and line in the copy.
    let o = away.cli(&["list", "--filter", "sample_exchange"], &[]);
    let t = String::from_utf8_lossy(&o.stdout).to_string();
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let file = copy.join("cases/agentbyworkno/sample.yaml");
    assert!(
        t.contains(&format!(
            "agentbyworkno::sample_exchange  ({}:",
            file.display()
        )),
        "{t}"
    );
    // Errors too: file:line:col and the quoted line.
    let o = away.cli(&["check", "--target", "https://cms.invalid:28080"], &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(
        t.contains("variables the cases need are not defined"),
        "{t}"
    );
    let located = format!(" --> {}/cases/agentbyworkno/", copy.display());
    assert!(t.contains(&located), "{t}");
    assert!(t.contains("${ccId}"), "the line is quoted: {t}");
    // `schema`, `sign --contract` and `compare` need no checkout either.
    let o = away.cli(&["schema"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = away.cli(
        &["sign", "--contract", "agentbyworkno", "--host", "h:1"],
        &[("CMS_AK", "ak"), ("CMS_SK", "sk-sk-sk-sk")],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let o = away.cli(
        &[
            "compare",
            "--baseline",
            "sim",
            "--candidate",
            "sim",
            "--tag",
            "sample",
        ],
        &[],
    );
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    // Blessing would write into the copy: refused, with the way out.
    let o = away.cli(&["run", "--bless", "--tag", "sample"], &[("CI", "")]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("cms-contract init --with-cases"), "{t}");
}

#[test]
fn given_paths_and_local_folders_win_over_the_shipped_ones() {
    let away = Away::new();
    // A folder of our own with one case, schemas from the checkout.
    std::fs::create_dir_all(away.path().join("cases/agentbyworkno")).unwrap();
    std::fs::copy(
        root().join("cases/agentbyworkno/_defaults.yaml"),
        away.path().join("cases/agentbyworkno/_defaults.yaml"),
    )
    .unwrap();
    std::fs::copy(
        root().join("cases/agentbyworkno/sample.yaml"),
        away.path().join("cases/agentbyworkno/sample.yaml"),
    )
    .unwrap();
    let schemas = root().join("schemas");
    let o = away.cli(&["list", "--schemas", schemas.to_str().unwrap()], &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(!t.contains("shipped in this binary"), "{t}");
    assert!(t.contains("(cases/agentbyworkno/sample.yaml:"), "{t}");
    // No schemas/ here: the shipped ones, with the local cases.
    let o = away.cli(&["list"], &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains("no schemas/: using the contracts shipped"),
        "{t}"
    );
    assert!(!t.contains("no cases/"), "{t}");
    assert!(t.contains("(cases/agentbyworkno/sample.yaml:"), "{t}");
    // A case path given wins over ./cases.
    let file = root().join("cases/agentbyworkno/errors.yaml");
    let o = away.cli(&["list", file.to_str().unwrap()], &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(!t.contains("(cases/agentbyworkno/sample.yaml:"), "{t}");
    assert!(t.contains(&format!("({}:", file.display())), "{t}");
}

#[cfg(unix)]
#[test]
fn a_changed_copy_is_written_anew_before_use() {
    let away = Away::new();
    assert_eq!(away.cli(&["check"], &[]).status.code(), Some(0));
    let copy = away.shipped();
    let sample = copy.join("cases/agentbyworkno/sample.yaml");
    std::fs::write(&sample, "cases: [oops\n").unwrap();
    std::fs::write(copy.join("cases/agentbyworkno/planted.yaml"), "cases: []\n").unwrap();
    let o = away.cli(&["check"], &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("was changed"), "{t}");
    assert!(!copy.join("cases/agentbyworkno/planted.yaml").exists());
    // A link planted in place of a file is replaced, never followed.
    std::fs::remove_file(&sample).unwrap();
    let outside = away.path().join("outside.yaml");
    std::fs::write(&outside, "not yours").unwrap();
    std::os::unix::fs::symlink(&outside, &sample).unwrap();
    let o = away.cli(&["check"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(std::fs::symlink_metadata(&sample).unwrap().is_file());
    assert_eq!(std::fs::read_to_string(&outside).unwrap(), "not yours");
    // Without a usable cache folder: a private temporary copy, removed after.
    let not_a_folder = away.path().join("file");
    std::fs::write(&not_a_folder, "").unwrap();
    let o = away.cli(
        &["check"],
        &[("XDG_CACHE_HOME", not_a_folder.to_str().unwrap())],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains("in a temporary folder for this run"), "{t}");
    let temp = t
        .lines()
        .find_map(|l| l.split("shipped in this binary (").nth(1))
        .map(|s| s.trim_end_matches(')').to_owned())
        .unwrap_or_else(|| panic!("{t}"));
    assert!(!Path::new(&temp).exists(), "{temp} was left behind");
}

#[test]
fn init_writes_a_profile_and_the_suites_but_overwrites_nothing() {
    let away = Away::new();
    let o = away.cli(&["init", "first", "--with-cases"], &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    let profile = away.path().join("first/profile.yaml");
    let written = std::fs::read_to_string(&profile).unwrap();
    assert!(written.contains("CMS_AK and CMS_SK"), "{written}");
    assert!(written.contains("cms-contract run --profile first/profile.yaml first/cases"));
    assert!(
        t.contains("cms-contract run --profile first/profile.yaml first/cases"),
        "{t}"
    );
    for (rel, _) in [
        ("agentbyworkno/sample.yaml", ()),
        ("agentbyworkno-legacy/legacy.yaml", ()),
    ] {
        assert_eq!(
            std::fs::read(away.path().join("first/cases").join(rel)).unwrap(),
            std::fs::read(root().join("cases").join(rel)).unwrap(),
            "{rel}"
        );
    }
    // Again: refused, named, nothing touched.
    std::fs::write(&profile, "# mine\n").unwrap();
    let o = away.cli(&["init", "first", "--with-cases"], &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("first/profile.yaml"), "{t}");
    assert!(t.contains("pass --force"), "{t}");
    assert_eq!(std::fs::read_to_string(&profile).unwrap(), "# mine\n");
    let o = away.cli(&["init", "first", "--with-cases", "--force"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&profile).unwrap(), written);
}

#[cfg(unix)]
#[test]
fn init_never_writes_through_a_link() {
    use std::os::unix::fs::symlink;
    let away = Away::new();
    let elsewhere = away.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    // DIR itself a link, or a folder on the way to it.
    symlink(&elsewhere, away.path().join("linked")).unwrap();
    for dir in ["linked", "linked/sub"] {
        let o = away.cli(&["init", dir], &[]);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{dir}: {t}");
        assert!(t.contains("`linked` is a symbolic link"), "{t}");
    }
    // A link inside DIR, even with --force.
    std::fs::create_dir(away.path().join("d")).unwrap();
    symlink(&elsewhere, away.path().join("d/cases")).unwrap();
    let o = away.cli(&["init", "d", "--with-cases", "--force"], &[]);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("d/cases` is a symbolic link"), "{t}");
    let target = away.path().join("elsewhere/p.yaml");
    std::fs::write(&target, "keep").unwrap();
    std::fs::create_dir(away.path().join("e")).unwrap();
    symlink(&target, away.path().join("e/profile.yaml")).unwrap();
    let o = away.cli(&["init", "e", "--force"], &[]);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep");
    assert_eq!(
        std::fs::read_dir(&elsewhere).unwrap().count(),
        1,
        "nothing written there"
    );
    assert!(
        !away.path().join("d/profile.yaml").exists(),
        "refused before writing"
    );
}

/// `cms-contract serve --port 0`; killed when dropped.
struct Serve {
    child: Child,
    url: String,
}

impl Serve {
    fn start(env: &[(&str, &str)]) -> Serve {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cms-contract"));
        c.args(["serve", "--port", "0"])
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        for (k, v) in env {
            c.env(k, v);
        }
        let mut child = c.spawn().expect("start cms-contract serve");
        let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
        let url = loop {
            let Some(Ok(line)) = lines.next() else {
                let _ = child.kill();
                panic!("serve ended before listening");
            };
            if let Some(rest) = line.split("listening on ").nth(1) {
                break rest.split_whitespace().next().unwrap().to_owned();
            }
        };
        Serve { child, url }
    }
}

impl Drop for Serve {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const SIM_KEYS: [(&str, &str); 2] = [("CMS_AK", "readme-ak"), ("CMS_SK", "readme-sk-value")];

#[test]
fn an_init_profile_is_green_against_serve() {
    // As written, the profile names serve's default port.
    let help = Command::new(env!("CARGO_BIN_EXE_cms-contract"))
        .args(["serve", "--help"])
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&help.stdout).contains("[default: 28080]"));
    let away = Away::new();
    let o = away.cli(&["init", "--with-cases"], &[]);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(std::fs::read_to_string(away.path().join("profile.yaml"))
        .unwrap()
        .contains("base_url: http://127.0.0.1:28080\n"));
    let serve = Serve::start(&SIM_KEYS);
    // An ephemeral port instead of 28080 (another run may hold it), and no
    // production pace (the profile's `rate`) against the simulator;
    // everything else as written.
    let o = away.cli(
        &[
            "run",
            "--profile",
            "profile.yaml",
            "--target",
            &serve.url,
            "--rate",
            "2000",
        ],
        &SIM_KEYS,
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(t.contains(" passed, 0 failed"), "{t}");
    assert!(!t.contains("no cases/"), "the copied cases ran: {t}");
}

/// The README's "Point it at a real CMS" command without a profile, run as
/// written against `cms-contract serve`: the simulator's data is what the
/// README says it is.
#[test]
fn the_readme_real_cms_example_is_green_against_serve() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme
        .split("\n## Point it at a real CMS\n")
        .nth(1)
        .expect("the README has a `Point it at a real CMS` section");
    let start = section
        .find("CMS_BASE_URL=")
        .expect("the section has a CMS_BASE_URL= example");
    let mut command = String::new();
    for line in section[start..].lines() {
        command.push_str(line.trim_end_matches('\\').trim());
        command.push(' ');
        if !line.ends_with('\\') {
            break;
        }
    }
    let words: Vec<&str> = command.split_whitespace().collect();
    assert!(
        words[0].starts_with("CMS_BASE_URL=") && words[1] == "cms-contract",
        "{command}"
    );
    // The one change: the example's production pace (`--rate`) is lifted,
    // as the simulator is no production CMS and the suite has hundreds of
    // cases; everything else runs as written.
    let mut args: Vec<&str> = words[2..].to_vec();
    if let Some(i) = args.iter().position(|w| *w == "--rate") {
        assert!(args.len() > i + 1, "{command}");
        args[i + 1] = "2000";
    }
    let serve = Serve::start(&SIM_KEYS);
    let away = Away::new();
    let o = away.cli(
        &args,
        &[("CMS_BASE_URL", &serve.url), SIM_KEYS[0], SIM_KEYS[1]],
    );
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "`{command}` against serve:\n{t}");
    assert!(t.contains(" passed, 0 failed"), "{t}");
}

/// The README's table of the simulator's variables is `reference_vars()`.
#[test]
fn the_readme_lists_the_simulators_variables() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let section = readme
        .split("\n## The simulator's data\n")
        .nth(1)
        .expect("the README has a `The simulator's data` section");
    let section = section.split("\n## ").next().unwrap();
    let vars = cms_sim::reference_vars();
    for (name, value) in &vars {
        let row = section
            .lines()
            .find(|l| l.starts_with(&format!("| `{name}` |")))
            .unwrap_or_else(|| panic!("no row for `{name}` in the README's simulator data"));
        let cell = row.split('|').nth(2).unwrap().trim().trim_matches('`');
        assert_eq!(cell, value, "README row for `{name}`");
    }
    let rows = section
        .lines()
        .filter(|l| l.starts_with("| `") && !l.starts_with("| `name"))
        .count();
    assert_eq!(rows, vars.len(), "one row per variable, no more");
    // The VDN table: each VDN's agents as ranges, `101–120, 59999`.
    let mut by_vdn: std::collections::BTreeMap<i64, Vec<i64>> = Default::default();
    for (vdn, work_no) in cms_sim::known_agents() {
        by_vdn.entry(vdn).or_default().push(work_no);
    }
    for (vdn, mut ids) in by_vdn.clone() {
        ids.sort_unstable();
        let mut runs: Vec<(i64, i64)> = Vec::new();
        for id in ids {
            match runs.last_mut() {
                Some((_, end)) if *end + 1 == id => *end = id,
                _ => runs.push((id, id)),
            }
        }
        let text: Vec<String> = runs
            .iter()
            .map(|(a, b)| {
                if a == b {
                    a.to_string()
                } else {
                    format!("{a}–{b}")
                }
            })
            .collect();
        let row = section
            .lines()
            .find(|l| l.starts_with(&format!("| {vdn} |")))
            .unwrap_or_else(|| panic!("no row for VDN {vdn} in the README's simulator data"));
        let cell = row.split('|').nth(2).unwrap().trim();
        assert_eq!(cell, text.join(", "), "README row for VDN {vdn}");
    }
    let vdn_rows = section
        .lines()
        .filter(|l| {
            l.split('|')
                .nth(1)
                .is_some_and(|c| c.trim().parse::<i64>().is_ok())
        })
        .count();
    assert_eq!(vdn_rows, by_vdn.len(), "one row per VDN, no more");
}
