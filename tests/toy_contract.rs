//! An endpoint is a folder, not a Rust change: a made-up contract written
//! from scratch in a temporary folder (a manifest, two schemas, three case
//! entries, one invariant) runs against a loopback stub server through the
//! same session as the shipped contracts. The stub can be made to break the
//! invariant; the failure then cites the toy's own table and row. This is
//! the README's "Add an endpoint" recipe, followed to the letter.

use cms_contract::report::{text, Style};
use cms_contract::result::{CaseResult, Outcome};
use cms_contract::session::{Session, SessionOptions};
use cms_contract::settings::{Env, Layer};
use std::path::{Path, PathBuf};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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

const CASES: &str = r#"
cases:
  - name: sample
    description: the sample exchange (toy.md)
    request:
      query: {id: 7}
    expect:
      body: {code: "OK", item: {id: 7}}
  - name: out_of_range
    request:
      query: {id: 101}
    expect:
      body: {code: "BAD"}
  - name: bounds
    generate: boundaries
    request:
      query: {id: 50}
"#;

/// The toy contract folder and its suite, under a fresh temporary folder.
fn toy() -> (PathBuf, PathBuf) {
    let root = std::env::temp_dir().join(format!("cms-contract-toy-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
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
    std::fs::write(suite.join("items.yaml"), CASES).unwrap();
    (root.join("schemas"), root.join("cases"))
}

/// A stub of the toy endpoint on loopback: ids 1-100 are items (echoed,
/// or echoed plus one when `off_by_one`), anything else is refused.
async fn stub(off_by_one: bool) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        loop {
            let Ok((mut sock, _)) = listener.accept().await else {
                return;
            };
            tokio::spawn(async move {
                let mut buf = Vec::new();
                let mut chunk = [0u8; 4096];
                // Head, then Content-Length bytes of body.
                let body = loop {
                    let n = sock.read(&mut chunk).await.unwrap_or(0);
                    if n == 0 {
                        return;
                    }
                    buf.extend_from_slice(&chunk[..n]);
                    let Some(end) = find(&buf, b"\r\n\r\n") else {
                        continue;
                    };
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let len: usize = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse().ok())
                        .unwrap_or(0);
                    if buf.len() >= end + 4 + len {
                        break buf[end + 4..end + 4 + len].to_vec();
                    }
                };
                let id = serde_json::from_slice::<serde_json::Value>(&body)
                    .ok()
                    .and_then(|v| v.get("id").and_then(serde_json::Value::as_i64));
                let reply = match id {
                    Some(id) if (1..=100).contains(&id) => {
                        let echoed = if off_by_one { id + 1 } else { id };
                        format!(r#"{{"code":"OK","item":{{"id":{echoed},"name":"item {id}"}}}}"#)
                    }
                    _ => r#"{"code":"BAD","item":"id out of range"}"#.to_owned(),
                };
                let response = format!(
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{reply}",
                    reply.len()
                );
                let _ = sock.write_all(response.as_bytes()).await;
            });
        }
    });
    format!("http://{addr}")
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

async fn run(schemas: &Path, cases: &Path, target: &str) -> Vec<CaseResult> {
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

#[tokio::test]
async fn a_new_endpoint_is_a_folder_and_runs_green_against_a_conforming_server() {
    let (schemas, cases) = toy();
    let target = stub(false).await;
    let results = run(&schemas, &cases, &target).await;
    let report: Vec<String> = results
        .iter()
        .filter(|r| r.outcome() != Outcome::Pass)
        .map(|r| text::render(r, Style { color: false }))
        .collect();
    assert!(report.is_empty(), "{}", report.join("\n"));
    // sample, out_of_range, and the boundaries the toy's Table 2 row 1
    // (int, 1-100) makes, all derived from its request schema.
    let ids: Vec<&str> = results.iter().map(|r| r.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "toy::sample",
            "toy::out_of_range",
            "toy::bounds::id_1_accepted",
            "toy::bounds::id_100_accepted",
            "toy::bounds::id_0_rejected",
            "toy::bounds::id_101_rejected",
            "toy::bounds::id_float_rejected",
            "toy::bounds::id_string_rejected",
            "toy::bounds::id_null_rejected",
            "toy::bounds::id_missing_rejected",
        ]
    );
}

#[tokio::test]
async fn the_toy_invariant_catches_a_server_that_breaks_it_and_cites_the_toy_table() {
    let (schemas, cases) = toy();
    let target = stub(true).await;
    let results = run(&schemas, &cases, &target).await;
    let sample = results.iter().find(|r| r.id == "toy::sample").unwrap();
    assert_eq!(sample.outcome(), Outcome::Fail);
    let inv = sample
        .failures
        .iter()
        .find(|f| f.message.starts_with("invariant echo_id is false"))
        .unwrap_or_else(|| panic!("{:?}", sample.failures));
    assert_eq!(
        inv.message,
        "invariant echo_id is false: payload.id = 8, request.query.id = 7"
    );
    assert_eq!(
        inv.rule.as_deref(),
        Some("Table 4 row 1 id = the requested id (Table 2 row 1)")
    );
    assert!(
        inv.source.to_string().ends_with("toy/contract.yaml:27:11"),
        "{}",
        inv.source
    );
    // The body matcher names the toy's schema row too.
    let report = text::render(sample, Style { color: false });
    assert!(report.contains("Table 4 row 1 id"), "{report}");
}
