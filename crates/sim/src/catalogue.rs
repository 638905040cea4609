//! The public catalogue: every [`Fault`] (one contract violation each),
//! every [`Variant`] (allowed latitude) and every open-question option
//! ([`options`]) the simulator can serve, with the endpoint each belongs to.
//!
//! The name tables are derived (strum), so a new fault or variant is listed,
//! parsed and named without a hand-written list to forget; the endpoint of
//! each is an exhaustive `match`, so the compiler asks for it.

use strum::{EnumIter, EnumMessage, EnumString, IntoEnumIterator, IntoStaticStr};

use crate::{AGENTBYWORKNO, BATCH, TEAM, VDN_LISTING};

/// A single contract violation the simulator can commit. Every matching
/// request gets it; everything else stays conforming. The message is the
/// spec table and row it violates, and how.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, IntoStaticStr, EnumString, EnumMessage,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Fault {
    // Family-wide: every endpoint's replies.
    /// No `result` key in the success envelope.
    #[strum(message = "Table 3 row 1 result: the success envelope has no `result`")]
    MissingResult,
    /// No `resultCode` key in the success envelope.
    #[strum(message = "Table 3 row 2 resultCode: the success envelope has no `resultCode`")]
    MissingResultCode,
    /// Success `resultCode` is the JSON number `100000`.
    #[strum(message = "Table 3 row 2 resultCode (string): `resultCode` is the number 100000")]
    ResultCodeNumber,
    /// Success answered with `resultCode` `"0100001"`.
    #[strum(
        message = "Table 3 row 2 resultCode and error codes: success answers `resultCode` \"0100001\""
    )]
    SuccessCodeWrong,
    /// Success answered with `result` `"1"`.
    #[strum(
        message = "Table 3 rows 1-2 result/resultCode: success answers `result` \"1\" beside \"0100000\""
    )]
    ResultDisagrees,
    /// No `resultDatas` on success.
    #[strum(message = "Table 3 row 3 resultDatas: the success envelope has no `resultDatas`")]
    MissingLegacyDatas,
    /// The legacy copy differs from `resultDesc`.
    #[strum(
        message = "Table 3 rows 3-4 resultDatas/resultDesc: the legacy copy differs (an agent's `status`, one more agent resting in the counts, a list's last item dropped)"
    )]
    LegacyDatasDiffer,
    /// Success `resultDesc` is a string.
    #[strum(
        message = "Table 3 row 4 resultDesc (object or array on success): success `resultDesc` is a string"
    )]
    DescNotObject,
    /// Requests without `Authorization` are answered.
    #[strum(
        message = "Table 1 row Authorization and Authentication (401): requests without `Authorization` are answered"
    )]
    NoAuth,
    /// Any non-blank `Authorization` is accepted.
    #[strum(
        message = "Authentication steps 1-5 (401): any non-blank `Authorization` is accepted unchecked"
    )]
    AcceptsBadSignature,
    /// No clock-skew check.
    #[strum(
        message = "Authentication and open question 3: timestamps outside the skew window are accepted"
    )]
    AcceptsStale,
    /// GET is answered like POST.
    #[strum(message = "Endpoint (only POST): GET is answered like POST instead of 405")]
    AcceptsGet,
    /// Invalid-parameter answers are HTTP 500.
    #[strum(
        serialize = "error-500",
        message = "Error codes (errors are HTTP 200): invalid-parameter answers are HTTP 500"
    )]
    Error500,
    /// Out-of-range answers `"0100001"` instead of `"0100002"`.
    #[strum(
        message = "Error codes (0100002 invalid parameter): out-of-range fields answer \"0100001\""
    )]
    WrongErrorCode,
    /// Success `Content-Type` is `text/plain`.
    #[strum(message = "Table 3 (JSON): the success `Content-Type` is text/plain")]
    TextPlain,
    /// Success body is `OK`.
    #[strum(message = "Table 3 (JSON): the success body is `OK`")]
    NotJson,
    /// Invalid-parameter answers are an HTML page with HTTP 200.
    #[strum(
        message = "Error codes (JSON envelope): invalid-parameter answers are an HTML page with HTTP 200"
    )]
    HtmlError,

    // agentbyworkno.
    /// `workNo` is a string.
    #[strum(message = "Table 4 row 2.1 (workNo, int): `workNo` is a string")]
    WorkNoString,
    /// `name` is a number.
    #[strum(message = "Table 4 row 2.4 (name, string): `name` is a number")]
    NameNumber,
    /// Non-null `phoneNumber` is a number.
    #[strum(
        message = "Table 4 row 2.5 (phoneNumber, string): signed-in agents' `phoneNumber` is a number"
    )]
    PhoneNumberInt,
    /// `loginDate` is a string.
    #[strum(message = "Table 4 row 2.6 (loginDate, long): `loginDate` is a string")]
    LoginDateString,
    /// Signed-in agents' `loginDate` is the not-signed-in sentinel.
    #[strum(
        message = "Table 4 row 2.6 (loginDate): signed-in agents (status 3, 4, 5, 7, 8) carry the sentinel 4294967295000"
    )]
    LoginSentinelSignedIn,
    /// Signed-in agents' `loginDate` is in seconds.
    #[strum(
        message = "Table 4 row 2.6 (loginDate, epoch milliseconds): signed-in agents' `loginDate` is in seconds"
    )]
    LoginSeconds,
    /// Signed-out agents' `loginDate` is a real time.
    #[strum(
        message = "Table 4 row 2.6 (loginDate): signed-out agents (status 2) carry a real time instead of 4294967295000"
    )]
    LoginRealSignedOut,
    /// `currentStateTime` is negative.
    #[strum(
        message = "Table 4 row 2.7 (currentStateTime, seconds): `currentStateTime` is negative"
    )]
    CurrentStateTimeNegative,
    /// `currentStateTime` is a float.
    #[strum(message = "Table 4 row 2.7 (currentStateTime, long): `currentStateTime` is a float")]
    CurrentStateTimeFloat,
    /// No `name` key.
    #[strum(message = "Table 4 row 2.4: the agent object has no `name`")]
    MissingFieldName,
    /// `status` 11.
    #[strum(message = "Table 4 row 2.9 and Table 5: `status` is 11")]
    StatusOutOfEnum,
    /// `citStatus` 12.
    #[strum(message = "Table 4 row 2.3 and CTI states 0-10: `citStatus` is 12")]
    CtiOutOfRange,
    /// `mediaType` 30.
    #[strum(message = "Table 4 row 2.8 and media types: `mediaType` is 30")]
    MediaTypeInvalid,
    /// Agent 109 in VDN 1 answers status 9, citStatus 8.
    #[strum(
        serialize = "status-9",
        message = "Table 5 and open question 5 (a violation under status9 = rejected): agent 109 in VDN 1 answers status 9, citStatus 8"
    )]
    Status9,
    /// Idle agents answer citStatus 7.
    #[strum(message = "Table 5 row status 4 (idle, CTI 1): idle agents answer `citStatus` 7")]
    StatusCtiMismatch,
    /// `workNo` is agentId + 1.
    #[strum(message = "Table 4 row 2.1 (the queried agentId): `workNo` is agentId + 1")]
    WorkNoMismatch,
    /// `vdnId` is vdn + 1.
    #[strum(message = "Table 4 row 2.2 (the queried VDN): `vdnId` is vdn + 1")]
    VdnMismatch,
    /// Unknown-agent errors carry an agent object in `resultDesc`.
    #[strum(
        message = "Error codes (`resultDesc` is a string on error): unknown-agent errors carry an agent object"
    )]
    ErrorWithAgent,
    /// agentId 60000 in VDN 1 answers success.
    #[strum(message = "Table 2 row 3 (agentId 101-59999): agentId 60000 in VDN 1 answers success")]
    OutOfRangeAccepted,

    // agentstatusinfobyagentids (batch).
    /// The last requested item is missing.
    #[strum(
        message = "Table 4 (one item per requested agent): the last requested agent's item is missing"
    )]
    BatchMissingItem,
    /// An item of an agent that was not requested.
    #[strum(
        message = "Table 4 (one item per requested agent): an item of an agent not requested is added"
    )]
    BatchExtraItem,
    /// The first item is repeated.
    #[strum(
        message = "Table 4 and open question 3 (duplicate_ids = once): the first item is answered twice"
    )]
    BatchDuplicateItems,
    /// Items in reverse order.
    #[strum(
        message = "Open question 1 (item_order = request or sorted): items come back in reverse order"
    )]
    BatchOrderReversed,
    /// Signed-in agents' `logonTime` is in seconds.
    #[strum(
        message = "Table 4 row 2.8 (logonTime, epoch milliseconds): signed-in agents' `logonTime` is in seconds"
    )]
    BatchLogonSeconds,
    /// Signed-in agents' `logonTime` is the sentinel.
    #[strum(
        message = "Table 4 row 2.8 (logonTime): signed-in agents (currentState not 0) carry the sentinel 4294967295000"
    )]
    BatchLogonSentinelSignedIn,
    /// Signed-out agents' `logonTime` is a real time.
    #[strum(
        message = "Table 4 row 2.8 (logonTime): signed-out agents (currentState 0) carry a real time instead of 4294967295000"
    )]
    BatchLogonRealSignedOut,
    /// `currentState` 11.
    #[strum(message = "Table 4 row 2.6 and CTI states 0-10: `currentState` is 11")]
    BatchStateOutOfRange,
    /// `agentId` is a string.
    #[strum(message = "Table 4 row 2.1 (agentId, int): `agentId` is a string")]
    BatchAgentIdString,
    /// `currentStateTime` is negative.
    #[strum(
        message = "Table 4 row 2.7 (currentStateTime, seconds): `currentStateTime` is negative"
    )]
    BatchNegativeStateTime,
    /// 6001 agentIds are answered with success.
    #[strum(
        serialize = "batch-accepts-6001",
        message = "Table 2 row 3 (at most 6000 agentIds): 6001 ids are answered with success"
    )]
    BatchAccepts6001,
    /// `currentState` is the previous state.
    #[strum(
        message = "Table 4 row 2.6 (currentState): the previous state is answered, so the batch disagrees with agentbyworkno and the VDN listing"
    )]
    BatchStateDisagrees,
    /// Success `resultDesc` is an object.
    #[strum(
        message = "Table 3 row resultDesc (array on success): success `resultDesc` is an object keyed by agentId"
    )]
    BatchDescNotArray,

    // teamagentstatusinfo (counts).
    /// `lateAdjust` is -1.
    #[strum(message = "Table 4 (counts of agents): `lateAdjust` is -1")]
    TeamNegativeCount,
    /// `loginEd` is a string.
    #[strum(message = "Table 4 row 2.1 (loginEd, int): `loginEd` is a string")]
    TeamCountString,
    /// No `rest` key.
    #[strum(message = "Table 4 row 2.7: the counts object has no `rest`")]
    TeamMissingKey,
    /// `loginEd` exceeds the number of distinct ids.
    #[strum(
        message = "Table 4 row 2.1 (loginEd, agents signed in among those asked): `loginEd` is the number of distinct ids + 1"
    )]
    TeamLoginExceedsIds,
    /// One more idle agent than there is.
    #[strum(
        message = "Table 4 rows 2.1, 2.3, 2.4: `idle`, `usable` and `loginEd` count one agent more than the batch view shows"
    )]
    TeamMiscount,
    /// Success `resultDesc` is an array.
    #[strum(
        message = "Table 3 row resultDesc (object on success): success `resultDesc` is an array holding the counts"
    )]
    TeamDescNotObject,

    // totalagentabstractex3 (VDN listing).
    /// `count` is the page's length.
    #[strum(message = "Table 3 row count (agents in the VDN): `count` is the page's length")]
    VdnCountPageSize,
    /// Each page after the first starts one agent early.
    #[strum(
        message = "Table 2 row offset (start position): each page after the first starts one agent early, so pages overlap"
    )]
    VdnOverlappingPages,
    /// The page repeats its first agent.
    #[strum(message = "Table 4 (one item per agent): a page lists its first agent twice")]
    VdnDuplicateAgent,
    /// limit + 1 agents per page.
    #[strum(message = "Table 2 row limit (page size): a page holds limit + 1 agents")]
    VdnLimitIgnored,
    /// `count` changes between pages.
    #[strum(
        message = "Table 3 row count (the VDN's total): odd pages (offset / limit odd) answer count + 1"
    )]
    VdnCountChanges,
    /// `currentState` is the previous state.
    #[strum(
        message = "Table 4 row 2.2 (currentState): the previous state is answered, so the listing disagrees with agentbyworkno and the batch"
    )]
    VdnStateDisagrees,
    /// A page lists an agent of another VDN.
    #[strum(
        message = "Table 4 (agents of the queried VDN): a page's last agent belongs to another VDN"
    )]
    VdnForeignAgent,
    /// limit 1001 is answered.
    #[strum(
        serialize = "vdn-accepts-1001",
        message = "Table 2 row limit (1-1000): limit 1001 is answered with success"
    )]
    VdnAccepts1001,
}

