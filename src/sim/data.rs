//! The simulator's fixed agent population and the Table 4 agent object.
//!
//! Harness cases rely on these values exactly: change them only together
//! with the cases.

use serde_json::{Map, Value};

use crate::contract::{Status9, LOGIN_DATE_SENTINEL};

/// The only call center (`ccId`) the simulator knows.
pub const CC_ID: i64 = 1;

/// `(status, citStatus)` by `(workNo - first workNo of the VDN) % 10`: one
/// of each Table 5 row in use, and all four talking CTI states.
const STATES: [(i64, i64); 10] = [
    (2, 0),
    (4, 1),
    (3, 7),
    (5, 6),
    (7, 2),
    (7, 3),
    (7, 4),
    (7, 5),
    (8, 8),
    (0, 9),
];

/// `(vdn, first workNo, last workNo)`.
const VDNS: [(i64, i64, i64); 3] = [(1, 101, 120), (2, 201, 210), (3, 301, 310)];

/// The highest in-range work number, present in VDN 1 and idle.
const TOP_WORK_NO: i64 = 59_999;

/// Idle: status 4, CTI 1.
pub(crate) const IDLE: (i64, i64) = (4, 1);

/// Signed out: status 2, CTI 0.
pub(crate) const SIGNED_OUT: (i64, i64) = (2, 0);

/// `currentStateTime` of the page's sample agent (101 in VDN 1).
const SAMPLE_STATE_TIME: i64 = 436_879;

/// Base of `loginDate` for signed-in agents: 2024-08-02T00:00:00Z in ms.
const LOGIN_BASE_MS: i64 = 1_722_556_800_000;

/// One agent, typed, before it becomes a Table 4 JSON object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AgentRecord {
    pub work_no: i64,
    pub vdn_id: i64,
    pub cit_status: i64,
    pub name: String,
    pub phone_number: Option<String>,
    pub login_date: i64,
    pub current_state_time: i64,
    pub media_type: i64,
    pub status: i64,
}

impl AgentRecord {
    /// The Table 4 object, keys in row order 2.1–2.9.
    pub fn to_json(&self) -> Map<String, Value> {
        let mut m = Map::new();
        m.insert("workNo".into(), self.work_no.into());
        m.insert("vdnId".into(), self.vdn_id.into());
        m.insert("citStatus".into(), self.cit_status.into());
        m.insert("name".into(), self.name.clone().into());
        m.insert(
            "phoneNumber".into(),
            self.phone_number.clone().map_or(Value::Null, Value::from),
        );
        m.insert("loginDate".into(), self.login_date.into());
        m.insert("currentStateTime".into(), self.current_state_time.into());
        m.insert("mediaType".into(), self.media_type.into());
        m.insert("status".into(), self.status.into());
        m
    }

    /// Whether this is the page's sample agent (101 in VDN 1).
    pub fn is_sample(&self) -> bool {
        self.vdn_id == 1 && self.work_no == 101
    }
}

/// An agent built by the population rules for any `(vdn, workNo, state)`.
pub(crate) fn synthesize(vdn: i64, work_no: i64, (status, cit_status): (i64, i64)) -> AgentRecord {
    let signed_out = status == SIGNED_OUT.0;
    let media_type = if signed_out || status == 0 {
        0
    } else if vdn == 2 {
        51
    } else {
        5
    };
    let current_state_time = if vdn == 1 && work_no == 101 {
        SAMPLE_STATE_TIME
    } else {
        work_no.wrapping_mul(37).rem_euclid(86_400)
    };
    AgentRecord {
        work_no,
        vdn_id: vdn,
        cit_status,
        name: format!("HW35154{work_no}"),
        phone_number: (!signed_out).then(|| format!("8801{work_no}")),
        login_date: if signed_out {
            LOGIN_DATE_SENTINEL
        } else {
            LOGIN_BASE_MS.saturating_add(work_no.saturating_mul(60_000))
        },
        current_state_time,
        media_type,
        status,
    }
}

