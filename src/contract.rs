//! The CC-CMS `agentbyworkno` contract as data: endpoint, Table 2 ranges,
//! Table 5 status ↔ CTI mapping, result codes and the open-question choices.
//!
//! Everything that quotes `../shared/spec/agentbyworkno.md` lives here, so the
//! simulator, the checks and the boundary generator agree on one source.

/// `POST /rest/cmsapp/v1/openapi/agent/agentbyworkno` (spec "Endpoint").
pub const ENDPOINT_PATH: &str = "/rest/cmsapp/v1/openapi/agent/agentbyworkno";

/// Legacy 8.13 twin endpoint (spec "Versions"): `result` + `resultDatas`, lower-case keys.
pub const LEGACY_ENDPOINT_PATH: &str = "/rest/cmsapp/v1/openapi/agentgroup/agentbyworkno";

/// `resultCode` on success (Table 3 row 2).
pub const RESULT_CODE_SUCCESS: &str = "0100000";
/// `resultCode` "failed (generic)" (spec "Error codes").
pub const RESULT_CODE_FAILED: &str = "0100001";
/// `resultCode` "invalid parameter" (spec "Error codes").
pub const RESULT_CODE_INVALID_PARAMETER: &str = "0100002";
/// Legacy `result` on success (Table 3 row 1).
pub const RESULT_SUCCESS: &str = "0";

/// `loginDate` of an agent that is not signed in: 4294967295000 (Table 4 row 2.6).
pub const LOGIN_DATE_SENTINEL: i64 = 4_294_967_295_000;

/// One field of Table 2 (request body) with its documented range.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RequestField {
    /// JSON key, as the page spells it.
    pub name: &'static str,
    /// Row number in Table 2.
    pub row: u8,
    /// Inclusive ranges (the 2025-11 revision gives agentId two).
    pub ranges: &'static [(i64, i64)],
}

/// Table 2 as published on the 2024-08 page.
pub const TABLE2: [RequestField; 3] = [
    RequestField {
        name: "ccId",
        row: 1,
        ranges: &[(1, 65535)],
    },
    RequestField {
        name: "vdn",
        row: 2,
        ranges: &[(1, 5000)],
    },
    RequestField {
        name: "agentId",
        row: 3,
        ranges: &[(101, 59999)],
    },
];

/// Table 2 `agentId` ranges in the 2025-11 revision (spec "Versions").
pub const AGENT_ID_RANGES_2025_11: &[(i64, i64)] = &[(101, 59999), (70000, 999_999)];

/// One row of Table 5: an agent `status` and the CTI states (`citStatus`) it maps to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatusRow {
    /// Table 5 `status` value.
    pub status: i64,
    /// Meaning, in the page's words.
    pub meaning: &'static str,
    /// `citStatus` values that go with it; empty means "not used".
    pub cti: &'static [i64],
}

/// Table 5, in row order. Status 9 (pre-rest) is not in this page's table;
/// see [`Status9`].
pub const TABLE5: [StatusRow; 9] = [
    StatusRow {
        status: 0,
        meaning: "unknown",
        cti: &[9],
    },
    StatusRow {
        status: 1,
        meaning: "signed in (not used)",
        cti: &[],
    },
    StatusRow {
        status: 2,
        meaning: "signed out",
        cti: &[0],
    },
    StatusRow {
        status: 3,
        meaning: "busy",
        cti: &[7],
    },
    StatusRow {
        status: 4,
        meaning: "idle",
        cti: &[1],
    },
    StatusRow {
        status: 5,
        meaning: "wrap-up",
        cti: &[6],
    },
    StatusRow {
        status: 6,
        meaning: "same as idle (not used)",
        cti: &[],
    },
    StatusRow {
        status: 7,
        meaning: "talking",
        cti: &[2, 3, 4, 5],
    },
    StatusRow {
        status: 8,
        meaning: "rest",
        cti: &[8],
    },
];

/// The vendor appendix's status 9 "pre-rest" row (open question 5). Its CTI
/// state is not documented; rest (8) is the nearest and what we accept.
pub const STATUS9_ROW: StatusRow = StatusRow {
    status: 9,
    meaning: "pre-rest",
    cti: &[8],
};

/// Table 5 row for a status, honouring the status-9 choice.
pub fn status_row(status: i64, status9: Status9) -> Option<StatusRow> {
    if status == 9 && status9 == Status9::Allowed {
        return Some(STATUS9_ROW);
    }
    TABLE5.iter().copied().find(|r| r.status == status)
}

/// CTI platform agent states 0–10 (spec "CTI platform agent states").
pub const CTI_STATES: [(i64, &str); 11] = [
    (0, "not signed in"),
    (1, "idle"),
    (2, "pre-occupied"),
    (3, "occupied"),
    (4, "answering"),
    (5, "talking"),
    (6, "working"),
    (7, "busy"),
    (8, "rest"),
    (9, "study"),
    (10, "adjusting"),
];

/// Valid `mediaType` values: 0 (signed in to no media, the sample) and the
/// media-type table (1–23, 50–55).
pub fn is_media_type(v: i64) -> bool {
    (0..=23).contains(&v) || (50..=55).contains(&v)
}

