//! Self-validating setting values. Each parses from text (a flag, an
//! environment variable, a profile scalar) through one `FromStr`, so the
//! command line, the environment and a profile accept exactly the same
//! values and say the same thing about a wrong one.

use std::fmt;
use std::str::FromStr;
use std::time::Duration;

/// Why a setting value was refused: a lower-case fragment that says what the
/// setting takes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValueError(pub String);

impl fmt::Display for ValueError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ValueError {}

/// A duration in seconds, more than 0 and at most a day.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Seconds(Duration);

impl Seconds {
    /// The largest duration accepted.
    pub const MAX: f64 = 86_400.0;

    /// A duration known to be in range (for defaults).
    pub const fn from_secs(secs: u64) -> Self {
        Self(Duration::from_secs(secs))
    }

    /// The duration.
    pub fn get(self) -> Duration {
        self.0
    }
}

impl FromStr for Seconds {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let v: f64 = s
            .trim()
            .trim_end_matches('s')
            .parse()
            .map_err(|_| ValueError(format!("`{s}` is not a number of seconds")))?;
        if v.is_finite() && v > 0.0 && v <= Self::MAX {
            Ok(Self(Duration::from_secs_f64(v)))
        } else {
            Err(ValueError(format!(
                "`{s}` is out of range: give more than 0 and at most {} seconds",
                Self::MAX
            )))
        }
    }
}

/// Requests per second, at least 0.01 (one request per 100 s).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Rate(f64);

impl Rate {
    /// The smallest rate accepted.
    pub const MIN: f64 = 0.01;
    /// The largest rate accepted.
    pub const MAX: f64 = 1_000_000.0;

    /// Requests per second.
    pub fn per_sec(self) -> f64 {
        self.0
    }
}

impl FromStr for Rate {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let n = s.trim().trim_end_matches("/s").trim();
        match n.parse::<f64>() {
            Ok(r) if r.is_finite() && (Self::MIN..=Self::MAX).contains(&r) => Ok(Self(r)),
            _ => Err(ValueError(format!(
                "`{s}` is not a rate: give requests per second from {} to {} (e.g. 5 or 5/s)",
                Self::MIN,
                Self::MAX
            ))),
        }
    }
}

/// A bounded integer setting: `MIN..=MAX`, with a word for messages.
macro_rules! bounded {
    ($(#[$doc:meta])* $name:ident, $inner:ty, $min:expr, $max:expr, $what:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name($inner);

        impl $name {
            /// The smallest value accepted.
            pub const MIN: $inner = $min;
            /// The largest value accepted.
            pub const MAX: $inner = $max;

            /// A value known to be in range (for defaults).
            #[allow(unused_comparisons)]
            pub const fn new_const(v: $inner) -> Self {
                assert!(v >= $min && v <= $max);
                Self(v)
            }

            /// The value.
            pub fn get(self) -> $inner {
                self.0
            }
        }

        impl FromStr for $name {
            type Err = ValueError;
            fn from_str(s: &str) -> Result<Self, ValueError> {
                match s.trim().parse::<$inner>() {
                    #[allow(unused_comparisons)]
                    Ok(v) if (Self::MIN..=Self::MAX).contains(&v) => Ok(Self(v)),
                    _ => Err(ValueError(format!(
                        "`{s}` is not {}: give a whole number from {} to {}",
                        $what,
                        Self::MIN,
                        Self::MAX
                    ))),
                }
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}", self.0)
            }
        }
    };
}

bounded!(
    /// Cases in flight at once.
    Jobs, usize, 1, 1024, "a number of jobs"
);
bounded!(
    /// Retries of a request whose connection failed (nothing reached the server).
    Retries, u32, 0, 10, "a number of retries"
);
bounded!(
    /// The largest reply body read, in bytes.
    Bytes, usize, 1024, 1 << 30, "a size in bytes"
);
bounded!(
    /// How old the stale-timestamp negative case's signature is, in seconds
    /// (above the target's clock-skew window, open question 3).
    StaleSecs, u64, 60, 30 * 24 * 3600, "an age in seconds"
);
bounded!(
    /// The most cases one run may expand to (`each:` and `generate:` included).
    MaxCases, usize, 1, 10_000_000, "a number of cases"
);

/// A base URL: `http(s)://host[:port][/prefix]`, without user info, query
/// or fragment, stored without a trailing `/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseUrl(String);

