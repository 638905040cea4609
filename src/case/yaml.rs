//! YAML reading for every file a user writes (case files, `_defaults.yaml`,
//! contract manifests, profiles): strict YAML 1.2 booleans, duplicate keys
//! refused, zero-led numerals (`0100002`) kept as text, sizes capped, and serde-saphyr's errors turned into located
//! errors in the case format's words.

use super::error::{did_you_mean, LoadError};
use super::files::{self, ReadError, MAX_CASE_FILE_BYTES};
use crate::location::Location;
use std::path::Path;
use std::sync::Arc;

fn yaml_options() -> serde_saphyr::Options {
    serde_saphyr::options! {
        strict_booleans: true,
        with_snippet: false,
        duplicate_keys: serde_saphyr::DuplicateKeyPolicy::Error,
        // `resultCode: 0100002` is the code "0100002", as the spec writes
        // it, not the number 100002: zero-led numerals stay text.
        leading_zero_numbers_as_strings: true,
    }
}

/// Parse a YAML file into `T`, turning serde-saphyr errors into located ones.
pub(crate) fn parse_yaml<T: serde::de::DeserializeOwned>(
    path: &Path,
    keys_hint: &[&str],
) -> Result<T, LoadError> {
    let text = files::read_text(path, MAX_CASE_FILE_BYTES).map_err(|e| {
        let err = LoadError::new(
            Location::file_only(path),
            format!("cannot read `{}`: {e}", path.display()),
        );
        match e {
            ReadError::TooLarge(_) => err.help("split it into several files"),
            ReadError::NotRegular(_) => {
                err.help("case files, `_defaults.yaml` and profiles are regular files")
            }
            _ => err,
        }
    })?;
    parse_yaml_str(path, &text, keys_hint)
}

/// Parse YAML text that came from `path`.
pub(crate) fn parse_yaml_str<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
    keys_hint: &[&str],
) -> Result<T, LoadError> {
    serde_saphyr::from_str_with_options::<T>(text, yaml_options())
        .map_err(|e| yaml_error(path, &e, keys_hint))
}

fn yaml_error(path: &Path, e: &serde_saphyr::Error, keys_hint: &[&str]) -> LoadError {
    let file = Arc::new(path.to_path_buf());
    let loc = e.location().map_or_else(
        || Location::file_only(path),
        |l| Location::from_yaml(&file, &l),
    );
    match e {
        serde_saphyr::Error::SerdeUnknownField {
            field, expected, ..
        } => {
            let err = LoadError::new(loc, format!("unknown field `{field}`"));
            let err = match did_you_mean(field, expected.iter().copied()) {
                Some(s) => err.label(format!("did you mean `{s}`?")),
                None => err.label("not allowed here"),
            };
            err.help(format!("expected one of: {}", expected.join(", ")))
        }
        serde_saphyr::Error::SerdeMissingField { field, .. } => {
            LoadError::new(loc, format!("missing field `{field}`"))
                .label(format!("add `{field}:` here"))
        }
        // Say these in the case format's words, not serde's advice to Rust developers.
        serde_saphyr::Error::NullIntoString { .. } => {
            LoadError::new(loc, "expected a string, found null")
                .label("write a string here (quote it, e.g. \"~\", if you mean the text)")
        }
        serde_saphyr::Error::DuplicateMappingKey { key, .. } => {
            let what = key
                .as_deref()
                .map_or("a key".to_string(), |k| format!("`{k}`"));
            LoadError::new(loc, format!("duplicate key {what}")).label("remove one of them")
        }
        serde_saphyr::Error::NonFiniteFloat { value, .. } => {
            LoadError::new(loc, format!("`{value}` is not a JSON number"))
                .label("write a finite number")
        }
        serde_saphyr::Error::Unexpected { expected, .. } => {
            let what = match *expected {
                "sequence start" => "a list",
                "mapping start" => "a mapping",
                other => other,
            };
            LoadError::new(loc, format!("expected {what}")).label("fix the value here")
        }
        serde_saphyr::Error::SerdeInvalidType {
            unexpected,
            expected,
            ..
        } => LoadError::new(loc, format!("expected {expected}, found {unexpected}"))
            .label("fix the value here"),
        other => {
            let text = other.to_string();
            let first = text.lines().next().unwrap_or("invalid YAML").to_string();
            let msg = strip_location_suffix(&first);
            let err = LoadError::new(loc.clone(), msg).label("fix the YAML here");
            // The key list only helps for mistakes at the top level of the file.
            if keys_hint.is_empty() || loc.column > 1 {
                err
            } else {
                err.help(format!("top-level keys: {}", keys_hint.join(", ")))
            }
        }
    }
}

fn strip_location_suffix(s: &str) -> String {
    match s.rfind(" at line ") {
        Some(i) => s[..i].to_string(),
        None => s.to_string(),
    }
}
