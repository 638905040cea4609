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

fn suite() -> PathBuf {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases/agentbyworkno");
    let dir = std::env::temp_dir().join(format!(
        "cms-contract-bless-{}/agentbyworkno",
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
    let dir = suite();
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
    let dir = suite();
    let o = cli(&["run", dir.to_str().unwrap(), "--bless"], true);
    assert_eq!(o.status.code(), Some(2), "{}", text(&o));
    assert!(
        text(&o).contains("refusing to write snapshots in CI"),
        "{}",
        text(&o)
    );
    assert!(!dir.join("__snapshots__").exists());
}