impl Fault {
    /// Every fault, in catalogue order (family-wide first, then by endpoint).
    pub fn all() -> Vec<Fault> {
        Fault::iter().collect()
    }

    /// The kebab-case name used in profiles and on the command line; unique
    /// across faults and variants.
    pub fn name(&self) -> &'static str {
        self.into()
    }

    /// The fault named `s` (exact kebab-case name).
    pub fn parse(s: &str) -> Option<Fault> {
        s.parse().ok()
    }

    /// The spec table and row the fault violates, and how.
    pub fn describe(&self) -> &'static str {
        // Every variant has a message (a unit test checks).
        self.get_message().unwrap_or_default()
    }

    /// The endpoint whose replies carry the fault; `None` for a family-wide
    /// fault (every endpoint's replies).
    pub fn endpoint(&self) -> Option<&'static str> {
        use Fault::*;
        match self {
            MissingResult | MissingResultCode | ResultCodeNumber | SuccessCodeWrong
            | ResultDisagrees | MissingLegacyDatas | LegacyDatasDiffer | DescNotObject | NoAuth
            | AcceptsBadSignature | AcceptsStale | AcceptsGet | Error500 | WrongErrorCode
            | TextPlain | NotJson | HtmlError => None,
            WorkNoString
            | NameNumber
            | PhoneNumberInt
            | LoginDateString
            | LoginSentinelSignedIn
            | LoginSeconds
            | LoginRealSignedOut
            | CurrentStateTimeNegative
            | CurrentStateTimeFloat
            | MissingFieldName
            | StatusOutOfEnum
            | CtiOutOfRange
            | MediaTypeInvalid
            | Status9
            | StatusCtiMismatch
            | WorkNoMismatch
            | VdnMismatch
            | ErrorWithAgent
            | OutOfRangeAccepted => Some(AGENTBYWORKNO),
            BatchMissingItem
            | BatchExtraItem
            | BatchDuplicateItems
            | BatchOrderReversed
            | BatchLogonSeconds
            | BatchLogonSentinelSignedIn
            | BatchLogonRealSignedOut
            | BatchStateOutOfRange
            | BatchAgentIdString
            | BatchNegativeStateTime
            | BatchAccepts6001
            | BatchStateDisagrees
            | BatchDescNotArray => Some(BATCH),
            TeamNegativeCount | TeamCountString | TeamMissingKey | TeamLoginExceedsIds
            | TeamMiscount | TeamDescNotObject => Some(TEAM),
            VdnCountPageSize | VdnOverlappingPages | VdnDuplicateAgent | VdnLimitIgnored
            | VdnCountChanges | VdnStateDisagrees | VdnForeignAgent | VdnAccepts1001 => {
                Some(VDN_LISTING)
            }
        }
    }
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// An allowed latitude the simulator can take; none is a contract violation.
/// The message says what it does and why the contract allows it.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, EnumIter, IntoStaticStr, EnumString, EnumMessage,
)]
#[strum(serialize_all = "kebab-case")]
pub enum Variant {
    /// Keys of every JSON object in reverse order.
    #[strum(
        message = "JSON object key order is not significant: envelope and payload keys are reversed"
    )]
    ReorderedKeys,
    /// Pretty-printed JSON.
    #[strum(message = "JSON whitespace is not significant: bodies are pretty-printed")]
    Pretty,
    /// An extra key in every payload object and item.
    #[strum(
        message = "Table 4 does not forbid more keys: every payload object and item carries one more (\"skillGroup\": \"default\"; counts: \"callOut\": 0)"
    )]
    ExtraField,
    /// `Content-Type: application/json` without charset.
    #[strum(
        message = "JSON is UTF-8 by default: Content-Type is application/json without charset"
    )]
    Charsetless,
    /// Signed-out agents (except the sample, 101 in VDN 1) have `phoneNumber` "".
    #[strum(
        message = "agentbyworkno Table 4 row 2.5 (phoneNumber, string): signed-out agents answer \"\" instead of null"
    )]
    PhoneString,
    /// Every `mediaType` is 0.
    #[strum(
        message = "agentbyworkno Table 4 row 2.8 and the sample's 0 (no media): every agent answers mediaType 0"
    )]
    MediaZero,
}

