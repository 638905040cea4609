//! Clean-up of text a target sent, before anyone sees it: a pipeline of
//! named steps, each with its own tests. The order is part of the contract:
//!
//! 1. **scrub** ([`Secrets`]): the signature of the request that was sent,
//!    and the SK, become `<redacted>` in any letter case, in header names and
//!    values, in JSON keys and values and in the raw body. The runner does
//!    this once, on the whole reply and *before* step 2, so a secret cannot
//!    survive by straddling the display cut; every consumer (checks, reports,
//!    `compare`, bless snapshots) only ever sees scrubbed data.
//! 2. **cut** ([`cut`]): the body text is cut for display at a char boundary.
//! 3. **escape** ([`terminal`]): for human output only, control characters
//!    become visible escapes and CI log commands are defused, so a reply can
//!    neither drive a terminal nor write a line of a CI log. The other media
//!    escape for themselves: XML and HTML escape markup, JSON is escaped by
//!    serde.
//! 4. **markup** ([`markup`]): for the JUnit and HTML reports, before their
//!    own escaping of `<`, `&` and quotes: like step 3, but multi-line text
//!    keeps its line breaks and tabs. XML 1.0 forbids most controls and
//!    U+FFFE/U+FFFF outright (one such character makes the whole JUnit file
//!    unreadable), and a browser would obey a bidi override.
//!
//! New steps are appended, never inserted, like the normalisation steps of
//! snapshots.

use serde_json::{Map, Value};
use std::borrow::Cow;
use std::fmt::Write;

/// What a scrubbed secret is replaced with.
pub const REDACTED: &str = "<redacted>";

/// Secrets that must never reach any output: matched case-insensitively
/// (ASCII), wherever they appear.
#[derive(Clone, Default)]
pub struct Secrets {
    /// Longest first, so a secret containing another is hidden whole.
    items: Vec<Vec<u8>>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Secrets({} hidden)", self.items.len())
    }
}

impl Secrets {
    /// Shorter values are not scrubbed: they would match ordinary reply text
    /// and wreck the report, and a secret that short protects nothing.
    pub const MIN_LEN: usize = 8;

    /// No secrets.
    pub fn new() -> Self {
        Self::default()
    }

    /// Hide `secret` from now on (ignored below [`Secrets::MIN_LEN`] bytes).
    pub fn add(&mut self, secret: &str) {
        let s = secret.as_bytes().to_vec();
        if s.len() < Self::MIN_LEN || self.items.iter().any(|i| i.eq_ignore_ascii_case(&s)) {
            return;
        }
        self.items.push(s);
        self.items.sort_by_key(|i| std::cmp::Reverse(i.len()));
    }

