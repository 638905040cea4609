//! Tests of the schema layer against the shipped contracts and toy ones.

use super::*;
use crate::contract::load_contract;
use serde_json::json;

fn set() -> Arc<SchemaSet> {
    crate::testing::agentbyworkno("2024-08")
}

fn set9() -> Arc<SchemaSet> {
    let c = crate::testing::contract("agentbyworkno");
    let r = c.default_release().clone();
    crate::testing::catalog(&[("status9", "allowed")])
        .get(&c, &r)
        .expect("schemas compile")
}

fn agent() -> Value {
    json!({"workNo":101,"vdnId":1,"citStatus":0,"name":"HW35154101",
               "phoneNumber":null,"loginDate":4294967295000_i64,"currentStateTime":436879,
               "mediaType":0,"status":2})
}

/// The spec's sample response.
fn sample() -> Value {
    json!({"result":"0","resultCode":"0100000","resultDatas":agent(),"resultDesc":agent()})
}

/// The sample with `resultDesc` changed by `edit`.
fn sample_with(edit: impl FnOnce(&mut serde_json::Map<String, Value>)) -> Value {
    let mut body = sample();
    if let Some(desc) = body.get_mut("resultDesc").and_then(Value::as_object_mut) {
        edit(desc);
    }
    body
}

fn violations(set: &SchemaSet, name: &str, instance: &Value) -> Vec<SchemaViolation> {
    set.validate(name, instance).expect("schema exists")
}

/// Exactly one violation, returned.
fn only(set: &SchemaSet, name: &str, instance: &Value) -> SchemaViolation {
    let mut found = violations(set, name, instance);
    assert_eq!(found.len(), 1, "{name}: {found:#?}");
    found.remove(0)
}

fn rule(v: &SchemaViolation) -> &str {
    v.rule.as_deref().unwrap_or("<none>")
}

/// A toy contract `toy` in a fresh folder under the system temp dir,
/// removed on drop: a manifest naming `req.json`, plus what a test writes.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        let root =
            std::env::temp_dir().join(format!("cms-contract-schema-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let path = root.join("toy");
        std::fs::create_dir_all(&path).expect("create temp dir");
        let t = TempDir(path);
        t.write(
                "contract.yaml",
                "contract: toy\ntitle: t\nspec: t.md\nmethod: POST\ncontent_type: application/json\n\
                 releases: [{name: r1, cites: c, path: /p, envelope: e}]\n\
                 envelopes: {e: {cites: c, outcome: /code, success: ok, invalid_parameter: bad, payload: /data}}\n\
                 request: {fields: req.json, shapes: {flat: {schema: req.json}}}\n",
            );
        t.write("req.json", r#"{"type":"object"}"#);
        t
    }

    fn write(&self, name: &str, text: &str) {
        std::fs::write(self.0.join(name), text).expect("write temp file");
    }

    /// The toy contract's schema set of release r1.
    fn set(&self) -> Result<SchemaSet, SchemaError> {
        let c = load_contract(&self.0).expect("the toy manifest loads");
        let r = c.default_release().clone();
        SchemaSet::load(&c, &r, &OptionValues::default())
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        if let Some(root) = self.0.parent() {
            let _ = std::fs::remove_dir_all(root);
        }
    }
}

#[test]
fn integer_positions_are_found_through_refs_and_branches() {
    let set = set();
    for name in ["success.json", "response.json"] {
        for (pointer, rule) in [
            ("/resultDesc/workNo", "Table 4 row 2.1 workNo (int)"),
            ("/resultDatas/vdnId", "Table 4 row 2.2 vdnId (int)"),
            (
                "/resultDesc/loginDate",
                "Table 4 row 2.6 loginDate (long, epoch ms ≥ 0)",
            ),
            (
                "/resultDesc/status",
                "Table 4 row 2.9 status (Table 5 values 0–8)",
            ),
        ] {
            assert_eq!(
                set.integer_at(name, pointer).as_deref(),
                Some(rule),
                "{name} {pointer}"
            );
        }
        for other in [
            "",
            "/resultCode",
            "/resultDesc",
            "/resultDesc/name",
            "/resultDesc/workNo/x",
            "/nope",
        ] {
            assert_eq!(set.integer_at(name, other), None, "{name} {other}");
        }
    }
    assert_eq!(set.integer_at("error.json", "/resultDesc"), None);
    assert_eq!(set.integer_at("missing.json", "/resultDesc/workNo"), None);
    let legacy = crate::testing::agentbyworkno("8.13");
    assert_eq!(
        legacy
            .integer_at("success.json", "/resultDatas/workno")
            .as_deref(),
        Some("Table 4 row 2.1 workNo (int)")
    );
    assert_eq!(
        legacy.integer_at("success.json", "/resultDatas/workNo"),
        None
    );
}

#[test]
fn integer_walks_end_on_ref_cycles_and_arrays_count() {
    let tmp = TempDir::new("integer-walk");
    tmp.write(
            "loop.json",
            r##"{"$id":"https://cms-contract.local/schemas/toy/loop.json","$defs":{"a":{"$ref":"#/$defs/b"},"b":{"$ref":"#/$defs/a"}},"properties":{"x":{"$ref":"#/$defs/a"},"list":{"prefixItems":[{"type":"string"}],"items":{"title":"T","type":["integer","null"]}}}}"##,
        );
    let set = tmp.set().expect("loads");
    assert_eq!(set.integer_at("loop.json", "/x"), None);
    assert_eq!(set.integer_at("loop.json", "/list/0"), None);
    assert_eq!(set.integer_at("loop.json", "/list/3").as_deref(), Some("T"));
}

#[test]
fn schema_set_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<SchemaSet>();
}