impl Variant {
    /// Every variant, in catalogue order.
    pub fn all() -> Vec<Variant> {
        Variant::iter().collect()
    }

    /// The kebab-case name used in profiles and on the command line; unique
    /// across faults and variants.
    pub fn name(&self) -> &'static str {
        self.into()
    }

    /// The variant named `s` (exact kebab-case name).
    pub fn parse(s: &str) -> Option<Variant> {
        s.parse().ok()
    }

    /// What the variant does and why the contract allows it.
    pub fn describe(&self) -> &'static str {
        self.get_message().unwrap_or_default()
    }

    /// The endpoint whose replies it changes; `None` for every endpoint.
    pub fn endpoint(&self) -> Option<&'static str> {
        match self {
            Variant::ReorderedKeys
            | Variant::Pretty
            | Variant::ExtraField
            | Variant::Charsetless => None,
            Variant::PhoneString | Variant::MediaZero => Some(AGENTBYWORKNO),
        }
    }
}

impl std::fmt::Display for Variant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// One open question the simulator answers in a switchable way: the values
/// it can serve (every one conforming) and the one it serves by default.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OptionInfo {
    /// The endpoint the option belongs to.
    pub endpoint: &'static str,
    /// The option's name; `SimConfig::options` key `name` (every endpoint
    /// that has it) or `endpoint.name`.
    pub name: &'static str,
    /// Every value the simulator can serve.
    pub values: &'static [&'static str],
    /// The value served when none is given.
    pub default: &'static str,
    /// The contract note and open question it answers.
    pub cites: &'static str,
}

