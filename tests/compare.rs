//! `cms-contract compare` between simulator releases, faults and variants.

use std::process::{Command, Output};

fn compare(baseline: &str, candidate: &str, paths: &[&str]) -> (Option<i32>, String) {
    let o: Output = Command::new(env!("CARGO_BIN_EXE_cms-contract"))
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .args(["compare", "--baseline", baseline, "--candidate", candidate])
        .args(paths)
        .env("NO_COLOR", "1")
        .env_remove("CMS_BASE_URL")
        .env_remove("CMS_PROFILE")
        .output()
        .unwrap();
    (
        o.status.code(),
        format!(
            "{}{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        ),
    )
}

fn matrix_row(out: &str, path: &str, change: &str, class: &str) -> bool {
    out.lines().any(|l| {
        let cols: Vec<&str> = l
            .split("  ")
            .map(str::trim)
            .filter(|c| !c.is_empty())
            .collect();
        cols.len() == 4 && cols[0] == path && cols[1] == change && cols[2] == class
    })
}

#[test]
fn same_release_has_no_changes() {
    let (code, out) = compare("sim", "sim:2024-08", &[]);
    assert_eq!(code, Some(0), "{out}");
    assert!(
        out.contains("compare result: 0 breaking, 0 non-breaking"),
        "{out}"
    );
}

#[test]
fn legacy_release_is_breaking_field_by_field() {
    let (code, out) = compare("sim:2024-08", "sim:8.13", &["cases/agentbyworkno"]);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        matrix_row(&out, "/resultDesc", "field removed", "breaking"),
        "{out}"
    );
    assert!(
        matrix_row(&out, "/resultDatas/workNo", "field removed", "breaking"),
        "{out}"
    );
    assert!(
        matrix_row(&out, "/resultDatas/workno", "field added", "non-breaking"),
        "{out}"
    );
    assert!(
        !out.contains("/resultDatas/citstatus               enum value added"),
        "renamed fields are not enum changes: {out}"
    );
}

#[test]
fn new_enum_value_and_type_change_are_breaking_an_extra_field_is_not() {
    let (code, out) = compare(
        "sim",
        "sim:2024-08:status-9",
        &["cases/agentbyworkno/invariants.yaml"],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(out.contains("enum value added: 9"), "{out}");
    assert!(
        matrix_row(&out, "/resultDesc/status", "enum value added", "breaking"),
        "{out}"
    );

    let (code, out) = compare(
        "sim",
        "sim:2024-08:work-no-string",
        &["cases/agentbyworkno/sample.yaml"],
    );
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.contains("/resultDesc/workNo: type changed: integer → string"),
        "{out}"
    );

    let (code, out) = compare(
        "sim",
        "sim:2024-08:extra-field",
        &["cases/agentbyworkno/sample.yaml"],
    );
    assert_eq!(code, Some(0), "{out}");
    assert!(
        matrix_row(
            &out,
            "/resultDesc/skillGroup",
            "field added",
            "non-breaking"
        ),
        "{out}"
    );
}

#[test]
fn releases_with_the_same_reply_shape_are_compatible_and_bad_sides_are_usage_errors() {
    // The 2025-11 simulator has the same data: currentStateTime/loginDate never count.
    let (code, out) = compare(
        "sim:2024-08",
        "sim:2025-11",
        &["cases/agentbyworkno/invariants.yaml"],
    );
    assert_eq!(code, Some(0), "{out}");
    let (code, out) = compare("sim:2030-01", "sim", &[]);
    assert_eq!(code, Some(2), "{out}");
    assert!(out.contains("unknown release"), "{out}");
}
