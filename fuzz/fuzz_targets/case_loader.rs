//! Arbitrary bytes as a case file. `load_str` must never panic; what it
//! returns is either cases located in the file, or errors that are each
//! located in the file, carry a message and render.

#![no_main]

use cms_contract::case::{load_str, LoadOptions, Vars};
use libfuzzer_sys::fuzz_target;
use std::path::Path;
use std::sync::OnceLock;

/// The name the input is loaded as (it also gives the suite, `fuzz`).
const CASE_FILE: &str = "cases/fuzz/input.yaml";

fn options() -> &'static LoadOptions {
    static OPTIONS: OnceLock<LoadOptions> = OnceLock::new();
    OPTIONS.get_or_init(|| {
        let mut vars = Vars::new();
        for (k, v) in [
            ("ccId", "1"),
            ("vdn", "1"),
            ("agentId", "101"),
            ("known_agents", "101..=103"),
            ("unknown_agent", "555"),
        ] {
            vars.set(k, v, "fuzz");
        }
        LoadOptions {
            vars,
            // The shipped request schema, for `generate: boundaries`,
            // wherever cargo-fuzz runs the target from.
            schema_dir: Path::new(env!("CARGO_MANIFEST_DIR")).join("../schemas/agentbyworkno"),
            ..LoadOptions::default()
        }
    })
}

fuzz_target!(|data: &[u8]| {
    // Case files are read as UTF-8; other bytes never reach the loader.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let path = Path::new(CASE_FILE);
    match load_str(path, text, options()) {
        Ok(cases) => {
            assert!(!cases.is_empty(), "Ok with zero cases");
            for c in &cases {
                assert_eq!(c.source.file.as_path(), path);
            }
        }
        Err(errs) => {
            assert!(!errs.0.is_empty(), "Err with zero errors");
            for e in &errs.0 {
                assert_eq!(e.location.file.as_path(), path, "{e:?}");
                assert!(!e.message.trim().is_empty(), "{e:?}");
                let shown = e.render_with_source(Some(text));
                assert!(shown.starts_with("error: "), "{shown}");
            }
        }
    }
});