const fn opt(
    endpoint: &'static str,
    name: &'static str,
    values: &'static [&'static str],
    cites: &'static str,
) -> OptionInfo {
    // The default is always the first value listed.
    OptionInfo {
        endpoint,
        name,
        values,
        default: values[0],
        cites,
    }
}

/// The option table, by endpoint.
pub(crate) const OPTIONS: &[OptionInfo] = &[
    opt(
        AGENTBYWORKNO,
        "body_shape",
        &["wrapped", "flat"],
        "agentbyworkno.md open question 1 (the sample wraps Table 2 in `queryParam`)",
    ),
    opt(
        AGENTBYWORKNO,
        "status9",
        &["rejected", "allowed"],
        "agentbyworkno.md open question 5 (allowed: agent 120 in VDN 1 is status 9, CTI 8)",
    ),
    opt(
        AGENTBYWORKNO,
        "unknown_agent_code",
        &["0100001", "0100002"],
        "agentbyworkno.md open question 4 (no code is documented for an unknown agent)",
    ),
    opt(
        BATCH,
        "body_shape",
        &["flat", "wrapped"],
        "agentstatusinfobyagentids.md open question 8 (the sample is flat)",
    ),
    opt(
        BATCH,
        "item_order",
        &["request", "sorted"],
        "agentstatusinfobyagentids.md open question 1 (request order, as in the sample, or ascending agentId)",
    ),
    opt(
        BATCH,
        "unknown_ids",
        &["omit", "reject"],
        "agentstatusinfobyagentids.md open question 2 (ids not in the VDN left out, or 0100002)",
    ),
    opt(
        BATCH,
        "duplicate_ids",
        &["once", "each"],
        "agentstatusinfobyagentids.md open question 3 (one item per distinct id, or per occurrence)",
    ),
    opt(
        BATCH,
        "empty_ids",
        &["rejected", "allowed"],
        "agentstatusinfobyagentids.md open question 4 (0100002, or success with [])",
    ),
    opt(
        BATCH,
        "over_limit",
        &["rejected", "truncated"],
        "agentstatusinfobyagentids.md open question 5 (over 6000 ids: 0100002, or the first 6000)",
    ),
    opt(
        TEAM,
        "body_shape",
        &["flat", "wrapped"],
        "teamagentstatusinfo.md open question 9",
    ),
    opt(
        TEAM,
        "unknown_ids",
        &["omit", "reject"],
        "teamagentstatusinfo.md open question 4 (ids not in the VDN not counted, or 0100002)",
    ),
    opt(
        TEAM,
        "duplicate_ids",
        &["once", "each"],
        "teamagentstatusinfo.md open question 5 (counted once, or per occurrence)",
    ),
    opt(
        TEAM,
        "empty_ids",
        &["rejected", "allowed"],
        "teamagentstatusinfo.md open question 6 (0100002, or success with all counts 0)",
    ),
    opt(
        TEAM,
        "over_limit",
        &["rejected", "truncated"],
        "teamagentstatusinfo.md open question 6 (over 6000 ids: 0100002, or the first 6000)",
    ),
    opt(
        TEAM,
        "wrap_up_key",
        &["workSubstateBegin", "workSubStateBegin"],
        "teamagentstatusinfo.md open question 1 (Table 4's spelling, or the sample's)",
    ),
    opt(
        VDN_LISTING,
        "body_shape",
        &["flat", "wrapped"],
        "totalagentabstractex3.md open question 9",
    ),
    opt(
        VDN_LISTING,
        "order",
        &["agent_id", "stable_unsorted"],
        "totalagentabstractex3.md open question 1 (ascending agentId, or a fixed unsorted order)",
    ),
    opt(
        VDN_LISTING,
        "unknown_vdn",
        &["empty", "reject"],
        "totalagentabstractex3.md open question 8 (empty page with count 0, or 0100002)",
    ),
];

/// Every open-question option of every endpoint, with the values the
/// simulator can serve (each of them conforming).
pub fn options() -> Vec<OptionInfo> {
    OPTIONS.to_vec()
}