    /// Whether there is nothing to hide.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// `bytes` with every secret replaced by [`REDACTED`].
    pub fn scrub_bytes<'a>(&self, bytes: &'a [u8]) -> Cow<'a, [u8]> {
        let mut out: Cow<'a, [u8]> = Cow::Borrowed(bytes);
        // Longest first: those longer than the text cannot be in it (most
        // header names and values are shorter than any secret).
        let fits = self.items.partition_point(|s| s.len() > bytes.len());
        for secret in &self.items[fits..] {
            if let Some(replaced) = replace_ci(&out, secret) {
                out = Cow::Owned(replaced);
            }
        }
        out
    }

    /// `text` with every secret replaced by [`REDACTED`].
    pub fn scrub<'a>(&self, text: &'a str) -> Cow<'a, str> {
        match self.scrub_bytes(text.as_bytes()) {
            Cow::Borrowed(_) => Cow::Borrowed(text),
            // A secret is whole UTF-8 and a match starts and ends on char
            // boundaries, so the result is UTF-8; lossy is only a safety net.
            Cow::Owned(b) => Cow::Owned(
                String::from_utf8(b)
                    .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned()),
            ),
        }
    }

    /// Scrub header names and values.
    pub fn scrub_headers(&self, headers: &mut [(String, String)]) {
        for (k, v) in headers {
            for s in [k, v] {
                if let Cow::Owned(clean) = self.scrub(s) {
                    *s = clean;
                }
            }
        }
    }

    /// Scrub the document parsed from `raw`, which [`Secrets::scrub_bytes`]
    /// has already scrubbed; returns whether anything changed. Without an
    /// escape in `raw`, each key and string of the document is a run of
    /// `raw`'s bytes, so when `raw` holds no secret neither does the
    /// document, and it is not walked (that walk was a visible share of
    /// every reply).
    pub fn scrub_parsed(&self, raw: &[u8], v: &mut Value) -> bool {
        let verbatim = memchr::memchr(b'\\', raw).is_none()
            && !self.items.iter().any(|s| find_ci(raw, s, 0).is_some());
        !verbatim && self.scrub_json(v)
    }

    /// [`Secrets::scrub_parsed`] for a document parsed from what
    /// [`Secrets::scrub_bytes`] returned: bytes it returned unchanged held no
    /// secret, and are not searched again.
    #[expect(
        clippy::ptr_arg,
        reason = "whether the bytes were borrowed is what is read"
    )]
    pub fn scrub_parsed_from(&self, scrubbed: &Cow<'_, [u8]>, v: &mut Value) -> bool {
        match scrubbed {
            Cow::Borrowed(raw) => memchr::memchr(b'\\', raw).is_some() && self.scrub_json(v),
            Cow::Owned(raw) => self.scrub_parsed(raw, v),
        }
    }

    /// Scrub every key and string value of `v`; returns whether anything
    /// changed (a secret spelt with JSON escapes, which the raw pass cannot see).
    pub fn scrub_json(&self, v: &mut Value) -> bool {
        if self.is_empty() {
            return false;
        }
        match v {
            Value::String(s) => match self.scrub(s) {
                Cow::Owned(clean) => {
                    *s = clean;
                    true
                }
                Cow::Borrowed(_) => false,
            },
            Value::Array(a) => a
                .iter_mut()
                .fold(false, |changed, x| self.scrub_json(x) | changed),
            Value::Object(m) => {
                let mut changed = m
                    .values_mut()
                    .fold(false, |changed, x| self.scrub_json(x) | changed);
                if m.keys().any(|k| matches!(self.scrub(k), Cow::Owned(_))) {
                    let old = std::mem::take(m);
                    *m = old
                        .into_iter()
                        .map(|(k, x)| (self.scrub(&k).into_owned(), x))
                        .collect::<Map<_, _>>();
                    changed = true;
                }
                changed
            }
            _ => false,
        }
    }
}

/// `hay` with each ASCII-case-insensitive match of `needle` replaced by
/// [`REDACTED`], or `None` when there is none.
fn replace_ci(hay: &[u8], needle: &[u8]) -> Option<Vec<u8>> {
    let find = |from: usize| find_ci(hay, needle, from);
    let mut at = find(0)?;
    let mut out = Vec::with_capacity(hay.len());
    let mut done = 0;
    loop {
        out.extend_from_slice(&hay[done..at]);
        out.extend_from_slice(REDACTED.as_bytes());
        done = at + needle.len();
        match find(done) {
            Some(next) => at = next,
            None => break,
        }
    }
    out.extend_from_slice(&hay[done..]);
    Some(out)
}

/// Where `needle` first occurs in `hay` at or after `from`, ASCII case
/// ignored: memchr jumps to each place the needle's first byte (either
/// case) occurs and only there are the rest of the bytes compared (a
/// window-by-window comparison was a visible share of every reply).
fn find_ci(hay: &[u8], needle: &[u8], from: usize) -> Option<usize> {
    let (&first, rest) = needle.split_first()?;
    let hay = hay.get(from..)?;
    let (lower, upper) = (first.to_ascii_lowercase(), first.to_ascii_uppercase());
    memchr::memchr2_iter(lower, upper, hay)
        .find(|&i| {
            hay.get(i + 1..i + needle.len())
                .is_some_and(|w| w.eq_ignore_ascii_case(rest))
        })
        .map(|i| i + from)
}

/// Step 2: `text` cut to at most `max_bytes` bytes at a char boundary, with
/// a visible `… (cut)` mark when anything was cut.
pub fn cut(text: &str, max_bytes: usize) -> Cow<'_, str> {
    if text.len() <= max_bytes {
        return Cow::Borrowed(text);
    }
    let mut at = max_bytes;
    while !text.is_char_boundary(at) {
        at -= 1;
    }
    Cow::Owned(format!("{}… (cut)", &text[..at]))
}

