//! Load errors, rendered rustc-style: headline, `--> file:line:col`, the
//! source line, a caret with what to do, and "did you mean" for typos.

use crate::location::Location;
use std::fmt;

/// One problem found while loading cases, profiles or variables.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoadError {
    /// Where the problem is.
    pub location: Location,
    /// Headline: a lowercase fragment saying what is wrong.
    pub message: String,
    /// Text under the caret: what to do at that spot.
    pub label: Option<String>,
    /// A closing `= help:` line.
    pub help: Option<String>,
    /// Whether to quote the source line (off when it may hold a secret).
    pub snippet: bool,
    /// Lines shown after the location, as written (a table, a template).
    /// Boxed: most errors have none, and errors travel in `Result`s.
    pub notes: Option<Box<Vec<String>>>,
    /// The variable, when the error is a use of an undefined one that looks
    /// like no defined name (these are summed up in one error per load).
    pub undefined: Option<Box<str>>,
}

impl LoadError {
    /// An error at `location`.
    pub fn new(location: Location, message: impl Into<String>) -> Self {
        Self {
            location,
            message: message.into(),
            label: None,
            help: None,
            snippet: true,
            notes: None,
            undefined: None,
        }
    }

    /// Add the caret label.
    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    /// Add a help line.
    pub fn help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// Do not quote the source line (it may hold a secret).
    pub fn without_snippet(mut self) -> Self {
        self.snippet = false;
        self
    }

    /// Render with the source line read from the file.
    pub fn render(&self) -> String {
        // Bounded, regular files only: the error may be about a file that is
        // a FIFO or `/dev/zero`, and then there is nothing to quote anyway.
        let source = if self.snippet && self.location.line > 0 {
            super::files::read_text(&self.location.file, super::files::MAX_CASE_FILE_BYTES).ok()
        } else {
            None
        };
        self.render_with_source(source.as_deref())
    }

    /// Render with the given source text (`None`: no snippet).
    pub fn render_with_source(&self, source: Option<&str>) -> String {
        let mut out = format!("error: {}\n", self.message);
        let loc = &self.location;
        let line_text = source
            .filter(|_| loc.line > 0)
            .and_then(|s| s.lines().nth(loc.line as usize - 1));
        let gutter = " ".repeat(loc.line.to_string().len().max(1));
        out.push_str(&format!("{gutter}--> {loc}\n"));
        if let Some(text) = line_text {
            out.push_str(&format!("{gutter} |\n"));
            out.push_str(&format!("{} | {}\n", loc.line, text));
            let col = loc.column.max(1) as usize;
            let pad: String = text
                .chars()
                .take(col - 1)
                .map(|c| if c == '\t' { '\t' } else { ' ' })
                .collect();
            let label = self.label.as_deref().unwrap_or("");
            let caret = format!("{pad}^ {label}");
            out.push_str(&format!("{gutter} | {}\n", caret.trim_end()));
        } else if let Some(label) = &self.label {
            out.push_str(&format!("{gutter} = note: {label}\n"));
        }
        for note in self.notes.iter().flat_map(|n| n.iter()) {
            out.push_str(format!("{gutter}   {note}").trim_end());
            out.push('\n');
        }
        if let Some(help) = &self.help {
            out.push_str(&format!("{gutter} = help: {help}\n"));
        }
        out
    }
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.location, self.message)
    }
}

impl std::error::Error for LoadError {}

/// All problems found in one load; loading goes on past the first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadErrors(pub Vec<LoadError>);

impl LoadErrors {
    /// Render every error, rustc-style, followed by a count.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for e in &self.0 {
            out.push_str(&e.render());
            out.push('\n');
        }
        let n = self.0.len();
        out.push_str(&format!(
            "error: could not load cases due to {n} previous error{}\n",
            if n == 1 { "" } else { "s" }
        ));
        out
    }
}

impl fmt::Display for LoadErrors {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for e in &self.0 {
            writeln!(f, "{e}")?;
        }
        Ok(())
    }
}

impl std::error::Error for LoadErrors {}

/// The closest candidate to `word`, if it is close enough to be a typo.
pub fn did_you_mean<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let word_l = word.to_ascii_lowercase();
    candidates
        .into_iter()
        .map(|c| (strsim::levenshtein(&word_l, &c.to_ascii_lowercase()), c))
        .filter(|(d, c)| *d <= c.len().max(word.len()).div_ceil(3))
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::PathBuf;
    use std::sync::Arc;

    #[test]
    fn renders_rustc_style_with_caret_and_help() {
        let loc = Location::new(Arc::new(PathBuf::from("cases/x.yaml")), 3, 5);
        let e = LoadError::new(loc, "unknown field `expcet`")
            .label("did you mean `expect`?")
            .help("a case has: name, description, tags, request, expect, generate, each");
        let src = "cases:\n  - name: a\n    expcet:\n      status: 200\n";
        assert_eq!(
            e.render_with_source(Some(src)),
            "error: unknown field `expcet`\n --> cases/x.yaml:3:5\n  |\n3 |     expcet:\n  |     ^ did you mean `expect`?\n  = help: a case has: name, description, tags, request, expect, generate, each\n"
        );
    }

    #[test]
    fn did_you_mean_finds_close_words_only() {
        assert_eq!(
            did_you_mean("expcet", ["expect", "request"]),
            Some("expect")
        );
        assert_eq!(did_you_mean("shcema", ["schema", "status"]), Some("schema"));
        assert_eq!(did_you_mean("zzzzzz", ["schema", "status"]), None);
    }
}
