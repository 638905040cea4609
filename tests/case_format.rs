//! The case-file JSON Schema (`cms-contract schema`) agrees with the loader:
//! every shipped case file and `_defaults.yaml` validates, and typical
//! mistakes are rejected by both.

use cms_contract::case::Node;
use serde_json::Value;
use std::path::Path;

fn schema() -> Value {
    serde_json::from_str(cms_contract::case::case_file_schema()).unwrap()
}

fn yaml_to_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap();
    let node: Node = serde_saphyr::from_str(&text).unwrap();
    node.to_json()
}

#[test]
fn shipped_case_files_validate_against_the_case_file_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("cases");
    let s = schema();
    let cases = jsonschema::validator_for(&s).unwrap();
    let defaults = jsonschema::options().build(&serde_json::json!({"$ref": "#/definitions/defaults", "definitions": s["definitions"].clone()})).unwrap();
    let mut n = 0;
    let files = std::fs::read_dir(&root)
        .unwrap()
        .flat_map(|suite| std::fs::read_dir(suite.unwrap().path()).unwrap())
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"));
    for p in files {
        let doc = yaml_to_json(&p);
        let v = if p.file_name().unwrap() == "_defaults.yaml" {
            &defaults
        } else {
            &cases
        };
        let errors: Vec<String> = v
            .iter_errors(&doc)
            .map(|e| format!("{}: {e}", e.instance_path()))
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", p.display());
        n += 1;
    }
    assert!(n >= 9, "expected every shipped case file, found {n}");
}

#[test]
fn schema_rejects_what_the_loader_rejects() {
    let v = jsonschema::validator_for(&schema()).unwrap();
    for bad in [
        serde_json::json!({"cases": []}),
        serde_json::json!({"cases": [{"name": "a", "expcet": {}}]}),
        serde_json::json!({"cases": [{"name": "a b"}]}),
        serde_json::json!({"cases": [{"name": "a", "request": {"auth": "maybe"}}]}),
        serde_json::json!({"cases": [{"name": "a", "request": {"headers": {"Authorization": "x"}}}]}),
        serde_json::json!({"cases": [{"name": "a", "expect": {"rules": ["echo"]}}]}),
        serde_json::json!({"cases": [{"name": "a", "each": {"var": "a/b", "values": [1]}}]}),
    ] {
        assert!(!v.is_valid(&bad), "{bad}");
    }
}
