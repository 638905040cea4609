//! The catalogues of simulator [`Fault`]s (one contract violation each) and
//! [`Variant`]s (allowed latitude, no violation).

/// A single contract violation the simulator can commit. Every matching
/// request gets it; everything else stays conforming.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Fault {
    /// No `result` key in the success envelope.
    MissingResult,
    /// No `resultCode` key in the success envelope.
    MissingResultCode,
    /// Success `resultCode` is the JSON number `100000`.
    ResultCodeNumber,
    /// Success answered with `resultCode` `"0100001"`.
    SuccessCodeWrong,
    /// Success answered with `result` `"1"`.
    ResultDisagrees,
    /// No `resultDatas` on success.
    MissingLegacyDatas,
    /// `resultDatas.status` differs from `resultDesc.status`.
    LegacyDatasDiffer,
    /// Success `resultDesc` is a string.
    DescNotObject,
    /// `workNo` is a string.
    WorkNoString,
    /// `name` is a number.
    NameNumber,
    /// Non-null `phoneNumber` is a number.
    PhoneNumberInt,
    /// `loginDate` is a string.
    LoginDateString,
    /// `currentStateTime` is negative.
    CurrentStateTimeNegative,
    /// `currentStateTime` is a float.
    CurrentStateTimeFloat,
    /// No `name` key.
    MissingFieldName,
    /// `status` 11.
    StatusOutOfEnum,
    /// `citStatus` 12.
    CtiOutOfRange,
    /// `mediaType` 30.
    MediaTypeInvalid,
    /// Agent 109 in VDN 1 answers status 9, citStatus 8.
    Status9,
    /// Idle agents answer citStatus 7.
    StatusCtiMismatch,
    /// `workNo` is agentId + 1.
    WorkNoMismatch,
    /// `vdnId` is vdn + 1.
    VdnMismatch,
    /// Requests without `Authorization` are answered.
    NoAuth,
    /// Any non-blank `Authorization` is accepted.
    AcceptsBadSignature,
    /// No clock-skew check.
    AcceptsStale,
    /// GET is answered like POST.
    AcceptsGet,
    /// Invalid-parameter answers are HTTP 500.
    Error500,
    /// Unknown-agent errors carry an agent object in `resultDesc`.
    ErrorWithAgent,
    /// agentId 60000 in VDN 1 answers success.
    OutOfRangeAccepted,
    /// Out-of-range answers `"0100001"` instead of `"0100002"`.
    WrongErrorCode,
    /// Success `Content-Type` is `text/plain`.
    TextPlain,
    /// Success body is `OK`.
    NotJson,
    /// Invalid-parameter answers are an HTML page with HTTP 200.
    HtmlError,
}