/// Table 4 keys, in row order (2.1–2.9).
pub const TABLE4_KEYS: [&str; 9] = [
    "workNo",
    "vdnId",
    "citStatus",
    "name",
    "phoneNumber",
    "loginDate",
    "currentStateTime",
    "mediaType",
    "status",
];

/// Open question 1: how the Table 2 fields are carried in the body.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum BodyShape {
    /// `{"queryParam":{"ccId":…,"vdn":…,"agentId":…}}`, as in the page's sample (default).
    #[default]
    Wrapped,
    /// `{"ccId":…,"vdn":…,"agentId":…}`, as the newer revision's table suggests.
    Flat,
}

impl BodyShape {
    /// Parse the profile spelling (`wrapped` / `flat`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "wrapped" => Some(Self::Wrapped),
            "flat" => Some(Self::Flat),
            _ => None,
        }
    }

    /// The profile spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Wrapped => "wrapped",
            Self::Flat => "flat",
        }
    }
}

/// Open question 5: may `status` 9 (pre-rest) appear on this endpoint?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Status9 {
    /// Only this page's Table 5 (default): status 9 is a violation.
    #[default]
    Rejected,
    /// The vendor appendix's status 9 is accepted (with CTI 8).
    Allowed,
}

impl Status9 {
    /// Parse the profile spelling (`rejected` / `allowed`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "rejected" => Some(Self::Rejected),
            "allowed" => Some(Self::Allowed),
            _ => None,
        }
    }

    /// The profile spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rejected => "rejected",
            Self::Allowed => "allowed",
        }
    }
}

/// The spec table and row a JSON pointer into a reply refers to, e.g.
/// `/resultDesc/status` → "Table 4 row 2.9 status". Legacy lower-case keys
/// (8.13 twin endpoint) map to the same rows.
pub fn table_row(pointer: &str) -> Option<String> {
    let mut parts = pointer.trim_start_matches('/').split('/');
    let top = parts.next()?;
    let envelope = match top {
        "result" => "Table 3 row 1 result",
        "resultCode" => "Table 3 row 2 resultCode",
        "resultDatas" => "Table 3 row 3 resultDatas",
        "resultDesc" => "Table 3 row 4 resultDesc",
        _ => return None,
    };
    match parts.next() {
        None | Some("") => Some(envelope.to_string()),
        Some(key) => TABLE4_KEYS
            .iter()
            .position(|k| k.eq_ignore_ascii_case(key))
            .map(|i| format!("Table 4 row 2.{} {}", i + 1, TABLE4_KEYS[i]))
            .or_else(|| Some(envelope.to_string())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_map_to_table_rows() {
        assert_eq!(
            table_row("/resultDesc/status").as_deref(),
            Some("Table 4 row 2.9 status")
        );
        assert_eq!(
            table_row("/resultDatas/workno").as_deref(),
            Some("Table 4 row 2.1 workNo")
        );
        assert_eq!(
            table_row("/resultCode").as_deref(),
            Some("Table 3 row 2 resultCode")
        );
        assert_eq!(table_row("/other"), None);
    }

    #[test]
    fn status_rows_follow_table5_and_the_status9_choice() {
        assert_eq!(status_row(7, Status9::Rejected).unwrap().cti, &[2, 3, 4, 5]);
        assert!(status_row(9, Status9::Rejected).is_none());
        assert_eq!(status_row(9, Status9::Allowed).unwrap().cti, &[8]);
        assert!(is_media_type(0) && is_media_type(55) && !is_media_type(30));
    }
}

/// A documented release of this page, whose contract the suite can expect
/// (spec "Versions"). Schema overlays live in
/// `schemas/agentbyworkno/releases/<name>/`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub enum Release {
    /// The page updated 2024-08-02 (the seed contract; default).
    #[default]
    V2024_08,
    /// The 2025-11 revision: agentId also 70000–999999.
    V2025_11,
    /// The legacy 8.13 form: the twin endpoint, `result` + `resultDatas`
    /// only, lower-case agent keys.
    V8_13,
}

impl Release {
    /// Every release, oldest contract last.
    pub const ALL: [Release; 3] = [Release::V2024_08, Release::V2025_11, Release::V8_13];

    /// The spelling used in profiles, cases and overlay folders.
    pub fn name(self) -> &'static str {
        match self {
            Release::V2024_08 => "2024-08",
            Release::V2025_11 => "2025-11",
            Release::V8_13 => "8.13",
        }
    }

    /// Parse a release name.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == s)
    }

    /// The endpoint path this release is served on.
    pub fn endpoint(self) -> &'static str {
        match self {
            Release::V8_13 => LEGACY_ENDPOINT_PATH,
            _ => ENDPOINT_PATH,
        }
    }

    /// Whether replies use the legacy form (`result` + `resultDatas`, lower-case keys).
    pub fn is_legacy(self) -> bool {
        self == Release::V8_13
    }

    /// Table 2 as this release documents it.
    pub fn table2(self) -> [RequestField; 3] {
        let mut t = TABLE2;
        if self == Release::V2025_11 {
            t[2].ranges = AGENT_ID_RANGES_2025_11;
        }
        t
    }

    /// The key of a Table 4 field in this release's replies.
    pub fn agent_key(self, table4_key: &str) -> String {
        if self.is_legacy() {
            table4_key.to_ascii_lowercase()
        } else {
            table4_key.to_string()
        }
    }
}

impl std::fmt::Display for Release {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}
