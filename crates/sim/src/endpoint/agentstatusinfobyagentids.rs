//! `agentstatusinfobyagentids` ("query agent information in batches"): an
//! array with one Table 4 item per requested agent of the VDN, its
//! `currentState` the CTI state.

use std::collections::HashSet;

use serde_json::{Map, Value};

use super::{id_query, requested_agents, Answer, Ctx, Endpoint, Success, MAX_IDS};
use crate::catalogue::Fault;
use crate::population::{Agent, LOGIN_SENTINEL_MS, UNKNOWN_SECS};

/// The endpoint.
pub(crate) struct Batch;

impl Endpoint for Batch {
    fn name(&self) -> &'static str {
        crate::BATCH
    }

    fn path(&self) -> &'static str {
        "/rest/cmsapp/v1/openapi/agentgroup/agentstatusinfobyagentids"
    }

    /// `{ccId, vdn, agentIds}` checked as the family's id lists are, then
    /// one item per agent found (options `unknown_ids`, `duplicate_ids`),
    /// in request order or sorted (option `item_order`).
    fn answer(&self, ctx: &Ctx<'_>, fields: &Map<String, Value>) -> Answer {
        let max = if ctx.fault(Fault::BatchAccepts6001) {
            MAX_IDS + 1
        } else {
            MAX_IDS
        };
        let q = match id_query(ctx, fields, max) {
            Ok(q) => q,
            Err(answer) => return answer,
        };
        let mut agents = match requested_agents(ctx, &q) {
            Ok(a) => a,
            Err(answer) => return answer,
        };
        if ctx.option("item_order") == "sorted" {
            agents.sort_by_key(|a| a.work_no);
        }
        if ctx.fault(Fault::BatchExtraItem) {
            if let Some(extra) = unrequested(ctx, q.cc_id, q.vdn, &q.ids) {
                agents.push(extra);
            }
        }
        let mut items: Vec<Value> = agents.iter().map(|a| Value::Object(item(ctx, a))).collect();
        if ctx.fault(Fault::BatchMissingItem) {
            items.pop();
        }
        if ctx.fault(Fault::BatchDuplicateItems) {
            if let Some(first) = items.first().cloned() {
                items.insert(1, first);
            }
        }
        if ctx.fault(Fault::BatchOrderReversed) {
            items.reverse();
        }
        let mut success = Success::new(Value::Array(items));
        if ctx.fault(Fault::BatchDescNotArray) {
            success.reshape_desc = Some(keyed_by_agent_id);
        }
        Answer::Success(success)
    }
}

/// An agent the request did not name: the VDN's first, else agent 101 of
/// VDN 1, else 201 of VDN 2 (for [`Fault::BatchExtraItem`]).
fn unrequested(ctx: &Ctx<'_>, cc_id: i64, vdn: i64, ids: &[i64]) -> Option<Agent> {
    let members = crate::population::members(cc_id, vdn);
    let ids: HashSet<i64> = ids.iter().copied().collect();
    let same_vdn = (0..members.len().min(ids.len() + 1))
        .filter_map(|i| members.nth(i))
        .find(|w| !ids.contains(w))
        .and_then(|w| ctx.population.agent(cc_id, vdn, w));
    same_vdn.or_else(|| {
        [(1, 101), (2, 201)]
            .into_iter()
            .find(|(_, w)| !ids.contains(w))
            .and_then(|(v, w)| ctx.population.agent(crate::CC_ID, v, w))
    })
}

/// `resultDesc` as an object keyed by agentId ([`Fault::BatchDescNotArray`]).
fn keyed_by_agent_id(payload: &Value) -> Value {
    let mut m = Map::new();
    for item in payload.as_array().into_iter().flatten() {
        let key = item
            .get("agentId")
            .map(Value::to_string)
            .unwrap_or_default();
        m.insert(key, item.clone());
    }
    Value::Object(m)
}

/// The Table 4 item, keys in the sample's order, with the item faults.
fn item(ctx: &Ctx<'_>, a: &Agent) -> Map<String, Value> {
    let fault = ctx.cfg.fault;
    let current = match fault {
        Some(Fault::BatchStateOutOfRange) => 11,
        Some(Fault::BatchStateDisagrees) => a.prev_cti,
        _ => a.cti,
    };
    let logon = match (fault, a.login_ms) {
        (Some(Fault::BatchLogonSentinelSignedIn), Some(_)) => LOGIN_SENTINEL_MS,
        (Some(Fault::BatchLogonSeconds), Some(ms)) => ms / 1000,
        (Some(Fault::BatchLogonRealSignedOut), None) => a.would_be_login_ms(),
        (_, ms) => ms.unwrap_or(LOGIN_SENTINEL_MS),
    };
    let agent_id = match fault {
        Some(Fault::BatchAgentIdString) => Value::from(a.work_no.to_string()),
        _ => Value::from(a.work_no),
    };
    let state_time = match fault {
        Some(Fault::BatchNegativeStateTime) => -a.state_secs.max(1),
        _ => a.state_secs,
    };
    let mut m = Map::new();
    m.insert("prevState".into(), a.prev_cti.into());
    m.insert("agentId".into(), agent_id);
    m.insert("logonTime".into(), logon.into());
    m.insert("agentRelease".into(), a.agent_release.into());
    m.insert("locationId".into(), a.location_id.into());
    m.insert("currentPrivateCallNum".into(), a.private_calls.into());
    m.insert("currentStateTime".into(), state_time.into());
    m.insert("currentStateReason".into(), a.state_reason.into());
    m.insert(
        "prevStateTime".into(),
        a.prev_state_secs.unwrap_or(UNKNOWN_SECS).into(),
    );
    m.insert("currentState".into(), current.into());
    m
}
