//! The JUnit report validates against a JUnit XSD (tests/fixtures/junit.xsd)
//! with xmllint, for passing, failing, erroring and warning cases, including
//! text that needs escaping. Needs `xmllint` (libxml2-utils; `.ci/run`
//! installs it): a missing tool fails the test, it is never skipped.

mod common;

use std::path::Path;
use std::process::Command;

fn xmllint(xml: &Path) -> std::process::Output {
    let xsd = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/junit.xsd");
    Command::new("xmllint")
        .args(["--noout", "--schema"])
        .arg(&xsd)
        .arg(xml)
        .output()
        .expect(
            "xmllint is needed for this test: apt-get install libxml2-utils (.ci/run installs it)",
        )
}

#[test]
fn junit_reports_validate_against_the_xsd() {
    let dir = std::env::temp_dir().join(format!("cms-contract-junit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    // Green with warnings (and TLS verification off, a run property), red
    // with failures (HTML bodies need escaping), and transport errors.
    let runs: [&[&str]; 3] = [
        &["run", "--sim-variant", "extra-field", "--insecure"],
        &["run", "--sim-fault", "html-error"],
        &["run", "--target", "http://127.0.0.1:9", "--tag", "sample"],
    ];
    for (i, args) in runs.iter().enumerate() {
        let path = dir.join(format!("junit-{i}.xml"));
        let mut a: Vec<&str> = args.to_vec();
        if i == 2 {
            a.extend(common::REAL_TARGET_VARS);
        }
        let p = path.to_str().unwrap().to_string();
        a.extend(["--junit", &p]);
        let mut c = Command::new(env!("CARGO_BIN_EXE_cms-contract"));
        c.current_dir(env!("CARGO_MANIFEST_DIR"))
            .args(&a)
            .env("NO_COLOR", "1")
            .env_remove("CMS_BASE_URL");
        if i == 2 {
            c.env("CMS_AK", "a").env("CMS_SK", "b");
        }
        let run = c.output().unwrap();
        assert!(
            run.status.code().is_some_and(|c| c <= 1),
            "{}",
            String::from_utf8_lossy(&run.stderr)
        );
        let v = xmllint(&path);
        assert!(
            v.status.success(),
            "junit report {i} does not validate:\n{}\n{}",
            String::from_utf8_lossy(&v.stderr),
            std::fs::read_to_string(&path).unwrap()
        );
        let xml = std::fs::read_to_string(&path).unwrap();
        match i {
            0 => {
                assert!(xml.contains("<system-out>warning: invariant unknown_fields is false for /resultDesc: agent.filter(k, !(k in consts.table4_keys)) = [&quot;skillGroup&quot;] (keys outside Table 4)"), "{xml}");
                assert!(xml.contains("<property name=\"tls.verify\" value=\"off\"/>"));
            }
            1 => assert!(xml.contains("&lt;") && xml.contains("<failure ")),
            _ => assert!(xml.contains("<error message=\"cannot connect")),
        }
    }
    // The XSD is not vacuous: a report missing required attributes fails it.
    let bad = dir.join("bad.xml");
    std::fs::write(&bad, "<testsuites tests=\"1\"><testsuite name=\"s\"><testcase name=\"x\"/></testsuite></testsuites>").unwrap();
    assert!(!xmllint(&bad).status.success());
}
