//! `teamagentstatusinfo` ("count agents per state, in batches"): one object
//! of 12 counts over the requested agents of the VDN, tallied from their CTI
//! states, so the ten per-state counts add up to `loginEd`.

use serde_json::{Map, Value};

use super::{distinct, id_query, requested_agents, Answer, Ctx, Endpoint, Success, MAX_IDS};
use crate::catalogue::Fault;

/// The endpoint.
pub(crate) struct Team;

/// `(key, CTI state)` of the per-state counts, in Table 4 order; `None`
/// for `loginEd` (any state but 0) and `usable` (= idle). The wrap-up key
/// is spelled by option `wrap_up_key`.
const COUNTS: [(&str, Option<i64>); 12] = [
    ("loginEd", None),
    ("talking", Some(5)),
    ("idle", Some(1)),
    ("usable", None),
    ("setBusy", Some(7)),
    (WRAP_UP, Some(6)),
    ("rest", Some(8)),
    ("studying", Some(9)),
    ("occupy", Some(3)),
    ("preoccupy", Some(2)),
    ("answering", Some(4)),
    ("lateAdjust", Some(10)),
];

/// Table 4's spelling of the wrap-up count.
const WRAP_UP: &str = "workSubstateBegin";

impl Endpoint for Team {
    fn name(&self) -> &'static str {
        crate::TEAM
    }

    fn path(&self) -> &'static str {
        "/rest/cmsapp/v1/openapi/agentgroup/teamagentstatusinfo"
    }

    /// `{ccId, vdn, agentIds}` checked as the family's id lists are, then
    /// the counts over the agents found (options `unknown_ids`,
    /// `duplicate_ids`).
    fn answer(&self, ctx: &Ctx<'_>, fields: &Map<String, Value>) -> Answer {
        let q = match id_query(ctx, fields, MAX_IDS) {
            Ok(q) => q,
            Err(answer) => return answer,
        };
        let agents = match requested_agents(ctx, &q) {
            Ok(a) => a,
            Err(answer) => return answer,
        };
        let states: Vec<i64> = agents.iter().map(|a| a.cti).collect();
        let mut counts = tally(&states, ctx.option("wrap_up_key"));
        let bump = |counts: &mut Map<String, Value>, key: &str| {
            let n = counts.get(key).and_then(Value::as_i64).unwrap_or(0);
            counts.insert(key.into(), (n + 1).into());
        };
        match ctx.cfg.fault {
            Some(Fault::TeamNegativeCount) => {
                counts.insert("lateAdjust".into(), (-1).into());
            }
            Some(Fault::TeamCountString) => {
                let n = counts.get("loginEd").cloned().unwrap_or_default();
                counts.insert("loginEd".into(), n.to_string().into());
            }
            Some(Fault::TeamMissingKey) => {
                counts.shift_remove("rest");
            }
            Some(Fault::TeamLoginExceedsIds) => {
                let n = i64::try_from(distinct(&q.ids)).unwrap_or(i64::MAX);
                counts.insert("loginEd".into(), n.saturating_add(1).into());
            }
            Some(Fault::TeamMiscount) => {
                for key in ["idle", "usable", "loginEd"] {
                    bump(&mut counts, key);
                }
            }
            _ => {}
        }
        let mut success = Success::new(Value::Object(counts));
        if ctx.fault(Fault::TeamDescNotObject) {
            success.reshape_desc = Some(|payload| Value::Array(vec![payload.clone()]));
        }
        Answer::Success(success)
    }

    /// The legacy copy counts one more agent resting (and signed in), so it
    /// is consistent with itself and differs only from `resultDesc`.
    fn perturb_legacy(&self, counts: &mut Map<String, Value>) {
        for key in ["rest", "loginEd"] {
            let n = counts.get(key).and_then(Value::as_i64).unwrap_or(0);
            counts.insert(key.into(), (n + 1).into());
        }
    }

    /// The skill-group sibling's 13th count (open question 2).
    fn extra_field(&self) -> (&'static str, Value) {
        ("callOut", Value::from(0))
    }
}

/// The 12 counts over agents in CTI `states`, wrap-up spelled `wrap_up_key`.
fn tally(states: &[i64], wrap_up_key: &str) -> Map<String, Value> {
    let count = |pred: &dyn Fn(i64) -> bool| -> i64 {
        i64::try_from(states.iter().filter(|&&s| pred(s)).count()).unwrap_or(i64::MAX)
    };
    let mut m = Map::new();
    for (key, cti) in COUNTS {
        let n = match (key, cti) {
            (_, Some(cti)) => count(&|s| s == cti),
            ("usable", None) => count(&|s| s == 1),
            _ => count(&|s| s != 0),
        };
        let key = if key == WRAP_UP { wrap_up_key } else { key };
        m.insert(key.into(), n.into());
    }
    m
}
