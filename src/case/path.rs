//! What a request path may look like: one rule, used when a case is loaded
//! (a located error) and again when its URL is built (the case fails before
//! anything is sent).
//!
//! The path is put below the target's base URL. Anything that could make a
//! URL parser read part of it as an authority would send the request, and its
//! signature, somewhere else: `@host:port/x` glued to `http://cms:28080`
//! turns `cms:28080` into user info, `.evil.example/x` lengthens the host
//! name, and `//host/x` is a scheme-relative reference. `\` is read as `/` by
//! WHATWG URL parsers, and control characters are stripped or refused by them.

/// Why a request path is refused: a headline and what to do about it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PathProblem {
    /// A lower-case fragment saying what is wrong, quoting the path.
    pub message: String,
    /// What to write instead.
    pub fix: &'static str,
}

/// Check a request path (with its optional `?query`), after `${var}`
/// expansion: it must start with one `/` and hold no `\` and no control
/// character.
pub fn check_request_path(path: &str) -> Result<(), PathProblem> {
    let problem = |what: &str, fix| {
        Err(PathProblem {
            message: format!("request path {path:?} {what}"),
            fix,
        })
    };
    if !path.starts_with('/') {
        return problem(
            "must start with `/`",
            "start it with `/`; text before the first `/` would become part of the host",
        );
    }
    if path.starts_with("//") {
        return problem(
            "must not start with `//`",
            "write one `/`; `//name/...` is read as another host",
        );
    }
    if path.contains('\\') {
        return problem(
            "holds a `\\`",
            "write `/` or `%5C`; URL parsers read `\\` as `/`",
        );
    }
    if path.chars().any(char::is_control) {
        return problem("holds a control character", "percent-encode it, e.g. `%0A`");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_request_path;

    #[test]
    fn only_paths_below_the_base_url_pass() {
        for ok in [
            "/",
            "/rest/cmsapp/v1/openapi/agent/agentbyworkno",
            "/p?x=1&y",
            "/a@b/c",
            "/a%20b",
        ] {
            assert_eq!(check_request_path(ok), Ok(()), "{ok}");
        }
        for (bad, why) in [
            ("", "must start with `/`"),
            ("@127.0.0.1:9/x", "must start with `/`"),
            (".evil.example/x", "must start with `/`"),
            ("rest/x", "must start with `/`"),
            ("//evil.example/x", "must not start with `//`"),
            ("/\\evil.example/x", "holds a `\\`"),
            ("/a\nHost: x", "holds a control character"),
            ("/a\tb", "holds a control character"),
        ] {
            let e = check_request_path(bad).unwrap_err();
            assert!(e.message.ends_with(why), "{bad:?}: {}", e.message);
            assert!(e.message.contains(&format!("{bad:?}")), "{}", e.message);
        }
    }
}
