//! Recorded replies ("snapshots") beside case files, for vendors who capture
//! a baseline from one version and check the next. A snapshot lives in
//! `<case folder>/__snapshots__/<case name>.json` (`::` → `__`) and holds the
//! status and the normalised body. `--bless` (or `CMS_CONTRACT_BLESS=1`)
//! writes them; it is refused in CI.

use super::error::LoadError;
use super::files::{self, ReadError};
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

/// Largest snapshot read, in bytes (64 MiB): far above a normalised reply
/// under the default 1 MiB reply cap, and a bound on what a run reads.
pub const MAX_SNAPSHOT_BYTES: u64 = 64 * 1024 * 1024;

/// What to do about a snapshot that cannot be used.
const SNAPSHOT_HELP: &str =
    "a snapshot is the JSON file `cms-contract run --bless` writes: delete it, then re-record it";

/// Read the snapshot of case `name`, if one was recorded. Only "no file at
/// that path" means "no snapshot": a snapshot that exists but cannot be
/// read (permissions, a folder, not UTF-8, too large) is an error, never a
/// silently skipped check.
pub fn read(case_file: &Path, name: &str) -> Result<Option<Snapshot>, LoadError> {
    let path = path_for(case_file, name);
    let loc = Location::file_only(&path);
    let text = match files::read_text(&path, MAX_SNAPSHOT_BYTES) {
        Ok(text) => text,
        Err(ReadError::NotFound) => return Ok(None),
        Err(e) => {
            return Err(LoadError::new(
                loc,
                format!("cannot read snapshot `{}`: {e}", path.display()),
            )
            .without_snippet()
            .help(SNAPSHOT_HELP))
        }
    };
    let doc: Value = serde_json::from_str(&text).map_err(|e| {
        LoadError::new(
            Location::new(loc.file.clone(), e.line() as u32, e.column() as u32),
            format!("invalid snapshot: {e}"),
        )
        .help(SNAPSHOT_HELP)
    })?;
    let status = doc
        .get("status")
        .and_then(Value::as_u64)
        .and_then(|s| u16::try_from(s).ok());
    let (Some(status), Some(body)) = (status, doc.get("body")) else {
        return Err(LoadError::new(loc, "a snapshot holds `status` and `body`").help(SNAPSHOT_HELP));
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

    /// A snapshot that exists but cannot be used fails loading; it is never
    /// taken for "no snapshot" (which would let the case pass unchecked).
    #[test]
    fn unreadable_snapshots_are_errors() {
        let dir = std::env::temp_dir().join(format!(
            "cms-contract-snap-unreadable-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        let file = dir.join("s/a.yaml");
        let snaps = dir.join("s").join(SNAPSHOT_DIR);
        std::fs::create_dir_all(&snaps).unwrap();
        let good = document(200, Some(&json!({"a": 1}))).to_string();
        let message = |name: &str| read(&file, name).unwrap_err().message;

        std::fs::create_dir(snaps.join("folder.json")).unwrap();
        let m = message("folder");
        assert!(m.contains("not a regular file (a folder)"), "{m}");

        std::fs::write(
            snaps.join("latin1.json"),
            b"{\"status\": 200, \"body\": \"\xe9\"}",
        )
        .unwrap();
        let m = message("latin1");
        assert!(m.contains("not UTF-8"), "{m}");

        let locked = snaps.join("locked.json");
        std::fs::write(&locked, &good).unwrap();
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&locked, std::fs::Permissions::from_mode(0o000)).unwrap();
        }
        // Root reads mode 000 files: check the refusal only where it bites.
        if std::fs::File::open(&locked).is_err() {
            let m = message("locked");
            assert!(m.contains("cannot read snapshot"), "{m}");
        }

        let e = read(&file, "folder").unwrap_err();
        assert!(e.help.as_deref().unwrap().contains("delete it"), "{e:?}");
        assert!(e.render().contains("folder.json"), "{}", e.render());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
