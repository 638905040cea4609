//! Reporters: turn [`CaseResult`](crate::run::CaseResult)s into text, JUnit
//! XML and JSON. They decide nothing; they print what the runner decided.

pub mod diff;
pub mod html;
pub mod json;
pub mod junit;
pub mod text;

/// Facts about the whole run that every report file states, beside the
/// per-case results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunInfo {
    /// What was tested: a base URL, or `embedded simulator`.
    pub target: String,
    /// Whether TLS certificates were verified: `false` under `--insecure`
    /// or profile `tls.insecure`, when a report must say that the replies
    /// may not come from the CMS they claim to.
    pub tls_verify: bool,
}

impl RunInfo {
    /// `on` or `off`.
    pub fn tls_word(&self) -> &'static str {
        if self.tls_verify {
            "on"
        } else {
            "off"
        }
    }

    /// The sentence reports show.
    pub fn tls_line(&self) -> &'static str {
        if self.tls_verify {
            "TLS verification: on"
        } else {
            "TLS verification: off (--insecure or profile tls.insecure): certificates were NOT verified"
        }
    }
}

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