/// The stored agent `workNo` in `vdn` of `cc_id`, if it exists.
pub(crate) fn record(cc_id: i64, vdn: i64, work_no: i64, status9: Status9) -> Option<AgentRecord> {
    if cc_id != CC_ID {
        return None;
    }
    if vdn == 1 && work_no == TOP_WORK_NO {
        return Some(synthesize(vdn, work_no, IDLE));
    }
    let &(_, first, _) = VDNS
        .iter()
        .find(|&&(v, first, last)| v == vdn && (first..=last).contains(&work_no))?;
    let offset = usize::try_from((work_no - first) % 10).ok()?;
    let mut state = *STATES.get(offset)?;
    if status9 == Status9::Allowed && vdn == 1 && work_no == 120 {
        state = (9, 8);
    }
    Some(synthesize(vdn, work_no, state))
}

/// The conforming Table 4 agent object for `workNo` in `vdn` of `cc_id`, or
/// `None` when there is no such agent.
pub fn agent(cc_id: i64, vdn: i64, work_no: i64, status9: Status9) -> Option<Value> {
    record(cc_id, vdn, work_no, status9).map(|r| Value::Object(r.to_json()))
}

/// Every `(vdn, workNo)` that exists (all in call center [`CC_ID`]), sorted.
pub fn known_agents() -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = VDNS
        .iter()
        .flat_map(|&(v, first, last)| (first..=last).map(move |w| (v, w)))
        .collect();
    out.push((1, TOP_WORK_NO));
    out.sort_unstable();
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::{is_media_type, status_row};

    #[test]
    fn sample_agent_is_the_page_sample() {
        let a = agent(1, 1, 101, Status9::Rejected).expect("agent 101");
        assert_eq!(
            serde_json::to_string(&a).expect("serialises"),
            r#"{"workNo":101,"vdnId":1,"citStatus":0,"name":"HW35154101","phoneNumber":null,"loginDate":4294967295000,"currentStateTime":436879,"mediaType":0,"status":2}"#
        );
    }

    #[test]
    fn population() {
        let known = known_agents();
        assert_eq!(known.len(), 20 + 1 + 10 + 10);
        for &(vdn, w) in &known {
            for s9 in [Status9::Rejected, Status9::Allowed] {
                let r = record(1, vdn, w, s9).expect("known agent exists");
                let row = status_row(r.status, s9).expect("status in Table 5");
                assert!(row.cti.contains(&r.cit_status), "{vdn}/{w}: {r:?}");
                assert!(is_media_type(r.media_type));
                assert_eq!((r.work_no, r.vdn_id), (w, vdn));
            }
            assert!(record(2, vdn, w, Status9::Rejected).is_none());
        }
        assert!(record(1, 1, 100, Status9::Rejected).is_none());
        assert!(record(1, 1, 121, Status9::Rejected).is_none());
        assert!(record(1, 2, 101, Status9::Rejected).is_none());
        assert!(record(1, 4, 401, Status9::Rejected).is_none());
        assert_eq!(
            record(1, 1, 59_999, Status9::Rejected).map(|r| r.status),
            Some(4)
        );
        assert_eq!(
            record(1, 1, 120, Status9::Rejected).map(|r| (r.status, r.cit_status)),
            Some((0, 9))
        );
        assert_eq!(
            record(1, 1, 120, Status9::Allowed).map(|r| (r.status, r.cit_status)),
            Some((9, 8))
        );
        let a = record(1, 2, 203, Status9::Rejected).expect("agent 203");
        assert_eq!((a.status, a.cit_status, a.media_type), (3, 7, 51));
        assert_eq!(a.phone_number.as_deref(), Some("8801203"));
        assert_eq!(a.login_date, 1_722_556_800_000 + 203 * 60_000);
        assert_eq!(a.current_state_time, 203 * 37);
    }
}
