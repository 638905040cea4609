//! Recorded replies ("snapshots") beside case files, for vendors who capture
//! a baseline from one version and check the next. A snapshot lives in
//! `<case folder>/__snapshots__/<case name>.json` (`::` → `__`) and holds the
//! status and the normalised body. `--bless` (or `CMS_CONTRACT_BLESS=1`)
//! writes them; it is refused in CI. Snapshots are never read or written
//! through a symbolic link, and their paths never leave `__snapshots__/`.

use super::error::LoadError;
use super::files::{self, ReadError};
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

/// Longest snapshot file name stem kept as is; longer names are cut and
/// get a hash (file systems refuse names over 255 bytes).
const MAX_STEM: usize = 200;

/// The first 8 hex digits of the SHA-256 of `text`: a short, stable tag
/// that keeps escaped names distinct.
pub(crate) fn short_hash(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes())[..4]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The snapshot file name of case `name`: `::` becomes `__`, so a name of
/// letters, digits, `_`, `-` and `.` keeps the file name it always had
/// (`boundary::x` → `boundary__x.json`). Anything else (which loading
/// refuses, so only a name built by other code) has every other character
/// replaced by `_` and a hash of the name appended, as has an overlong
/// name: the result is always one plain file name, never a path.
pub fn file_name(name: &str) -> String {
    let stem = name.replace("::", "__");
    let plain = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.');
    if !stem.is_empty()
        && stem.len() <= MAX_STEM
        && !stem.starts_with('.')
        && stem.chars().all(plain)
    {
        return format!("{stem}.json");
    }
    let cut: String = stem
        .chars()
        .map(|c| if plain(c) { c } else { '_' })
        .take(MAX_STEM)
        .collect();
    format!("_{cut}-{}.json", short_hash(name))
}

/// Where the snapshot of case `name` from `case_file` lives: always directly
/// in `<case folder>/__snapshots__/`.
pub fn path_for(case_file: &Path, name: &str) -> PathBuf {
    snapshot_dir(case_file).join(file_name(name))
}

/// `<case folder>/__snapshots__` for `case_file`.
pub fn snapshot_dir(case_file: &Path) -> PathBuf {
    case_file
        .parent()
        .unwrap_or(Path::new(""))
        .join(SNAPSHOT_DIR)
}

/// What a file that is not a regular one is, in words ("a symbolic link").
pub fn kind(meta: &std::fs::Metadata) -> &'static str {
    files::kind(meta)
}

/// Refuse a `__snapshots__` that is a symbolic link (or not a folder): its
/// files would live outside the suite. `Ok(false)` when it does not exist.
pub fn check_dir(dir: &Path) -> Result<bool, String> {
    match std::fs::symlink_metadata(dir) {
        Ok(m) if m.is_dir() => Ok(true),
        Ok(m) => Err(format!(
            "`{}` is {}, not a folder; snapshots are never read or written through it",
            dir.display(),
            files::kind(&m)
        )),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(e) => Err(format!("cannot read `{}`: {e}", dir.display())),
    }
}