/// Step 3, for terminals and plain-text logs: `text` as one line that
/// cannot drive a terminal or a CI log.
///
/// - C0 controls, DEL and C1 controls (U+0080–U+009F) become `\n`, `\r`,
///   `\t`, `\x1b`, `\u{9b}`: no escape sequences (window title, clear
///   screen), no carriage return or backspace overwriting a line, and no
///   line break, so reply text never starts a line.
/// - Bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069,
///   U+200E, U+200F, U+061C) and the Unicode line and paragraph separators
///   become `\u{202e}` and so on: they reorder or break what is shown.
/// - `##[` and `##vso[` (Azure Pipelines and GitHub's legacy commands, seen
///   anywhere in a line) become `#\x23[`, `#\x23vso[`, and a leading `::`
///   (GitHub Actions commands, seen after leading blanks) becomes `\x3a:`,
///   because the text may be printed after an indent.
pub fn terminal(text: &str) -> Cow<'_, str> {
    let lead = text.len()
        - text
            .trim_start_matches(|c: char| c.is_whitespace() && !needs_escape(c))
            .len();
    let mut rest = &text[lead..];
    if !rest.starts_with("::") && !text.contains("##") && !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    out.push_str(&text[..lead]);
    if rest.starts_with("::") {
        out.push_str("\\x3a");
        rest = &rest[1..];
    }
    let mut chars = rest.char_indices();
    while let Some((i, c)) = chars.next() {
        if c == '#' && is_log_command(&rest[i..]) {
            out.push_str("#\\x23");
            chars.next();
            continue;
        }
        if !needs_escape(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x80 => {
                let _ = write!(out, "\\x{:02x}", c as u32);
            }
            c => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
        }
    }
    Cow::Owned(out)
}

/// Step 4, for markup (XML, HTML): `text` with line breaks and tabs kept
/// and every other character that [`terminal`] escapes made visible the
/// same way, plus the noncharacters U+FFFE and U+FFFF, which XML 1.0
/// forbids. CRLF becomes LF (an XML parser would do so anyway); a lone CR
/// becomes `\r`. The result holds only characters XML 1.0 allows and no
/// control but `\n` and `\t`.
pub fn markup(text: &str) -> Cow<'_, str> {
    let visible = |c: char| !matches!(c, '\n' | '\t') && (needs_escape(c) || is_xml_nonchar(c));
    if !text.chars().any(visible) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if !visible(c) {
            out.push(c);
        } else if c == '\r' && chars.peek() == Some(&'\n') {
            // CRLF: the LF that follows is kept.
        } else if c == '\r' {
            out.push_str("\\r");
        } else if (c as u32) < 0x80 {
            let _ = write!(out, "\\x{:02x}", c as u32);
        } else {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
    }
    Cow::Owned(out)
}

/// U+FFFE and U+FFFF: valid UTF-8, not XML 1.0 characters.
fn is_xml_nonchar(c: char) -> bool {
    matches!(c, '\u{FFFE}' | '\u{FFFF}')
}

/// Characters [`terminal`] replaces by a visible escape.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{061C}'
                | '\u{200E}'
                | '\u{200F}'
                | '\u{202A}'..='\u{202E}'
                | '\u{2066}'..='\u{2069}'
                | '\u{2028}'
                | '\u{2029}'
        )
}

