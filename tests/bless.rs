//! Record and bless: capture replies from one version as snapshots, check
//! the next against them; never write in CI.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn cli(args: &[&str], ci: bool) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_cms-contract"));
    c.current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(args)
        .env("NO_COLOR", "1");
    for k in ["CMS_BASE_URL", "CMS_PROFILE", "CMS_CONTRACT_BLESS", "CI"] {
        c.env_remove(k);
    }
    if ci {
        c.env("CI", "true");
    }
    c.output().unwrap()
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A copy of part of the shipped suite in its own temporary folder (`tag`
/// keeps tests that run at once apart).
fn suite(tag: &str) -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases/agentbyworkno");
    let dir = std::env::temp_dir().join(format!(
        "cms-contract-bless-{tag}-{}/agentbyworkno",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    for f in ["_defaults.yaml", "sample.yaml", "invariants.yaml"] {
        std::fs::copy(root.join(f), dir.join(f)).unwrap();
    }
    dir
}

#[test]
fn bless_records_and_the_next_version_is_checked_against_it() {
    let dir = suite("record");
    let d = dir.to_str().unwrap();
    let o = cli(&["run", d, "--bless"], false);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(
        text(&o).contains("blessed: 22 snapshots written"),
        "{}",
        text(&o)
    );
    let snap = std::fs::read_to_string(dir.join("__snapshots__/sample_exchange.json")).unwrap();
    assert!(
        snap.contains("\"currentStateTime\": \"$VOLATILE_INTEGER\""),
        "{snap}"
    );
    assert!(
        snap.contains("\"loginDate\": 4294967295000"),
        "the sentinel is kept: {snap}"
    );
    assert!(dir
        .join("__snapshots__/known_agents__agent_101.json")
        .is_file());

    // Same version: green.
    let o = cli(&["run", d], false);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));

    // Next version: contract-conforming, but the data changed (every mediaType 0).
    let o = cli(&["run", d, "--sim-variant", "media-zero"], false);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(
        t.contains("[snapshot] /resultDesc/mediaType differs from the snapshot"),
        "{t}"
    );
    assert!(
        t.contains("__snapshots__/known_agents__agent_102.json"),
        "{t}"
    );
    assert!(t.contains("cms-contract run --bless"), "{t}");
}

#[test]
fn bless_is_refused_in_ci() {
    let dir = suite("ci");
    let o = cli(&["run", dir.to_str().unwrap(), "--bless"], true);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("refusing to write snapshots in CI"),
        "{}",
        text(&o)
    );
    assert!(!dir.join("__snapshots__").exists());
}

/// A snapshot that is there but cannot be used (a folder, not UTF-8, not
/// readable) stops the run with its path; the case never passes unchecked.
#[test]
fn an_unusable_snapshot_fails_the_run() {
    let dir = suite("unusable");
    let d = dir.to_str().unwrap();
    let o = cli(&["run", d, "--bless", "--filter", "sample_exchange"], false);
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let snap = dir.join("__snapshots__/sample_exchange.json");
    assert!(snap.is_file());

    std::fs::write(&snap, b"{\"status\": 200, \"body\": \"\xff\"}").unwrap();
    let o = cli(&["run", d, "--filter", "sample_exchange"], false);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("cannot read snapshot"), "{t}");
    assert!(t.contains("sample_exchange.json"), "{t}");
    assert!(t.contains("not UTF-8"), "{t}");

    std::fs::remove_file(&snap).unwrap();
    std::fs::create_dir(&snap).unwrap();
    let o = cli(&["run", d, "--filter", "sample_exchange"], false);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("not a regular file (a folder)"), "{t}");
}

