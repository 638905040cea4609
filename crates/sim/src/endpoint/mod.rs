//! The [`Endpoint`] trait, the registry of the four endpoints, and the
//! request-field checks they share.
//!
//! An endpoint gets the request fields the family has already parsed and
//! unwrapped (a JSON object), the population at the reply's instant, the
//! release and its options ([`Ctx`]), and returns a typed [`Answer`]; the
//! family renders it into the envelope.

mod agentbyworkno;
mod agentstatusinfobyagentids;
mod teamagentstatusinfo;
mod totalagentabstractex3;

use std::collections::HashSet;

use serde_json::{Map, Value};

use crate::catalogue::Fault;
use crate::family::RESULT_CODE_INVALID_PARAMETER;
use crate::population::{Agent, Snapshot};
use crate::{Release, SimConfig, SimResponse};

/// Most agentIds one batch or count request may carry (Table 2 row 3).
pub(crate) const MAX_IDS: usize = 6000;

/// One CC-CMS open API endpoint: its own request fields and its own view
/// of the population.
pub(crate) trait Endpoint: Sync {
    /// The name, as in [`crate::ENDPOINTS`] and option keys.
    fn name(&self) -> &'static str;
    /// The URL path it is served on.
    fn path(&self) -> &'static str;
    /// An older twin path that always answers the legacy form.
    fn legacy_path(&self) -> Option<&'static str> {
        None
    }
    /// Whether the legacy form lower-cases the payload's keys.
    fn lowercase_legacy_keys(&self) -> bool {
        false
    }
    /// The answer to a request whose body (after the family's shape
    /// handling) is `fields`.
    fn answer(&self, ctx: &Ctx<'_>, fields: &Map<String, Value>) -> Answer;
    /// Make an object payload's legacy copy differ in one valid way
    /// ([`Fault::LegacyDatasDiffer`]); array payloads lose their last item.
    fn perturb_legacy(&self, _payload: &mut Map<String, Value>) {}
    /// The key [`crate::Variant::ExtraField`] adds to payload objects.
    fn extra_field(&self) -> (&'static str, Value) {
        ("skillGroup", Value::from("default"))
    }
}

/// What an endpoint has to work with for one request.
pub(crate) struct Ctx<'a> {
    /// The whole configuration.
    pub cfg: &'a SimConfig,
    /// The release served.
    pub release: Release,
    /// The population at the reply's instant.
    pub population: Snapshot,
    /// The endpoint answering (for its options).
    pub endpoint: &'static str,
}

impl Ctx<'_> {
    /// The value in force for this endpoint's option `name`.
    pub fn option(&self, name: &str) -> &str {
        self.cfg.option(self.endpoint, name).unwrap_or_default()
    }

    /// Whether `fault` is configured.
    pub fn fault(&self, fault: Fault) -> bool {
        self.cfg.fault == Some(fault)
    }
}

/// An endpoint's answer, before the family renders it.
pub(crate) enum Answer {
    /// Success: the payload goes into `resultDesc` and `resultDatas`.
    Success(Success),
    /// A missing or mistyped field: "0100002".
    Invalid(String),
    /// A field outside its documented range: "0100002".
    OutOfRange(String),
    /// A well-formed request the server does not answer with data (HTTP
    /// 200, this code, a string `resultDesc`).
    Failed {
        /// The `resultCode`.
        code: &'static str,
        /// The `resultDesc` message.
        desc: String,
    },
    /// Exactly this response (faults that leave the envelope).
    Raw(SimResponse),
}

/// A success answer.
pub(crate) struct Success {
    /// The object or array of `resultDesc` / `resultDatas`.
    pub payload: Value,
    /// More top-level keys, after `resultCode` (the VDN listing's `count`).
    pub extras: Vec<(&'static str, Value)>,
    /// A fault's different `resultDesc`, made from the payload.
    pub reshape_desc: Option<fn(&Value) -> Value>,
}

impl Success {
    /// Success with `payload` and nothing else.
    pub fn new(payload: Value) -> Success {
        Success {
            payload,
            extras: Vec::new(),
            reshape_desc: None,
        }
    }
}

static AGENTBYWORKNO: agentbyworkno::AgentByWorkNo = agentbyworkno::AgentByWorkNo;
static BATCH: agentstatusinfobyagentids::Batch = agentstatusinfobyagentids::Batch;
static TEAM: teamagentstatusinfo::Team = teamagentstatusinfo::Team;
static VDN_LISTING: totalagentabstractex3::VdnListing = totalagentabstractex3::VdnListing;

/// Every endpoint, in [`crate::ENDPOINTS`] order.
pub(crate) fn all() -> [&'static dyn Endpoint; 4] {
    [&AGENTBYWORKNO, &BATCH, &TEAM, &VDN_LISTING]
}

/// The endpoint served on `path`, and whether `path` is its legacy twin.
pub(crate) fn find(path: &str) -> Option<(&'static dyn Endpoint, bool)> {
    all().into_iter().find_map(|e| {
        if e.path() == path {
            Some((e, false))
        } else if e.legacy_path() == Some(path) {
            Some((e, true))
        } else {
            None
        }
    })
}

/// What a JSON value is, for error messages.
pub(crate) fn kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "boolean",
        Value::Number(n) if n.is_f64() => "float",
        Value::Number(_) => "integer",
        Value::String(_) => "string",
        Value::Array(_) => "array",
        Value::Object(_) => "object",
    }
}