/// Whether `s` starts with a CI log command prefix matched anywhere in a
/// line: `##[` or `##vso[` (any case).
fn is_log_command(s: &str) -> bool {
    let b = s.as_bytes();
    b.starts_with(b"##[") || (b.len() >= 6 && b[..6].eq_ignore_ascii_case(b"##vso["))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SIG: &str = "2da95fd4bf39ceb59782ffe762256861457efda80e2a2701cca0b565f27f894b";

    fn secrets() -> Secrets {
        let mut s = Secrets::new();
        s.add(SIG);
        s.add("very-secret-sk");
        s
    }

    #[test]
    fn scrub_hides_secrets_in_any_case_and_keeps_the_rest() {
        let s = secrets();
        let upper = SIG.to_ascii_uppercase();
        let text = format!("a{SIG}b {upper} VERY-Secret-SK.");
        assert_eq!(s.scrub(&text), "a<redacted>b <redacted> <redacted>.");
        assert!(matches!(s.scrub("nothing here"), Cow::Borrowed(_)));
        assert_eq!(
            s.scrub_bytes(format!("\u{e9}{SIG}\u{e9}").as_bytes())
                .as_ref(),
            "\u{e9}<redacted>\u{e9}".as_bytes()
        );
    }

    /// The jump to the first byte finds exactly what a comparison at every
    /// position finds: overlaps, both cases, the first byte not a letter,
    /// a match at either end, a hay shorter than the needle.
    #[test]
    fn find_ci_agrees_with_comparing_at_every_position() {
        let naive = |hay: &[u8], needle: &[u8], from: usize| {
            (from..=hay.len().saturating_sub(needle.len())).find(|&i| {
                hay.get(i..i + needle.len())
                    .is_some_and(|w| w.eq_ignore_ascii_case(needle))
            })
        };
        let needles: [&[u8]; 4] = [b"aAb", b"9f9F", b"-Sk-", b"\xc3\xa9x"];
        let alphabet = b"aAbB9fF-sSkK\xc3\xa9x";
        // Every hay of up to four letters of the alphabet (a counter in base 15).
        let mut hays = vec![Vec::new()];
        for n in 0..4u32 {
            for mut k in 0..alphabet.len().pow(n + 1) {
                let mut hay = Vec::new();
                for _ in 0..=n {
                    hay.push(alphabet[k % alphabet.len()]);
                    k /= alphabet.len();
                }
                hays.push(hay);
            }
        }
        for hay in &hays {
            for needle in needles {
                for from in 0..=hay.len() + 1 {
                    assert_eq!(
                        find_ci(hay, needle, from),
                        naive(hay, needle, from),
                        "{hay:?} {needle:?} {from}"
                    );
                }
            }
        }
    }

    #[test]
    fn scrub_ignores_secrets_too_short_to_tell_from_text() {
        let mut s = Secrets::new();
        s.add("b");
        s.add("");
        assert!(s.is_empty());
        assert_eq!(s.scrub("abc"), "abc");
    }

    #[test]
    fn scrub_reaches_header_names_json_keys_and_escaped_values() {
        let s = secrets();
        let mut headers = vec![
            (SIG.to_string(), "1".to_string()),
            (
                "x-echo".to_string(),
                format!("auth-v2/ak/t/host/{}", SIG.to_uppercase()),
            ),
        ];
        s.scrub_headers(&mut headers);
        assert_eq!(
            headers,
            [
                ("<redacted>".to_string(), "1".to_string()),
                (
                    "x-echo".to_string(),
                    "auth-v2/ak/t/host/<redacted>".to_string()
                )
            ]
        );
        // `\u0064` is "d": only the parsed value shows the signature.
        let raw = format!(
            "{{\"{SIG}\":[{{\"k\":\"2\\u0064{}\"}}],\"n\":1}}",
            &SIG[2..]
        );
        assert_eq!(
            s.scrub_bytes(raw.as_bytes()).as_ref(),
            raw.replacen(SIG, REDACTED, 1).as_bytes()
        );
        let mut v: Value = serde_json::from_str(&raw).unwrap();
        assert!(s.scrub_json(&mut v));
        assert_eq!(v, json!({"<redacted>": [{"k": "<redacted>"}], "n": 1}));
        assert!(!s.scrub_json(&mut v), "nothing left to scrub");
        // The same through the parsed-document pass: the escape makes it walk.
        let scrubbed = s.scrub_bytes(raw.as_bytes()).into_owned();
        let mut v: Value = serde_json::from_slice(&scrubbed).unwrap();
        assert!(s.scrub_parsed(&scrubbed, &mut v));
        assert_eq!(v, json!({"<redacted>": [{"k": "<redacted>"}], "n": 1}));
        // Without an escape there is nothing the raw pass missed; a secret
        // still in the bytes (had they not been scrubbed) is found.
        let plain = format!("{{\"k\":\"a{SIG}\",\"n\":[\"x\"]}}");
        let mut v: Value = serde_json::from_str(&plain).unwrap();
        assert!(s.scrub_parsed(plain.as_bytes(), &mut v));
        assert_eq!(v, json!({"k": "a<redacted>", "n": ["x"]}));
        let clean = s.scrub_bytes(plain.as_bytes()).into_owned();
        let mut v: Value = serde_json::from_slice(&clean).unwrap();
        assert!(!s.scrub_parsed(&clean, &mut v));
        assert_eq!(v, json!({"k": "a<redacted>", "n": ["x"]}));
        // From what the raw pass returned: changed or not, escaped or not.
        for body in [
            raw.as_str(),
            plain.as_str(),
            "{\"k\":\"\\u0041\"}",
            "{\"k\":1}",
        ] {
            let scrubbed = s.scrub_bytes(body.as_bytes());
            let mut v: Value = serde_json::from_slice(&scrubbed).unwrap();
            let mut w = v.clone();
            assert_eq!(
                s.scrub_parsed_from(&scrubbed, &mut v),
                s.scrub_parsed(&scrubbed, &mut w),
                "{body}"
            );
            assert_eq!(v, w, "{body}");
            assert!(!v.to_string().contains(&SIG[..20]), "{body}");
        }
    }

    #[test]
    fn scrub_before_cut_leaves_no_piece_of_a_straddling_secret() {
        let s = secrets();
        let text = format!("{}{SIG}", "x".repeat(100 - 10));
        let shown = cut(&s.scrub(&text), 100).into_owned();
        assert!(!shown.contains(&SIG[..10]), "{shown}");
        // The wrong order leaks the first ten digits.
        let wrong = s.scrub(&cut(&text, 100)).into_owned();
        assert!(wrong.contains(&SIG[..10]));
    }

    #[test]
    fn cut_stops_at_a_char_boundary_and_says_so() {
        assert_eq!(cut("abc", 3), "abc");
        assert_eq!(cut("abcd", 3), "abc… (cut)");
        assert_eq!(cut("a\u{e9}", 2), "a… (cut)");
        assert_eq!(cut("", 0), "");
    }

    #[test]
    fn terminal_escapes_controls_and_bidi_into_one_line() {
        let hostile =
            "\u{1b}]0;pwned\u{7}\u{1b}[2J\rok\u{8}\u{7f}\u{9b}31m\n\tx\u{202e}y\u{2066}\u{2028}";
        let shown = terminal(hostile);
        assert_eq!(
            shown,
            "\\x1b]0;pwned\\x07\\x1b[2J\\rok\\x08\\x7f\\u{9b}31m\\n\\tx\\u{202e}y\\u{2066}\\u{2028}"
        );
        assert!(!shown.chars().any(needs_escape));
        assert!(matches!(terminal("plain {\"a\": 1}"), Cow::Borrowed(_)));
        assert_eq!(terminal("caf\u{e9} \u{4e2d}"), "caf\u{e9} \u{4e2d}");
    }

    #[test]
    fn terminal_defuses_ci_log_commands() {
        assert_eq!(
            terminal("::error file=x::pwned"),
            "\\x3a:error file=x::pwned"
        );
        assert_eq!(terminal("  ::warning::x"), "  \\x3a:warning::x");
        assert_eq!(terminal("\n::error::x"), "\\n::error::x");
        assert_eq!(terminal("a ::b"), "a ::b", "only a leading :: is a command");
        assert_eq!(
            terminal("x ##vso[task.setvariable variable=a]1 ##VSO[ ##[error]e"),
            "x #\\x23vso[task.setvariable variable=a]1 #\\x23VSO[ #\\x23[error]e"
        );
        assert_eq!(terminal("# ## #x"), "# ## #x");
        let line = terminal("ok\n::error file=x::pwned\ncontract result: 1 passed, 0 failed");
        assert!(!line.contains('\n'), "{line}");
    }

    #[test]
    fn markup_keeps_lines_and_makes_every_other_control_visible() {
        let hostile =
            "a\r\nb\rc\n\td\u{1b}[31m\u{0}\u{7f}\u{9b}\u{202e}\u{2028}\u{fffe}\u{ffff}\u{fffd}";
        assert_eq!(
            markup(hostile),
            "a\nb\\rc\n\td\\x1b[31m\\x00\\x7f\\u{9b}\\u{202e}\\u{2028}\\u{fffe}\\u{ffff}\u{fffd}"
        );
        // Only what XML 1.0 allows, and no control but line feed and tab.
        let out = markup(hostile);
        assert!(out
            .chars()
            .all(|c| matches!(c, '\n' | '\t') || !(c.is_control() || is_xml_nonchar(c))));
        assert!(matches!(markup("<p>caf\u{e9}\n\tok</p>"), Cow::Borrowed(_)));
        // Log commands are for logs (step 3); markup leaves them as text.
        assert_eq!(markup("::error::x ##vso[x]"), "::error::x ##vso[x]");
    }
}
