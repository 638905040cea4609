//! Reporters: turn [`CaseResult`](crate::result::CaseResult)s into text, JUnit
//! XML and JSON. They decide nothing; they print what the runner decided.

pub mod diff;
pub mod html;
pub mod json;
pub mod junit;
pub mod text;

pub use crate::result::RunInfo;

/// Output styling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    /// ANSI colours on.
    pub color: bool,
}

impl Style {
    /// Colours when `stream_is_tty` and `NO_COLOR` is unset or empty
    /// (<https://no-color.org>); `CLICOLOR_FORCE=1` forces them on.
    pub fn detect(stream_is_tty: bool) -> Self {
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        let force = std::env::var_os("CLICOLOR_FORCE").is_some_and(|v| !v.is_empty() && v != "0");
        Self {
            color: !no_color && (force || stream_is_tty),
        }
    }

    /// Wrap `s` in an ANSI colour code when colours are on.
    pub fn paint(&self, code: &str, s: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_string()
        }
    }
}