impl Fault {
    /// Every fault, in catalogue order.
    pub const ALL: &'static [Fault] = &[
        Fault::MissingResult,
        Fault::MissingResultCode,
        Fault::ResultCodeNumber,
        Fault::SuccessCodeWrong,
        Fault::ResultDisagrees,
        Fault::MissingLegacyDatas,
        Fault::LegacyDatasDiffer,
        Fault::DescNotObject,
        Fault::WorkNoString,
        Fault::NameNumber,
        Fault::PhoneNumberInt,
        Fault::LoginDateString,
        Fault::CurrentStateTimeNegative,
        Fault::CurrentStateTimeFloat,
        Fault::MissingFieldName,
        Fault::StatusOutOfEnum,
        Fault::CtiOutOfRange,
        Fault::MediaTypeInvalid,
        Fault::Status9,
        Fault::StatusCtiMismatch,
        Fault::WorkNoMismatch,
        Fault::VdnMismatch,
        Fault::NoAuth,
        Fault::AcceptsBadSignature,
        Fault::AcceptsStale,
        Fault::AcceptsGet,
        Fault::Error500,
        Fault::ErrorWithAgent,
        Fault::OutOfRangeAccepted,
        Fault::WrongErrorCode,
        Fault::TextPlain,
        Fault::NotJson,
        Fault::HtmlError,
    ];

    /// The kebab-case name used in profiles and on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Fault::MissingResult => "missing-result",
            Fault::MissingResultCode => "missing-result-code",
            Fault::ResultCodeNumber => "result-code-number",
            Fault::SuccessCodeWrong => "success-code-wrong",
            Fault::ResultDisagrees => "result-disagrees",
            Fault::MissingLegacyDatas => "missing-legacy-datas",
            Fault::LegacyDatasDiffer => "legacy-datas-differ",
            Fault::DescNotObject => "desc-not-object",
            Fault::WorkNoString => "work-no-string",
            Fault::NameNumber => "name-number",
            Fault::PhoneNumberInt => "phone-number-int",
            Fault::LoginDateString => "login-date-string",
            Fault::CurrentStateTimeNegative => "current-state-time-negative",
            Fault::CurrentStateTimeFloat => "current-state-time-float",
            Fault::MissingFieldName => "missing-field-name",
            Fault::StatusOutOfEnum => "status-out-of-enum",
            Fault::CtiOutOfRange => "cti-out-of-range",
            Fault::MediaTypeInvalid => "media-type-invalid",
            Fault::Status9 => "status-9",
            Fault::StatusCtiMismatch => "status-cti-mismatch",
            Fault::WorkNoMismatch => "work-no-mismatch",
            Fault::VdnMismatch => "vdn-mismatch",
            Fault::NoAuth => "no-auth",
            Fault::AcceptsBadSignature => "accepts-bad-signature",
            Fault::AcceptsStale => "accepts-stale",
            Fault::AcceptsGet => "accepts-get",
            Fault::Error500 => "error-500",
            Fault::ErrorWithAgent => "error-with-agent",
            Fault::OutOfRangeAccepted => "out-of-range-accepted",
            Fault::WrongErrorCode => "wrong-error-code",
            Fault::TextPlain => "text-plain",
            Fault::NotJson => "not-json",
            Fault::HtmlError => "html-error",
        }
    }

    /// The fault named `s` (exact kebab-case name).
    pub fn parse(s: &str) -> Option<Fault> {
        Fault::ALL.iter().copied().find(|f| f.name() == s)
    }

    /// The spec table and row the fault violates, and how.
    pub fn describe(&self) -> &'static str {
        match self {
            Fault::MissingResult => "Table 3 row 1 result: the success envelope has no `result`",
            Fault::MissingResultCode => {
                "Table 3 row 2 resultCode: the success envelope has no `resultCode`"
            }
            Fault::ResultCodeNumber => {
                "Table 3 row 2 resultCode (string): `resultCode` is the number 100000"
            }
            Fault::SuccessCodeWrong => {
                "Table 3 row 2 resultCode and error codes: success answers `resultCode` \"0100001\""
            }
            Fault::ResultDisagrees => {
                "Table 3 rows 1-2 result/resultCode: success answers `result` \"1\" beside \"0100000\""
            }
            Fault::MissingLegacyDatas => {
                "Table 3 row 3 resultDatas: the success envelope has no `resultDatas`"
            }
            Fault::LegacyDatasDiffer => {
                "Table 3 rows 3-4 resultDatas/resultDesc: the legacy copy's `status` differs"
            }
            Fault::DescNotObject => {
                "Table 3 row 4 resultDesc (object on success): success `resultDesc` is a string"
            }
            Fault::WorkNoString => "Table 4 row 2.1 (workNo, int): `workNo` is a string",
            Fault::NameNumber => "Table 4 row 2.4 (name, string): `name` is a number",
            Fault::PhoneNumberInt => {
                "Table 4 row 2.5 (phoneNumber, string): signed-in agents' `phoneNumber` is a number"
            }
            Fault::LoginDateString => "Table 4 row 2.6 (loginDate, long): `loginDate` is a string",
            Fault::CurrentStateTimeNegative => {
                "Table 4 row 2.7 (currentStateTime, seconds): `currentStateTime` is negative"
            }
            Fault::CurrentStateTimeFloat => {
                "Table 4 row 2.7 (currentStateTime, long): `currentStateTime` is a float"
            }
            Fault::MissingFieldName => "Table 4 row 2.4: the agent object has no `name`",
            Fault::StatusOutOfEnum => "Table 4 row 2.9 and Table 5: `status` is 11",
            Fault::CtiOutOfRange => "Table 4 row 2.3 and CTI states 0-10: `citStatus` is 12",
            Fault::MediaTypeInvalid => "Table 4 row 2.8 and media types: `mediaType` is 30",
            Fault::Status9 => {
                "Table 5 and open question 5 (a violation under status9 = rejected): agent 109 in VDN 1 answers status 9, citStatus 8"
            }
            Fault::StatusCtiMismatch => {
                "Table 5 row status 4 (idle, CTI 1): idle agents answer `citStatus` 7"
            }
            Fault::WorkNoMismatch => {
                "Table 4 row 2.1 (the queried agentId): `workNo` is agentId + 1"
            }
            Fault::VdnMismatch => "Table 4 row 2.2 (the queried VDN): `vdnId` is vdn + 1",
            Fault::NoAuth => {
                "Table 1 row Authorization and Authentication (401): requests without `Authorization` are answered"
            }
            Fault::AcceptsBadSignature => {
                "Authentication steps 1-5 (401): any non-blank `Authorization` is accepted unchecked"
            }
            Fault::AcceptsStale => {
                "Authentication and open question 3: timestamps outside the skew window are accepted"
            }
            Fault::AcceptsGet => "Endpoint (only POST): GET is answered like POST instead of 405",
            Fault::Error500 => {
                "Error codes (errors are HTTP 200): invalid-parameter answers are HTTP 500"
            }
            Fault::ErrorWithAgent => {
                "Error codes (`resultDesc` is a string on error): unknown-agent errors carry an agent object"
            }
            Fault::OutOfRangeAccepted => {
                "Table 2 row 3 (agentId 101-59999): agentId 60000 in VDN 1 answers success"
            }
            Fault::WrongErrorCode => {
                "Error codes (0100002 invalid parameter): out-of-range fields answer \"0100001\""
            }
            Fault::TextPlain => "Table 3 (JSON): the success `Content-Type` is text/plain",
            Fault::NotJson => "Table 3 (JSON): the success body is `OK`",
            Fault::HtmlError => {
                "Error codes (JSON envelope): invalid-parameter answers are an HTML page with HTTP 200"
            }
        }
    }
}