/// `each` values from a variable cannot steer snapshot paths out of the
/// suite: a located error, exit 2, nothing written anywhere.
#[test]
fn bless_never_writes_outside_the_suites_snapshot_folder() {
    let dir = suite("traversal");
    let d = dir.to_str().unwrap();
    let outside = dir.parent().unwrap().join("outside");
    std::fs::create_dir_all(&outside).unwrap();
    // Enough `..` to reach `/` from inside __snapshots__ (the first one only
    // ends the name `known_agents__agent_..`), then down to `outside/x`.
    let ups = "../".repeat(dir.join("__snapshots__").components().count() + 1);
    let value = format!("{ups}{}/x", outside.display());
    for (args, env) in [
        (
            vec!["--var".to_string(), format!("known_agents={value}")],
            None,
        ),
        (vec![], Some(("CMS_VAR_known_agents", value.as_str()))),
    ] {
        let mut c = Command::new(env!("CARGO_BIN_EXE_cms-contract"));
        c.current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(["run", d, "--bless"])
            .args(&args)
            .env("NO_COLOR", "1");
        for k in ["CMS_BASE_URL", "CMS_PROFILE", "CMS_CONTRACT_BLESS", "CI"] {
            c.env_remove(k);
        }
        if let Some((k, v)) = env {
            c.env(k, v);
        }
        let o = c.output().unwrap();
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{t}");
        assert!(t.contains("cannot be part of a case name"), "{t}");
        assert!(t.contains("invariants.yaml:9:"), "{t}");
        assert!(t.contains("variable `known_agents`"), "{t}");
        assert!(!outside.join("x.json").exists());
        assert_eq!(std::fs::read_dir(&outside).unwrap().count(), 0);
        assert!(!dir.join("__snapshots__").exists(), "nothing written: {t}");
    }
}

/// A snapshot link planted in the suite is neither read nor written through,
/// and neither is a `__snapshots__` link.
#[cfg(unix)]
#[test]
fn planted_snapshot_links_are_refused() {
    let dir = suite("planted");
    let d = dir.to_str().unwrap();
    let outside = dir.parent().unwrap().join("outside.json");
    let precious = "{\"status\": 200, \"body\": {\"precious\": true}}\n";
    std::fs::write(&outside, precious).unwrap();
    std::fs::create_dir_all(dir.join("__snapshots__")).unwrap();
    std::os::unix::fs::symlink(&outside, dir.join("__snapshots__/sample_exchange.json")).unwrap();
    for bless in [false, true] {
        let mut args = vec!["run", d, "--filter", "sample_exchange"];
        if bless {
            args.push("--bless");
        }
        let o = cli(&args, false);
        let t = text(&o);
        assert_eq!(o.status.code(), Some(2), "{t}");
        assert!(t.contains("not a regular file (a symbolic link)"), "{t}");
        assert!(!t.contains("precious"), "the link target was read: {t}");
        assert_eq!(std::fs::read_to_string(&outside).unwrap(), precious);
    }

    // `__snapshots__` itself a link to a folder outside the suite.
    std::fs::remove_dir_all(dir.join("__snapshots__")).unwrap();
    let elsewhere = dir.parent().unwrap().join("elsewhere");
    std::fs::create_dir_all(&elsewhere).unwrap();
    std::os::unix::fs::symlink(&elsewhere, dir.join("__snapshots__")).unwrap();
    let o = cli(&["run", d, "--filter", "sample_exchange", "--bless"], false);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(2), "{t}");
    assert!(t.contains("is a symbolic link, not a folder"), "{t}");
    assert_eq!(std::fs::read_dir(&elsewhere).unwrap().count(), 0);
}

#[test]
fn bless_writes_no_snapshot_for_a_flow() {
    // A flow has several replies and is checked by its relations: a
    // snapshot of its first reply would be written and never read.
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases/family");
    let dir = std::env::temp_dir().join(format!(
        "cms-contract-bless-flows-{}/family",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let mut flows = 0;
    for f in std::fs::read_dir(&root).unwrap() {
        let f = f.unwrap().path();
        std::fs::copy(&f, dir.join(f.file_name().unwrap())).unwrap();
        let text = std::fs::read_to_string(&f).unwrap();
        flows += text.matches("\n    flow:").count();
    }
    assert!(flows >= 5, "{flows}");
    let o = cli(&["run", dir.to_str().unwrap(), "--bless"], false);
    let t = text(&o);
    assert_eq!(o.status.code(), Some(0), "{t}");
    assert!(
        t.contains(&format!(
            "blessed: 0 snapshots written (0 cases had no reply, {flows} flows have none)"
        )),
        "{t}"
    );
    assert!(!dir.join("__snapshots__").exists(), "{t}");
    let _ = std::fs::remove_dir_all(dir.parent().unwrap());
}