#[test]
fn names_lists_every_file_sorted() {
    assert_eq!(
        set().names(),
        [
            "agent.json",
            "error.json",
            "headers.json",
            "request-flat.json",
            "request.json",
            "response.json",
            "success.json"
        ]
    );
}

#[test]
fn spec_sample_response_is_valid() {
    let set = set();
    for name in ["success.json", "response.json"] {
        assert_eq!(violations(&set, name, &sample()), [], "{name}");
    }
    assert_eq!(violations(&set, "agent.json", &agent()), []);
}

#[test]
fn response_reports_the_nearest_envelope_not_just_one_of() {
    let body = sample_with(|d| {
        d.insert("citStatus".into(), json!(12));
    });
    let v = only(&set(), "response.json", &body);
    assert_eq!(v.instance_path, "/resultDesc/citStatus");
    assert_eq!(
        v.schema_path,
        "/oneOf/0/$ref/properties/resultDesc/$ref/properties/citStatus/enum"
    );
    assert_eq!(rule(&v), "Table 4 row 2.3 citStatus (CTI states 0–10)");
}

#[test]
fn any_status_of_table_5_takes_any_cti_state_here() {
    // Table 5's pairs are the contract's invariant status_cti, not schema.
    let set = set();
    for status in 0..=8 {
        for cti in 0..=10 {
            let body = sample_with(|d| {
                d.insert("status".into(), json!(status));
                d.insert("citStatus".into(), json!(cti));
            });
            assert_eq!(
                violations(&set, "success.json", &body),
                [],
                "{status}/{cti}"
            );
        }
    }
}

