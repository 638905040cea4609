//! `cargo test` / `cargo nextest` glue: every case becomes a libtest-mimic
//! trial named `<suite>::<case>`; a failure shows the rendered report; a
//! case that does not apply, or that the reply cannot decide, is ignored
//! with its reason.
//!
//! Settings are the CLI's, from the environment (libtest-mimic takes no
//! custom flags): `CMS_BASE_URL` / `CMS_PROFILE` / `CMS_VAR_*` / `CMS_AK` /
//! `CMS_SK` / `CMS_RELEASE` / `CMS_OPTION_*`, and `CMS_TAG` /
//! `CMS_EXCLUDE_TAG` to select cases; with no target, `embedded`.

use crate::case::Case;
use crate::report::{text, Style};
use crate::result::{Outcome, SkipKind};
use crate::session::{Embedded, Session, SessionOptions};
use crate::settings::{process_env, Env};
use libtest_mimic::{Arguments, Completion, Conclusion, Failed, Trial};
use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;

/// Run the suite under `root` (which holds `cases/` and `schemas/`) as
/// trials, against the configured target or `embedded`.
pub fn main(root: &Path, embedded: Option<Arc<dyn Embedded>>) -> ExitCode {
    let args = Arguments::from_args();
    match run(&args, root, embedded, &process_env()) {
        Ok(conclusion) => conclusion.exit_code(),
        Err(message) => {
            eprintln!("{message}");
            ExitCode::from(2)
        }
    }
}

/// [`main`] with its arguments and environment given: the trials that
/// `env` selects (`CMS_TAG`, `CMS_EXCLUDE_TAG`, ...), run as `args` says.
/// `Err` is a rendered setup error (exit code 2), such as a selection that
/// matches no case.
pub fn run(
    args: &Arguments,
    root: &Path,
    embedded: Option<Arc<dyn Embedded>>,
    env: &Env,
) -> Result<Conclusion, String> {
    let session = Session::prepare(
        SessionOptions {
            schemas: Some(root.join("schemas")),
            embedded,
            ..SessionOptions::default()
        },
        env,
    )
    .map_err(|e| e.to_string())?;
    let mut warnings = Vec::new();
    let loaded = session.load(&[root.join("cases")], &mut warnings);
    for w in &warnings {
        eprintln!("{w}");
    }
    let cases = loaded
        .and_then(|set| set.to_vec())
        .map_err(|e| e.render())?;
    let mut cases: Vec<Case> = cases.into_iter().filter(|c| session.selects(c)).collect();
    // An empty run is a failure (a typo in CMS_TAG must not pass).
    if cases.is_empty() {
        return Err(format!(
            "error: no case matches the selection (CMS_TAG {:?}, CMS_EXCLUDE_TAG {:?}); an empty run is a failure",
            session.settings.tags, session.settings.exclude_tags
        ));
    }
    let bless = crate::bless::requested(false, &|k| env.get(k).cloned())
        .map_err(|e| format!("error: {e}"))?;
    if bless {
        crate::bless::forget_snapshots(&mut cases);
    }
    if args.list {
        let trials = cases
            .iter()
            .map(|c| Trial::test(c.id(), || Ok(())))
            .collect();
        return Ok(libtest_mimic::run(args, trials));
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => Arc::new(rt),
        Err(e) => return Err(format!("error: cannot start the async runtime: {e}")),
    };
    for n in &session.notices {
        eprintln!("{n}");
    }
    let live = runtime
        .block_on(session.start())
        .map_err(|e| e.to_string())?;
    let runner = Arc::new(live.runner.clone());
    let style = Style::for_stream(anstream::ColorChoice::Auto, &std::io::stdout());
    let trials = cases
        .into_iter()
        .map(|case| {
            let (rt, runner) = (runtime.clone(), runner.clone());
            Trial::ignorable_test(case.id(), move || {
                let r = rt.block_on(runner.run_case(&case));
                if bless {
                    crate::bless::write(std::slice::from_ref(&case), std::slice::from_ref(&r))
                        .map_err(|e| Failed::from(format!("cannot write the snapshot: {e}")))?;
                }
                match r.outcome() {
                    Outcome::Pass => Ok(Completion::Completed),
                    Outcome::Skipped | Outcome::Inconclusive => {
                        let skip = r.skipped.as_ref();
                        let word = match skip.map(|s| s.kind) {
                            Some(SkipKind::Inconclusive) => "inconclusive",
                            _ => "not applicable",
                        };
                        Ok(Completion::ignored_with(format!(
                            "{word}: {}",
                            skip.map_or("", |s| s.reason.as_str())
                        )))
                    }
                    Outcome::Fail | Outcome::Error => Err(Failed::from(text::render(&r, style))),
                }
            })
        })
        .collect();
    let conclusion = libtest_mimic::run(args, trials);
    drop(live);
    Ok(conclusion)
}