impl BaseUrl {
    /// The URL text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for BaseUrl {
    type Err = ValueError;
    fn from_str(url: &str) -> Result<Self, ValueError> {
        let parsed = url::Url::parse(url).map_err(|e| {
            ValueError(format!(
                "`{url}` is not a URL ({e}); write it like https://cms-host:28080"
            ))
        })?;
        if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
            return Err(ValueError(format!(
                "`{url}` is not an http(s) URL; write it like https://cms-host:28080"
            )));
        }
        if !parsed.username().is_empty() || parsed.password().is_some() {
            return Err(ValueError(
                "the base URL holds user info; remove it (credentials come only from CMS_AK and CMS_SK)"
                    .into(),
            ));
        }
        if parsed.query().is_some() || parsed.fragment().is_some() {
            return Err(ValueError(format!(
                "`{url}` has a query or fragment; give only scheme, host, port and an optional path prefix"
            )));
        }
        Ok(Self(url.trim_end_matches('/').to_owned()))
    }
}

/// The headers to sign (open question 2): lower-case names of headers the
/// client sends, sorted and de-duplicated; never empty.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignedHeaders(Vec<String>);

impl SignedHeaders {
    /// Header names this tool can sign: the ones it always sends.
    pub const SIGNABLE: [&'static str; 3] = ["content-length", "content-type", "host"];

    /// The names.
    pub fn names(&self) -> &[String] {
        &self.0
    }
}

impl Default for SignedHeaders {
    /// `host` only, as the vendor sample signs.
    fn default() -> Self {
        Self(vec!["host".into()])
    }
}

impl FromStr for SignedHeaders {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, ValueError> {
        let mut names = Vec::new();
        for part in s.split(',') {
            let name = part.trim().to_ascii_lowercase();
            if name.is_empty() {
                return Err(ValueError(format!(
                    "`{s}` has an empty header name; give names separated by commas, e.g. host,content-type"
                )));
            }
            if !Self::SIGNABLE.contains(&name.as_str()) {
                let hint = crate::case::did_you_mean(&name, Self::SIGNABLE)
                    .map(|m| format!("did you mean `{m}`? "))
                    .unwrap_or_default();
                return Err(ValueError(format!(
                    "cannot sign header `{}`: {hint}signable headers are {}",
                    part.trim(),
                    Self::SIGNABLE.join(", ")
                )));
            }
            names.push(name);
        }
        names.sort();
        names.dedup();
        Ok(Self(names))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_values_refuse_what_the_profile_refuses() {
        assert_eq!("8".parse::<Jobs>().map(Jobs::get), Ok(8));
        for bad in ["0", "1025", "1000000", "-1", "x", ""] {
            let e = bad.parse::<Jobs>().unwrap_err();
            assert!(e.0.contains("from 1 to 1024"), "{bad}: {e}");
        }
        assert!("4294967295".parse::<Retries>().is_err());
        assert_eq!("10".parse::<Retries>().map(Retries::get), Ok(10));
        assert!("100".parse::<Bytes>().is_err());
    }

    #[test]
    fn seconds_rates_and_urls() {
        assert_eq!(
            "2.5".parse::<Seconds>().unwrap().get(),
            Duration::from_millis(2500)
        );
        assert_eq!(
            "3s".parse::<Seconds>().unwrap().get(),
            Duration::from_secs(3)
        );
        for bad in ["0", "-1", "inf", "NaN", "86401"] {
            assert!(bad.parse::<Seconds>().is_err(), "{bad}");
        }
        assert_eq!("5/s".parse::<Rate>().unwrap().per_sec(), 5.0);
        assert!("0.001".parse::<Rate>().is_err());
        assert_eq!(
            "https://cms:28080/".parse::<BaseUrl>().unwrap().as_str(),
            "https://cms:28080"
        );
        assert!("https://u:p@cms"
            .parse::<BaseUrl>()
            .unwrap_err()
            .0
            .contains("user info"));
        assert!("ftp://cms".parse::<BaseUrl>().is_err());
        assert!("https://cms/?a=1".parse::<BaseUrl>().is_err());
    }

    #[test]
    fn signed_headers_are_validated_like_the_profile() {
        assert_eq!(
            "Host, content-type,host"
                .parse::<SignedHeaders>()
                .unwrap()
                .names(),
            ["content-type", "host"]
        );
        let e = "hst".parse::<SignedHeaders>().unwrap_err();
        assert!(e.0.contains("did you mean `host`?"), "{e}");
        let e = "host,accept".parse::<SignedHeaders>().unwrap_err();
        assert!(e.0.contains("cannot sign header `accept`"), "{e}");
        assert!("host,".parse::<SignedHeaders>().is_err());
    }
}
