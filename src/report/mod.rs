//! Reporters: turn [`CaseResult`](crate::result::CaseResult)s into text, JUnit
//! XML, JSON and HTML. They decide nothing; they print what the runner decided.
//! Each file report has a `Writer` that takes results one at a time, so a
//! run of any size is reported in bounded memory, and a `render` that
//! writes a whole run's results at once.

pub mod diff;
pub mod html;
pub mod json;
pub mod junit;
pub mod spool;
pub mod text;

pub use crate::result::RunInfo;

/// Output styling: whether colours are on. Colours are [`anstyle`]
/// styles; with colours off the text is exactly the plain text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Style {
    /// ANSI colours on.
    pub color: bool,
}

/// The colour of each kind of text in human reports.
pub mod palette {
    use anstyle::{AnsiColor, Style};

    /// A passed case.
    pub const PASS: Style = AnsiColor::Green.on_default();
    /// A failed case.
    pub const FAIL: Style = AnsiColor::Red.on_default().bold();
    /// A case that could not be run (transport error).
    pub const ERROR: Style = AnsiColor::Magenta.on_default().bold();
    /// A case that did not apply.
    pub const SKIPPED: Style = AnsiColor::Yellow.on_default();
    /// A case the replies could not decide.
    pub const INCONCLUSIVE: Style = AnsiColor::Yellow.on_default().bold();
    /// What was expected (a diff's `-` lines).
    pub const EXPECTED: Style = AnsiColor::Red.on_default();
    /// What came (a diff's `+` lines).
    pub const ACTUAL: Style = AnsiColor::Green.on_default();
    /// A diff hunk's header.
    pub const HUNK: Style = AnsiColor::Cyan.on_default();
}

impl Style {
    /// Colours for `stream` as `choice` says; `Auto` follows anstream's
    /// rules: off with `NO_COLOR`, on with `CLICOLOR_FORCE`, off with
    /// `CLICOLOR=0`, else on only for a terminal that supports them.
    pub fn for_stream(
        choice: anstream::ColorChoice,
        stream: &impl anstream::stream::RawStream,
    ) -> Self {
        let chosen = match choice {
            anstream::ColorChoice::Auto => anstream::AutoStream::choice(stream),
            other => other,
        };
        Self {
            color: chosen != anstream::ColorChoice::Never,
        }
    }

    /// `s` in `with` when colours are on; `s` itself when they are off.
    pub fn paint(&self, with: anstyle::Style, s: &str) -> String {
        if self.color {
            format!("{}{s}{}", with.render(), with.render_reset())
        } else {
            s.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{palette, Style};

    #[test]
    fn paint_is_the_plain_text_when_colours_are_off() {
        assert_eq!(Style { color: false }.paint(palette::FAIL, "FAIL"), "FAIL");
        assert_eq!(
            Style { color: true }.paint(palette::FAIL, "FAIL"),
            "\u{1b}[1m\u{1b}[31mFAIL\u{1b}[0m"
        );
        assert_eq!(
            Style { color: true }.paint(palette::EXPECTED, "-"),
            "\u{1b}[31m-\u{1b}[0m"
        );
    }
}
