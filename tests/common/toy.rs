//! A made-up endpoint, "toy": a contract folder written from scratch (a
//! manifest, two schemas, one invariant), for tests that show the engine
//! needs no Rust change for a new endpoint. Its server is a loopback stub.

use cms_contract::result::CaseResult;
use cms_contract::session::{Session, SessionOptions};
use cms_contract::settings::{Env, Layer};
use std::path::{Path, PathBuf};

const MANIFEST: &str = r#"
contract: toy
title: the toy item query
spec: toy.md
method: POST
content_type: application/json
releases:
  - name: "v1"
    cites: toy.md "Versions"
    path: /toy/item
    envelope: current
envelopes:
  current:
    cites: Table 3
    outcome: /code
    success: "OK"
    invalid_parameter: "BAD"
    payload: /item
request:
  fields: request.json
  shapes:
    flat: {schema: request.json}
boundaries:
  accepted_schema: response.json
  refused_schema: response.json
invariants:
  - name: echo_id
    cites: Table 4 row 1 id = the requested id (Table 2 row 1)
    when: success && type(payload) == map
    expr: payload.id == request.query.id
"#;

const REQUEST: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Table 2 request body",
  "type": "object",
  "required": ["id"],
  "additionalProperties": false,
  "properties": {
    "id": {"title": "Table 2 row 1 id (int, 1-100)", "type": "integer", "minimum": 1, "maximum": 100}
  }
}"#;

const RESPONSE: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "title": "Table 3 envelope",
  "type": "object",
  "required": ["code", "item"],
  "properties": {
    "code": {"title": "Table 3 row 1 code", "enum": ["OK", "BAD"]},
    "item": {
      "title": "Table 3 row 2 item (Table 4 on success, a message on error)",
      "oneOf": [
        {"type": "string"},
        {
          "type": "object",
          "required": ["id", "name"],
          "properties": {
            "id": {"title": "Table 4 row 1 id", "type": "integer"},
            "name": {"title": "Table 4 row 2 name", "type": "string"}
          }
        }
      ]
    }
  }
}"#;

/// The toy contract folder and a suite of `files`, under a fresh temporary
/// folder.
pub fn folder(files: &[(&str, &str)]) -> Toy {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let contract = root.join("schemas/toy");
    std::fs::create_dir_all(&contract).unwrap();
    std::fs::write(contract.join("contract.yaml"), MANIFEST).unwrap();
    std::fs::write(contract.join("request.json"), REQUEST).unwrap();
    std::fs::write(contract.join("response.json"), RESPONSE).unwrap();
    let suite = root.join("cases/toy");
    std::fs::create_dir_all(&suite).unwrap();
    std::fs::write(
        suite.join("_defaults.yaml"),
        "contract: toy\nexpect:\n  schema: response.json\n",
    )
    .unwrap();
    for (name, text) in files {
        std::fs::write(suite.join(name), text).unwrap();
    }
    Toy {
        schemas: root.join("schemas"),
        cases: root.join("cases"),
        _dir: dir,
    }
}

/// The toy's folders, removed when dropped.
pub struct Toy {
    /// The schema root (holds `toy/`).
    pub schemas: PathBuf,
    /// The cases root (holds `toy/`).
    pub cases: PathBuf,
    _dir: tempfile::TempDir,
}

/// Run the suites under `cases` against `target`, with the contracts under
/// `schemas` only.
pub async fn run(schemas: &Path, cases: &Path, target: &str) -> Vec<CaseResult> {
    let env: Env = [("CMS_AK", "toy-ak"), ("CMS_SK", "toy-sk")]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    let session = Session::prepare(
        SessionOptions {
            flags: Layer {
                target: Some(target.parse().unwrap()),
                ..Layer::default()
            },
            schemas: Some(schemas.to_path_buf()),
            embedded: None,
            force_embedded: false,
        },
        &env,
    )
    .unwrap_or_else(|e| panic!("session: {e}"));
    let set = session
        .load(&[cases.to_path_buf()], &mut Vec::new())
        .and_then(|s| s.to_vec())
        .unwrap_or_else(|e| panic!("{}", e.render()));
    let live = session.start().await.expect("start");
    live.runner.run_all(&set, 4, |_| {}).await
}