/// An allowed latitude the simulator can take; none is a contract violation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Variant {
    /// Keys of the envelope and agent objects in reverse order.
    ReorderedKeys,
    /// Pretty-printed JSON.
    Pretty,
    /// An extra `"skillGroup": "default"` in both agent objects.
    ExtraField,
    /// `Content-Type: application/json` without charset.
    Charsetless,
    /// Signed-out agents (except the sample, 101 in VDN 1) have `phoneNumber` "".
    PhoneString,
    /// Every `mediaType` is 0.
    MediaZero,
}

impl Variant {
    /// Every variant, in catalogue order.
    pub const ALL: &'static [Variant] = &[
        Variant::ReorderedKeys,
        Variant::Pretty,
        Variant::ExtraField,
        Variant::Charsetless,
        Variant::PhoneString,
        Variant::MediaZero,
    ];

    /// The kebab-case name used in profiles and on the command line.
    pub fn name(&self) -> &'static str {
        match self {
            Variant::ReorderedKeys => "reordered-keys",
            Variant::Pretty => "pretty",
            Variant::ExtraField => "extra-field",
            Variant::Charsetless => "charsetless",
            Variant::PhoneString => "phone-string",
            Variant::MediaZero => "media-zero",
        }
    }

    /// The variant named `s` (exact kebab-case name).
    pub fn parse(s: &str) -> Option<Variant> {
        Variant::ALL.iter().copied().find(|v| v.name() == s)
    }

    /// What the variant does and why the contract allows it.
    pub fn describe(&self) -> &'static str {
        match self {
            Variant::ReorderedKeys => {
                "JSON object key order is not significant: envelope and agent keys are reversed"
            }
            Variant::Pretty => "JSON whitespace is not significant: bodies are pretty-printed",
            Variant::ExtraField => {
                "Table 4 does not forbid more keys: both agent objects carry \"skillGroup\": \"default\""
            }
            Variant::Charsetless => {
                "JSON is UTF-8 by default: Content-Type is application/json without charset"
            }
            Variant::PhoneString => {
                "Table 4 row 2.5 (phoneNumber, string): signed-out agents answer \"\" instead of null"
            }
            Variant::MediaZero => {
                "Table 4 row 2.8 and the sample's 0 (no media): every agent answers mediaType 0"
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_are_unique() {
        let mut seen = std::collections::HashSet::new();
        for f in Fault::ALL {
            assert_eq!(Fault::parse(f.name()), Some(*f));
            assert!(seen.insert(f.name()), "duplicate {}", f.name());
            assert!(!f.describe().is_empty());
        }
        for v in Variant::ALL {
            assert_eq!(Variant::parse(v.name()), Some(*v));
            assert!(seen.insert(v.name()), "duplicate {}", v.name());
            assert!(!v.describe().is_empty());
        }
        assert_eq!(Fault::ALL.len(), 33);
        assert_eq!(Fault::parse("Missing-Result"), None);
        assert_eq!(Variant::parse(""), None);
    }
}
