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
