//! Recorded replies ("snapshots") beside case files, for vendors who capture
//! a baseline from one version and check the next. A snapshot lives in
//! `<case folder>/__snapshots__/<case name>.json` (`::` → `__`) and holds the
//! status and the normalised body. `--bless` (or `CMS_CONTRACT_BLESS=1`)
//! writes them; it is refused in CI.

use super::error::LoadError;
use crate::contract::LOGIN_DATE_SENTINEL;
use crate::location::Location;
use serde_json::{json, Map, Value};
use std::path::{Path, PathBuf};

/// Folder name of snapshots, beside the case files.
pub const SNAPSHOT_DIR: &str = "__snapshots__";

/// A recorded reply.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    /// HTTP status recorded.
    pub status: u16,
    /// Normalised body recorded (`null` when the reply was not JSON).
    pub body: Value,
    /// The snapshot file.
    pub source: Location,
}

/// Where the snapshot of case `name` from `case_file` lives.
pub fn path_for(case_file: &Path, name: &str) -> PathBuf {
    let dir = case_file.parent().unwrap_or(Path::new(""));
    dir.join(SNAPSHOT_DIR)
        .join(format!("{}.json", name.replace("::", "__")))
}

/// Read the snapshot of case `name`, if one was recorded.
pub fn read(case_file: &Path, name: &str) -> Result<Option<Snapshot>, LoadError> {
    let path = path_for(case_file, name);
    let Ok(text) = std::fs::read_to_string(&path) else {
        return Ok(None);
    };
    let loc = Location::file_only(&path);
    let doc: Value = serde_json::from_str(&text).map_err(|e| {
        LoadError::new(
            Location::new(loc.file.clone(), e.line() as u32, e.column() as u32),
            format!("invalid snapshot: {e}"),
        )
        .help("re-record it with `cms-contract run --bless`, or delete it")
    })?;
    let status = doc
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok());
    let (Some(status), Some(body)) = (status, doc.get("body")) else {
        return Err(LoadError::new(loc, "a snapshot holds `status` and `body`")
            .help("re-record it with `cms-contract run --bless`, or delete it"));
    };
    Ok(Some(Snapshot {
        status,
        body: body.clone(),
        source: loc,
    }))
}

/// The snapshot document for a reply.
pub fn document(status: u16, body: Option<&Value>) -> Value {
    json!({ "status": status, "body": body.map_or(Value::Null, normalize) })
}

/// Replace values that change by themselves with typed placeholders, so
/// snapshots are portable across runs: `currentStateTime` always,
/// `loginDate` unless it is the 4294967295000 sentinel. Steps are only ever
/// appended, so old snapshots keep passing.
pub fn normalize(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let key = k.to_ascii_lowercase();
                    let volatile = key == "currentstatetime"
                        || (key == "logindate" && v.as_i64() != Some(LOGIN_DATE_SENTINEL));
                    let nv = if volatile && v.is_number() {
                        Value::String(format!(
                            "$VOLATILE_{}",
                            if v.is_i64() || v.is_u64() {
                                "INTEGER"
                            } else {
                                "NUMBER"
                            }
                        ))
                    } else {
                        normalize(v)
                    };
                    (k.clone(), nv)
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normalize).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volatile_fields_become_typed_placeholders() {
        let v = json!({"resultDesc": {"currentStateTime": 5, "loginDate": 1722556800000i64, "workNo": 1},
                       "resultDatas": {"logindate": 4294967295000i64, "currentstatetime": "x"}});
        assert_eq!(
            normalize(&v),
            json!({"resultDesc": {"currentStateTime": "$VOLATILE_INTEGER", "loginDate": "$VOLATILE_INTEGER", "workNo": 1},
                   "resultDatas": {"logindate": 4294967295000i64, "currentstatetime": "x"}})
        );
    }

    #[test]
    fn paths_and_reading() {
        let dir = std::env::temp_dir().join(format!("cms-contract-snap-{}", std::process::id()));
        let file = dir.join("s/a.yaml");
        let p = path_for(&file, "boundary::x");
        assert_eq!(p, dir.join("s/__snapshots__/boundary__x.json"));
        assert_eq!(read(&file, "boundary::x").unwrap(), None);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(&p, "{\"status\": 200}").unwrap();
        assert!(read(&file, "boundary::x").is_err());
        std::fs::write(&p, document(200, Some(&json!({"a": 1}))).to_string()).unwrap();
        assert_eq!(
            read(&file, "boundary::x").unwrap().unwrap().body,
            json!({"a": 1})
        );
    }
}