#[test]
fn work_no_as_string_breaks_table_4_row_2_1() {
    let body = sample_with(|d| {
        d.insert("workNo".into(), json!("101"));
    });
    let v = only(&set(), "success.json", &body);
    assert_eq!(v.instance_path, "/resultDesc/workNo");
    assert_eq!(
        v.schema_path,
        "/properties/resultDesc/$ref/properties/workNo/type"
    );
    assert_eq!(v.message, r#""101" is not of type "integer""#);
    assert_eq!(rule(&v), "Table 4 row 2.1 workNo (int)");
}

#[test]
fn missing_name_breaks_table_4() {
    let body = sample_with(|d| {
        d.remove("name");
    });
    let v = only(&set(), "success.json", &body);
    assert_eq!(v.instance_path, "/resultDesc");
    assert_eq!(v.schema_path, "/properties/resultDesc/$ref/required");
    assert_eq!(v.message, r#""name" is a required property"#);
    assert_eq!(
        rule(&v),
        "Table 4 agent object (rows 2.1–2.9, all keys required)"
    );
}

#[test]
fn media_type_30_breaks_table_4_row_2_8() {
    let body = sample_with(|d| {
        d.insert("mediaType".into(), json!(30));
    });
    let v = only(&set(), "success.json", &body);
    assert_eq!(v.instance_path, "/resultDesc/mediaType");
    assert_eq!(
        rule(&v),
        "Table 4 row 2.8 mediaType (media types 0–22, 50–55)"
    );
    // 23 is the media table's count sentinel, not a media type.
    let body = sample_with(|d| {
        d.insert("mediaType".into(), json!(23));
    });
    assert_eq!(
        only(&set(), "success.json", &body).instance_path,
        "/resultDesc/mediaType"
    );
    for ok in [0, 1, 22, 50, 55] {
        let body = sample_with(|d| {
            d.insert("mediaType".into(), json!(ok));
        });
        assert_eq!(violations(&set(), "success.json", &body), [], "{ok}");
    }
}

#[test]
fn status_9_is_rejected_by_default_and_allowed_by_the_option() {
    let body = sample_with(|d| {
        d.insert("status".into(), json!(9));
        d.insert("citStatus".into(), json!(8));
    });
    let v = only(&set(), "success.json", &body);
    assert_eq!(v.instance_path, "/resultDesc/status");
    assert_eq!(rule(&v), "Table 4 row 2.9 status (Table 5 values 0–8)");

    let set9 = set9();
    assert_eq!(violations(&set9, "success.json", &body), []);
    assert_eq!(violations(&set9, "response.json", &body), []);

    // Its CTI state is undocumented: any documented one is accepted.
    for cti in 0..=10 {
        let body = sample_with(|d| {
            d.insert("status".into(), json!(9));
            d.insert("citStatus".into(), json!(cti));
        });
        assert_eq!(violations(&set9, "success.json", &body), [], "cti {cti}");
    }
    // The option does not widen anything else.
    let status_10 = sample_with(|d| {
        d.insert("status".into(), json!(10));
    });
    let v = only(&set9, "success.json", &status_10);
    assert_eq!(
            rule(&v),
            "Table 4 row 2.9 status (Table 5 values 0–8, and 9 pre-rest: open question 5 set to allowed)"
        );
    // The 8.13 form takes the same patch.
    let c = crate::testing::contract("agentbyworkno");
    let legacy = crate::testing::catalog(&[("status9", "allowed")])
        .get(&c, c.release("8.13").unwrap())
        .expect("8.13 compiles with the patch");
    let v = legacy.document("agent.json").unwrap();
    assert!(v["properties"]["status"]["enum"]
        .as_array()
        .unwrap()
        .contains(&json!(9)));
}

#[test]
fn error_envelope_passes_error_and_response_not_success() {
    let set = set();
    let body = json!({"result":"1","resultCode":"0100002","resultDesc":"invalid parameter"});
    assert_eq!(violations(&set, "error.json", &body), []);
    assert_eq!(violations(&set, "response.json", &body), []);
    assert!(!violations(&set, "success.json", &body).is_empty());

    let without_result = json!({"resultCode":"0100999","resultDesc":"x","resultDatas":null});
    assert_eq!(violations(&set, "error.json", &without_result), []);
}

#[test]
fn error_envelope_rules() {
    let set = set();
    let cases = [
        (
            json!({"resultCode":"0100000","resultDesc":"ok?"}),
            "/resultCode",
            "Error codes: resultCode is \"01\" + 5 digits, not 0100000",
        ),
        (
            json!({"resultCode":"100002","resultDesc":"x"}),
            "/resultCode",
            "Error codes: resultCode is \"01\" + 5 digits, not 0100000",
        ),
        (
            json!({"result":"0","resultCode":"0100001","resultDesc":"x"}),
            "/result",
            "Table 3 row 1 result: on error, a string other than \"0\"",
        ),
        (
            json!({"resultCode":"0100001","resultDesc":{"workNo":1}}),
            "/resultDesc",
            "Error codes: resultDesc is a string on error",
        ),
        (
            json!({"resultCode":"0100001","resultDesc":"x","resultDatas":agent()}),
            "/resultDatas",
            "Error codes: resultDatas is absent or null on error (project decision)",
        ),
    ];
    for (body, at, expected) in cases {
        let v = only(&set, "error.json", &body);
        assert_eq!(
            (v.instance_path.as_str(), rule(&v)),
            (at, expected),
            "{body}"
        );
    }
}

#[test]
fn request_sample_passes_and_agent_id_out_of_table_2_fails() {
    let set = set();
    let sample = json!({"queryParam":{"ccId":1,"vdn":1,"agentId":101}});
    assert_eq!(violations(&set, "request.json", &sample), []);
    for bad in [json!(60000), json!(100), json!("101"), json!(1.5)] {
        let body = json!({"queryParam":{"ccId":1,"vdn":1,"agentId":bad}});
        // 1.5 breaks both `type` and `minimum`.
        let found = violations(&set, "request.json", &body);
        assert!(!found.is_empty(), "{bad}");
        for v in &found {
            assert_eq!(v.instance_path, "/queryParam/agentId", "{bad}");
            assert_eq!(rule(v), "Table 2 row 3 agentId (int, 101–59999)", "{bad}");
        }
    }
    for (body, at, expected) in [
        (
            json!({"queryParam":{"ccId":0,"vdn":1,"agentId":101}}),
            "/queryParam/ccId",
            "Table 2 row 1 ccId (int, 1–65535)",
        ),
        (
            json!({"queryParam":{"ccId":1,"vdn":5001,"agentId":101}}),
            "/queryParam/vdn",
            "Table 2 row 2 vdn (int, 1–5000)",
        ),
        (
            json!({"queryParam":{"ccId":1,"vdn":1}}),
            "/queryParam",
            "Table 2 fields (ccId, vdn, agentId, all required, no others)",
        ),
        (
            json!({"ccId":1,"vdn":1,"agentId":101}),
            "",
            "Table 2 request body, queryParam-wrapped (open question 1: the page's sample)",
        ),
    ] {
        let found = violations(&set, "request.json", &body);
        assert!(!found.is_empty(), "{body}");
        for v in &found {
            assert_eq!(
                (v.instance_path.as_str(), rule(v)),
                (at, expected),
                "{body}"
            );
        }
    }
}

#[test]
fn flat_request_reuses_the_table_2_fields() {
    let set = set();
    let flat = json!({"ccId":65535,"vdn":5000,"agentId":59999});
    assert_eq!(violations(&set, "request-flat.json", &flat), []);
    let wrapped = json!({"queryParam":{"ccId":1,"vdn":1,"agentId":101}});
    assert!(!violations(&set, "request-flat.json", &wrapped).is_empty());
    let v = only(
        &set,
        "request-flat.json",
        &json!({"ccId":1,"vdn":1,"agentId":60000}),
    );
    assert_eq!(v.instance_path, "/agentId");
    assert_eq!(v.schema_path, "/$ref/properties/agentId/maximum");
    assert_eq!(rule(&v), "Table 2 row 3 agentId (int, 101–59999)");
}

#[test]
fn headers_follow_table_1() {
    let set = set();
    let auth = "auth-v2/ak/2024-01-01T00:00:00Z/host/00";
    for content_type in [
        "application/json",
        "application/json; charset=UTF-8",
        "application/json;charset=utf-8",
    ] {
        let headers = json!({"content-type":content_type,"authorization":auth,"host":"h"});
        assert_eq!(
            violations(&set, "headers.json", &headers),
            [],
            "{content_type}"
        );
    }
    let v = only(
        &set,
        "headers.json",
        &json!({"content-type":"text/plain","authorization":auth}),
    );
    assert_eq!(
        rule(&v),
        "Table 1 row 1 Content-Type (application/json; charset=UTF-8)"
    );
    let v = only(
        &set,
        "headers.json",
        &json!({"content-type":"application/json","authorization":"Basic x"}),
    );
    assert_eq!(
        rule(&v),
        "Table 1 row 2 Authorization (C2 auth-v2 signature)"
    );
    let v = only(
        &set,
        "headers.json",
        &json!({"content-type":"application/json"}),
    );
    assert_eq!(v.message, r#""authorization" is a required property"#);
}

#[test]
fn unknown_extra_agent_key_is_not_a_schema_failure() {
    let body = sample_with(|d| {
        d.insert("skillId".into(), json!(3));
    });
    assert_eq!(violations(&set(), "success.json", &body), []);
}

#[test]
fn unknown_schema_name_lists_known_ones() {
    let error = set()
        .validate("agent", &json!({}))
        .expect_err("no such schema");
    let SchemaError::Unknown { name, known } = &error else {
        panic!("expected Unknown, got {error:?}");
    };
    assert_eq!(name, "agent");
    assert_eq!(known, &set().names());
    assert_eq!(
        error.to_string(),
        "unknown schema `agent`; did you mean `agent.json`? known schemas: agent.json, \
             error.json, headers.json, request-flat.json, request.json, response.json, \
             success.json"
    );
    let error = set()
        .validate("nope.json", &json!({}))
        .expect_err("no such schema");
    assert!(error
        .to_string()
        .starts_with("unknown schema `nope.json`; known schemas: agent.json, "));
}

#[test]
fn invalid_json_gives_line_and_column() {
    let tmp = TempDir::new("badjson");
    tmp.write(
        "broken.json",
        "{\n  \"type\": \"object\",\n  \"title\": }\n",
    );
    let error = tmp.set().expect_err("broken");
    let SchemaError::Json {
        path, line, column, ..
    } = &error
    else {
        panic!("expected Json, got {error:?}");
    };
    assert_eq!((path, *line, *column), (&tmp.0.join("broken.json"), 3, 12));
    assert_eq!(
        error.to_string(),
        format!(
            "{}:3:12: invalid JSON: expected value; fix the schema file",
            tmp.0.join("broken.json").display()
        )
    );
}

#[test]
fn schema_problems_are_compile_errors() {
    let tmp = TempDir::new("compile");
    tmp.write("a.json", r#"{"$ref":"missing.json"}"#);
    tmp.write("b.json", r#"{"type":"object"}"#);
    let error = tmp.set().expect_err("bad ref");
    assert_eq!(
        error.to_string(),
        format!(
            "{}: schema does not compile: $ref to \
                 https://cms-contract.local/schemas/toy/missing.json does not resolve: \
                 $refs resolve offline, only to the *.json files of {}; fix the schema file",
            tmp.0.join("a.json").display(),
            tmp.0.display()
        )
    );

    tmp.write("a.json", r#"{"type":"objekt"}"#);
    let error = tmp.set().expect_err("bad type");
    assert!(matches!(error, SchemaError::Compile { .. }), "{error:?}");

    tmp.write("a.json", r#"{"type":"string","format":"no-such-format"}"#);
    let error = tmp.set().expect_err("bad format");
    assert!(matches!(error, SchemaError::Compile { .. }), "{error:?}");

    tmp.write("a.json", r#"{"$id":"https://example.com/a.json"}"#);
    let error = tmp.set().expect_err("bad $id");
    assert_eq!(
        error.to_string(),
        format!(
            "{}: schema does not compile: $id is \"https://example.com/a.json\", expected \
                 \"https://cms-contract.local/schemas/toy/a.json\" (the base URI plus \
                 the file name, so that relative $refs between the files resolve); fix the \
                 schema file",
            tmp.0.join("a.json").display()
        )
    );

    // Refs resolve by file name.
    tmp.write("a.json", r#"{"type":"object"}"#);
    tmp.write("b.json", r#"{"properties":{"x":{"$ref":"a.json"}}}"#);
    let set = tmp.set().expect("loads");
    assert_eq!(violations(&set, "b.json", &json!({"x":{}})), []);
    assert_eq!(violations(&set, "b.json", &json!({"x":1})).len(), 1);
}

#[test]
fn a_patch_that_does_not_apply_is_a_located_compile_error() {
    let tmp = TempDir::new("patch");
    tmp.write("agent.json", r#"{"type":"object"}"#);
    std::fs::create_dir_all(tmp.0.join("options")).unwrap();
    tmp.write(
        "options/p.json",
        r#"[{"op":"add","path":"/properties/status/enum/-","value":9}]"#,
    );
    let c = load_contract(&tmp.0).expect("loads");
    let r = c.default_release().clone();
    let mut c = c;
    c.options.push(crate::contract::OptionDef {
        name: "o".into(),
        cites: "q".into(),
        description: "d".into(),
        choice: crate::contract::Choice::Values(vec!["a".into(), "b".into()]),
        default: "a".into(),
        patches: [(
            "b".to_string(),
            vec![("agent.json".to_string(), "options/p.json".to_string())],
        )]
        .into(),
    });
    let mut values = OptionValues::default();
    values.set("toy", "o", "b");
    let error = SchemaSet::load(&c, &r, &values).expect_err("patch fails");
    assert!(
        matches!(&error, SchemaError::Compile { path, .. } if path == &tmp.0.join("options/p.json")),
        "{error:?}"
    );
    assert!(
        error
            .to_string()
            .contains("the patch does not apply to `agent.json`"),
        "{error}"
    );
    values.set("toy", "o", "a");
    assert!(SchemaSet::load(&c, &r, &values).is_ok());
}

#[test]
fn the_catalog_compiles_once_per_contract_release_and_patches() {
    let a = set();
    let b = crate::testing::agentbyworkno("2024-08");
    assert!(Arc::ptr_eq(&a, &b));
    assert!(!Arc::ptr_eq(&a, &set9()));
    assert!(Arc::ptr_eq(&set9(), &set9()));
    assert!(!Arc::ptr_eq(&a, &crate::testing::agentbyworkno("2025-11")));
}

#[test]
fn the_2025_11_overlay_widens_agent_id() {
    let newer = crate::testing::agentbyworkno("2025-11");
    let body = json!({"queryParam":{"ccId":1,"vdn":1,"agentId":70000}});
    assert_eq!(violations(&newer, "request.json", &body), []);
    assert!(!violations(&set(), "request.json", &body).is_empty());
    assert_eq!(
        violations(
            &newer,
            "request-flat.json",
            &json!({"ccId":1,"vdn":1,"agentId":999999})
        ),
        []
    );
}

#[test]
fn titles_cite_the_row_governing_an_instance_pointer() {
    let set = set();
    for name in ["success.json", "response.json"] {
        for (pointer, title) in [
            ("/resultDesc/workNo", "Table 4 row 2.1 workNo (int)"),
            (
                "/resultDatas/citStatus",
                "Table 4 row 2.3 citStatus (CTI states 0–10)",
            ),
            ("/resultCode", "Table 3 row 2 resultCode"),
            (
                "/resultDesc",
                "Table 3 row 4 resultDesc (Table 4 agent object)",
            ),
        ] {
            assert_eq!(
                set.title_at(name, pointer).as_deref(),
                Some(title),
                "{name} {pointer}"
            );
        }
    }
    assert_eq!(
        set.title_at("error.json", "/resultDesc").as_deref(),
        Some("Error codes: resultDesc is a string on error")
    );
    assert_eq!(
        crate::testing::agentbyworkno("8.13")
            .title_at("success.json", "/resultDatas/citstatus")
            .as_deref(),
        Some("Table 4 row 2.3 citStatus (CTI states 0–10)")
    );
}

// `rule_for` on its own.

fn docs() -> BTreeMap<String, Value> {
    BTreeMap::from([
        (
            "outer.json".to_owned(),
            json!({
                "title": "outer",
                "properties": {
                    "title": { "type": "string" },
                    "a": { "title": "outer a", "$ref": "inner.json" },
                    "b": { "$ref": "#/$defs/b" },
                    "c": { "$ref": "https://cms-contract.local/schemas/agentbyworkno/inner.json#/$defs/deep" },
                    "d": { "$ref": "#anchor" }
                },
                "$defs": { "b": { "title": "outer $defs b", "type": "integer" } }
            }),
        ),
        (
            "inner.json".to_owned(),
            json!({
                "title": "inner",
                "allOf": [
                    { "title": "inner row 0", "then": { "properties": { "x": { "const": 1 } } } }
                ],
                "$defs": { "deep": { "title": "inner deep" } }
            }),
        ),
    ])
}

fn rule_for(documents: &BTreeMap<String, Value>, start: &str, path: &str) -> Option<String> {
    walk::Docs {
        documents,
        base: "https://cms-contract.local/schemas/agentbyworkno/",
    }
    .rule_for(start, path)
}

#[test]
fn rule_for_follows_refs_and_keeps_the_deepest_title() {
    let docs = docs();
    let cases = [
        ("", Some("outer")),
        ("/required", Some("outer")),
        ("/properties/title/type", Some("outer")),
        (
            "/properties/a/$ref/allOf/0/then/properties/x/const",
            Some("inner row 0"),
        ),
        ("/properties/a/$ref/type", Some("inner")),
        ("/properties/a/type", Some("outer a")),
        ("/properties/b/$ref/type", Some("outer $defs b")),
        ("/properties/c/$ref/type", Some("inner deep")),
        ("/properties/d/$ref/type", Some("outer")),
        ("/properties/zzz/type", Some("outer")),
        ("/allOf/x", Some("outer")),
    ];
    for (path, expected) in cases {
        assert_eq!(
            rule_for(&docs, "outer.json", path).as_deref(),
            expected,
            "{path}"
        );
    }
    assert_eq!(rule_for(&docs, "nope.json", ""), None);
    let untitled = BTreeMap::from([("u.json".to_owned(), json!({"type": "object"}))]);
    assert_eq!(rule_for(&untitled, "u.json", "/type"), None);
}

#[test]
fn rule_for_unescapes_pointer_segments() {
    let docs = BTreeMap::from([(
        "p.json".to_owned(),
        json!({"properties": {"a/b~c": {"title": "slash and tilde"}}}),
    )]);
    assert_eq!(
        rule_for(&docs, "p.json", "/properties/a~1b~0c/type").as_deref(),
        Some("slash and tilde")
    );
}

#[test]
fn nearest_branch_needs_a_unique_minimum() {
    assert_eq!(nearest_branch(&[vec![1, 2], vec![3]]), Some(&[3][..]));
    assert_eq!(nearest_branch(&[vec![1], vec![3]]), None);
    assert_eq!(nearest_branch::<u8>(&[vec![], vec![]]), None);
    assert_eq!(nearest_branch::<u8>(&[]), None);
}