/// A JSON integer as `i64`; integers beyond `i64` saturate, which is out
/// of every range. `what` names the value in the message.
pub(crate) fn int_value(v: &Value, what: &str) -> Result<i64, String> {
    match v {
        Value::Number(n) if n.is_i64() => Ok(n.as_i64().unwrap_or(i64::MAX)),
        Value::Number(n) if n.is_u64() => Ok(i64::MAX),
        other => Err(format!("{what} must be an integer, found {}", kind(other))),
    }
}

/// The integer field `name` of `obj`.
pub(crate) fn int_field(obj: &Map<String, Value>, name: &str) -> Result<i64, String> {
    match obj.get(name) {
        None => Err(format!("missing field {name}")),
        Some(v) => int_value(v, &format!("field {name}")),
    }
}

/// Check `value` against its documented inclusive ranges (Table 2 `row`);
/// `what` names it in the message. An upper bound of `i64::MAX` is "or more".
pub(crate) fn check_range(
    value: i64,
    what: &str,
    row: u8,
    ranges: &[(i64, i64)],
) -> Result<(), String> {
    if ranges.iter().any(|(lo, hi)| (lo..=hi).contains(&&value)) {
        return Ok(());
    }
    let ranges: Vec<String> = ranges
        .iter()
        .map(|&(lo, hi)| {
            if hi == i64::MAX {
                format!("{lo} or more")
            } else {
                format!("{lo}-{hi}")
            }
        })
        .collect();
    Err(format!(
        "{what} out of range (Table 2 row {row}: {})",
        ranges.join(", ")
    ))
}

/// Table 2 row 1: ccId.
pub(crate) const CC_ID_RANGE: &[(i64, i64)] = &[(1, 65_535)];
/// Table 2 row 2: vdn.
pub(crate) const VDN_RANGE: &[(i64, i64)] = &[(1, 5_000)];

/// A checked `{ccId, vdn, agentIds}` request (batch and counts).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IdQuery {
    pub cc_id: i64,
    pub vdn: i64,
    pub ids: Vec<i64>,
}

/// Check a `{ccId, vdn, agentIds}` body in the family order: every field's
/// type (elements included), then ccId and vdn ranges, then the number of
/// ids (options `empty_ids`, `over_limit`; at most `max` ids), then each
/// id's range for the release.
pub(crate) fn id_query(
    ctx: &Ctx<'_>,
    fields: &Map<String, Value>,
    max: usize,
) -> Result<IdQuery, Answer> {
    let cc_id = int_field(fields, "ccId").map_err(Answer::Invalid)?;
    let vdn = int_field(fields, "vdn").map_err(Answer::Invalid)?;
    let items = match fields.get("agentIds") {
        None => return Err(Answer::Invalid("missing field agentIds".into())),
        Some(Value::Array(items)) => items,
        Some(other) => {
            return Err(Answer::Invalid(format!(
                "field agentIds must be an array, found {}",
                kind(other)
            )))
        }
    };
    let mut ids = items
        .iter()
        .enumerate()
        .map(|(i, v)| int_value(v, &format!("field agentIds[{i}]")))
        .collect::<Result<Vec<i64>, String>>()
        .map_err(Answer::Invalid)?;
    check_range(cc_id, "field ccId", 1, CC_ID_RANGE).map_err(Answer::OutOfRange)?;
    check_range(vdn, "field vdn", 2, VDN_RANGE).map_err(Answer::OutOfRange)?;
    if ids.is_empty() && ctx.option("empty_ids") != "allowed" {
        return Err(Answer::OutOfRange(
            "field agentIds is empty (Table 2 row 3: 1 to 6000 ids)".into(),
        ));
    }
    if ids.len() > max {
        if ctx.option("over_limit") == "truncated" {
            ids.truncate(max);
        } else {
            return Err(Answer::OutOfRange(format!(
                "field agentIds has {} ids (Table 2 row 3: at most 6000)",
                ids.len()
            )));
        }
    }
    for (i, &id) in ids.iter().enumerate() {
        check_range(
            id,
            &format!("field agentIds[{i}]"),
            3,
            ctx.release.agent_id_ranges(),
        )
        .map_err(Answer::OutOfRange)?;
    }
    Ok(IdQuery { cc_id, vdn, ids })
}

/// The requested agents, in request order: duplicates once or per
/// occurrence (option `duplicate_ids`), ids not in the VDN left out or the
/// whole request refused (option `unknown_ids`).
pub(crate) fn requested_agents(ctx: &Ctx<'_>, q: &IdQuery) -> Result<Vec<Agent>, Answer> {
    let each = ctx.option("duplicate_ids") == "each";
    let reject = ctx.option("unknown_ids") == "reject";
    let mut seen = HashSet::new();
    let mut out = Vec::with_capacity(q.ids.len());
    for &id in &q.ids {
        if !seen.insert(id) && !each {
            continue;
        }
        match ctx.population.agent(q.cc_id, q.vdn, id) {
            Some(agent) => out.push(agent),
            None if reject => {
                return Err(Answer::Failed {
                    code: RESULT_CODE_INVALID_PARAMETER,
                    desc: format!("agent {id} not found in vdn {}", q.vdn),
                })
            }
            None => {}
        }
    }
    Ok(out)
}

/// The number of distinct ids in a request.
pub(crate) fn distinct(ids: &[i64]) -> usize {
    ids.iter().collect::<HashSet<_>>().len()
}