/// Largest snapshot read, in bytes (64 MiB): far above a normalised reply
/// under the default 16 MiB reply cap, and a bound on what a run reads.
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
    match check_dir(&snapshot_dir(case_file)) {
        Ok(true) => {}
        Ok(false) => return Ok(None),
        Err(message) => {
            return Err(
                LoadError::new(Location::file_only(&snapshot_dir(case_file)), message)
                    .without_snippet()
                    .help("make `__snapshots__` a plain folder inside the suite (or delete it)"),
            )
        }
    }
    // A link here could point anywhere: it is refused, never followed.
    let text = match files::read_text_no_follow(&path, MAX_SNAPSHOT_BYTES) {
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
pub fn document(
    status: u16,
    body: Option<&Value>,
    volatile: &dyn Fn(&str, &Value) -> bool,
) -> Value {
    json!({ "status": status, "body": body.map_or(Value::Null, |b| normalize(b, volatile)) })
}

/// Replace values that change by themselves with typed placeholders, so
/// snapshots are portable across runs: the contract's volatile keys (for
/// agentbyworkno `currentStateTime` always, `loginDate` unless it is the
/// 4294967295000 sentinel). Steps are only ever appended, so old snapshots
/// keep passing.
pub fn normalize(v: &Value, volatile: &dyn Fn(&str, &Value) -> bool) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| {
                    let nv = if volatile(k, v) && v.is_number() {
                        Value::String(format!(
                            "$VOLATILE_{}",
                            if v.is_i64() || v.is_u64() {
                                "INTEGER"
                            } else {
                                "NUMBER"
                            }
                        ))
                    } else {
                        normalize(v, volatile)
                    };
                    (k.clone(), nv)
                })
                .collect::<Map<_, _>>(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|x| normalize(x, volatile)).collect()),
        other => other.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// agentbyworkno's `volatile:` list, as its manifest writes it.
    fn volatile(k: &str, v: &Value) -> bool {
        k.eq_ignore_ascii_case("currentStateTime")
            || (k.eq_ignore_ascii_case("loginDate") && v.as_i64() != Some(4_294_967_295_000))
    }

    fn none(_: &str, _: &Value) -> bool {
        false
    }

    #[test]
    fn volatile_fields_become_typed_placeholders() {
        let v = json!({"resultDesc": {"currentStateTime": 5, "loginDate": 1722556800000i64, "workNo": 1},
                       "resultDatas": {"logindate": 4294967295000i64, "currentstatetime": "x"}});
        assert_eq!(
            normalize(&v, &volatile),
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
        std::fs::write(&p, document(200, Some(&json!({"a": 1})), &none).to_string()).unwrap();
        assert_eq!(
            read(&file, "boundary::x").unwrap().unwrap().body,
            json!({"a": 1})
        );
    }

    #[test]
    fn file_names_keep_plain_names_and_are_always_one_plain_file() {
        assert_eq!(file_name("sample_exchange"), "sample_exchange.json");
        assert_eq!(file_name("inv::agent_101"), "inv__agent_101.json");
        assert_eq!(
            file_name("b::agentId_-1_rejected"),
            "b__agentId_-1_rejected.json"
        );
        assert_eq!(file_name("inv::v_1.5"), "inv__v_1.5.json");
        for hostile in [
            "inv::agent_../../../../tmp/x",
            "..",
            "",
            "a/b",
            "a\\b",
            "a\0b",
            ".hidden",
            &"x".repeat(300),
        ] {
            let f = file_name(hostile);
            assert!(f.len() < 255, "{f}");
            assert!(f.starts_with('_') && f.ends_with(".json"), "{f}");
            let comps: Vec<_> = Path::new(&f).components().collect();
            assert!(
                matches!(comps[..], [std::path::Component::Normal(_)]),
                "{hostile:?} -> {f}"
            );
            let p = path_for(Path::new("/suite/s/a.yaml"), hostile);
            assert_eq!(p.parent(), Some(Path::new("/suite/s/__snapshots__")));
        }
        assert_ne!(file_name("a/b"), file_name("a\\b"));
    }

    /// A link planted among the snapshots, or in place of the folder, is
    /// refused and never read.
    #[cfg(unix)]
    #[test]
    fn snapshot_links_are_refused() {
        let dir =
            std::env::temp_dir().join(format!("cms-contract-snap-links-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let outside = dir.join("outside.json");
        std::fs::create_dir_all(dir.join("s").join(SNAPSHOT_DIR)).unwrap();
        std::fs::write(
            &outside,
            document(200, Some(&json!({"a": 1})), &none).to_string(),
        )
        .unwrap();
        let file = dir.join("s/a.yaml");
        std::os::unix::fs::symlink(&outside, path_for(&file, "x")).unwrap();
        let e = read(&file, "x").unwrap_err();
        assert!(
            e.message.contains("not a regular file (a symbolic link)"),
            "{e:?}"
        );
        assert!(!e.render().contains("status"), "{}", e.render());

        let file = dir.join("t/a.yaml");
        std::fs::create_dir_all(dir.join("t")).unwrap();
        std::os::unix::fs::symlink(&dir, dir.join("t").join(SNAPSHOT_DIR)).unwrap();
        std::fs::copy(&outside, dir.join("x.json")).unwrap();
        let e = read(&file, "x").unwrap_err();
        assert!(
            e.message.contains("is a symbolic link, not a folder"),
            "{e:?}"
        );
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A snapshot that exists but cannot be used fails loading; it is never
    /// taken for "no snapshot" (which would let the case pass unchecked).
    #[cfg(unix)]
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
        let good = document(200, Some(&json!({"a": 1})), &none).to_string();
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
