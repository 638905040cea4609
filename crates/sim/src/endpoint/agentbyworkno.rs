//! `agentbyworkno` ("query agent details"): one agent by work number, as
//! the Table 4 agent object, `status` derived from the CTI state by Table 5.
//! Its 8.13 twin path answers the legacy form with lower-case keys.

use serde_json::{Map, Value};

use super::{check_range, int_field, Answer, Ctx, Endpoint, Success, CC_ID_RANGE, VDN_RANGE};
use crate::catalogue::{Fault, Variant};
use crate::family::{add_extra_field, error_envelope, json, RESULT_CODE_FAILED};
use crate::population::{Agent, CC_ID, LOGIN_SENTINEL_MS};

/// The endpoint.
pub(crate) struct AgentByWorkNo;

/// Cycle position of an idle agent (what [`Fault::OutOfRangeAccepted`] invents).
const IDLE_POS: usize = 1;
/// Cycle position of a signed-out agent (what [`Fault::ErrorWithAgent`] shows).
const SIGNED_OUT_POS: usize = 0;

impl Endpoint for AgentByWorkNo {
    fn name(&self) -> &'static str {
        crate::AGENTBYWORKNO
    }

    fn path(&self) -> &'static str {
        "/rest/cmsapp/v1/openapi/agent/agentbyworkno"
    }

    fn legacy_path(&self) -> Option<&'static str> {
        Some("/rest/cmsapp/v1/openapi/agentgroup/agentbyworkno")
    }

    fn lowercase_legacy_keys(&self) -> bool {
        true
    }

    /// Table 2 types (all three), then ranges (0100002), then the agent
    /// (open question 4 for an unknown one: option `unknown_agent_code`).
    fn answer(&self, ctx: &Ctx<'_>, fields: &Map<String, Value>) -> Answer {
        let typed = (|| {
            Ok::<_, String>((
                int_field(fields, "ccId")?,
                int_field(fields, "vdn")?,
                int_field(fields, "agentId")?,
            ))
        })();
        let (cc_id, vdn, agent_id) = match typed {
            Ok(t) => t,
            Err(desc) => return Answer::Invalid(desc),
        };
        let ranges = check_range(cc_id, "field ccId", 1, CC_ID_RANGE)
            .and_then(|()| check_range(vdn, "field vdn", 2, VDN_RANGE))
            .and_then(|()| {
                check_range(agent_id, "field agentId", 3, ctx.release.agent_id_ranges())
            });
        if let Err(desc) = ranges {
            if ctx.fault(Fault::OutOfRangeAccepted) && (cc_id, vdn, agent_id) == (CC_ID, 1, 60_000)
            {
                let phantom = ctx.population.phantom(vdn, agent_id, IDLE_POS);
                return Answer::Success(Success::new(Value::Object(agent_object(ctx, phantom))));
            }
            return Answer::OutOfRange(desc);
        }
        match ctx.population.agent(cc_id, vdn, agent_id) {
            Some(agent) => Answer::Success(Success::new(Value::Object(agent_object(ctx, agent)))),
            None => {
                let desc = if cc_id == CC_ID {
                    format!("agent {agent_id} not found in vdn {vdn}")
                } else {
                    format!("agent {agent_id} not found in vdn {vdn} of call center {cc_id}")
                };
                if ctx.fault(Fault::ErrorWithAgent) {
                    let would_be = ctx.population.phantom(vdn, agent_id, SIGNED_OUT_POS);
                    let mut agent = Value::Object(agent_object(ctx, would_be));
                    add_extra_field(ctx.cfg, self, &mut agent);
                    let env = error_envelope(RESULT_CODE_FAILED, agent);
                    return Answer::Raw(json(ctx.cfg, 200, env));
                }
                let code = match ctx.option("unknown_agent_code") {
                    "0100002" => crate::family::RESULT_CODE_INVALID_PARAMETER,
                    _ => RESULT_CODE_FAILED,
                };
                Answer::Failed { code, desc }
            }
        }
    }

    /// Another valid Table 5 pair, so the only defect is the disagreement.
    fn perturb_legacy(&self, datas: &mut Map<String, Value>) {
        let idle = datas.get("status") == Some(&Value::from(4));
        let (status, cti) = if idle { (3, 7) } else { (4, 1) };
        datas.insert("citStatus".into(), cti.into());
        datas.insert("status".into(), status.into());
    }
}

/// The Table 4 agent, typed, as this endpoint shows it.
struct AgentView {
    work_no: i64,
    vdn_id: i64,
    cit_status: i64,
    name: String,
    phone_number: Option<String>,
    login_date: i64,
    current_state_time: i64,
    media_type: i64,
    status: i64,
    signed_in: bool,
    would_be_login: i64,
}

impl AgentView {
    fn of(a: Agent) -> AgentView {
        AgentView {
            work_no: a.work_no,
            vdn_id: a.vdn,
            cit_status: a.cti,
            status: a.status(),
            signed_in: a.signed_in(),
            login_date: a.login_ms.unwrap_or(LOGIN_SENTINEL_MS),
            would_be_login: a.would_be_login_ms(),
            current_state_time: a.state_secs,
            media_type: a.media_type,
            name: a.name,
            phone_number: a.phone,
        }
    }

    /// Whether this is the page's sample agent (101 in VDN 1).
    fn is_sample(&self) -> bool {
        self.vdn_id == 1 && self.work_no == 101
    }

    /// The Table 4 object, keys in row order 2.1-2.9.
    fn to_json(&self) -> Map<String, Value> {
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
}

/// The agent object as served: the record with the configured variant and
/// fault applied (the family adds [`Variant::ExtraField`]).
fn agent_object(ctx: &Ctx<'_>, agent: Agent) -> Map<String, Value> {
    let mut a = AgentView::of(agent);
    match ctx.cfg.variant {
        Some(Variant::PhoneString) if a.status == 2 && !a.is_sample() => {
            a.phone_number = Some(String::new());
        }
        Some(Variant::MediaZero) => a.media_type = 0,
        _ => {}
    }
    match ctx.cfg.fault {
        Some(Fault::Status9) if a.vdn_id == 1 && a.work_no == 109 => {
            a.status = 9;
            a.cit_status = 8;
        }
        Some(Fault::StatusCtiMismatch) if a.status == 4 => a.cit_status = 7,
        Some(Fault::WorkNoMismatch) => a.work_no = a.work_no.saturating_add(1),
        Some(Fault::VdnMismatch) => a.vdn_id = a.vdn_id.saturating_add(1),
        Some(Fault::LoginSentinelSignedIn) if a.signed_in => a.login_date = LOGIN_SENTINEL_MS,
        Some(Fault::LoginSeconds) if a.signed_in => a.login_date /= 1000,
        Some(Fault::LoginRealSignedOut) if !a.signed_in => a.login_date = a.would_be_login,
        _ => {}
    }
    let current_state_time = a.current_state_time;
    let mut m = a.to_json();
    match ctx.cfg.fault {
        Some(Fault::WorkNoString) => {
            m.insert("workNo".into(), a.work_no.to_string().into());
        }
        Some(Fault::NameNumber) => {
            m.insert("name".into(), a.work_no.into());
        }
        Some(Fault::PhoneNumberInt) => {
            let as_int = a
                .phone_number
                .as_deref()
                .and_then(|p| p.parse::<i64>().ok());
            if let Some(n) = as_int {
                m.insert("phoneNumber".into(), n.into());
            }
        }
        Some(Fault::LoginDateString) => {
            m.insert("loginDate".into(), a.login_date.to_string().into());
        }
        Some(Fault::CurrentStateTimeNegative) => {
            m.insert(
                "currentStateTime".into(),
                (-current_state_time.max(1)).into(),
            );
        }
        Some(Fault::CurrentStateTimeFloat) => {
            // i64 -> f64 is exact for the population's values (< 2^53).
            m.insert(
                "currentStateTime".into(),
                (current_state_time as f64 + 0.5).into(),
            );
        }
        Some(Fault::MissingFieldName) => {
            m.shift_remove("name");
        }
        Some(Fault::StatusOutOfEnum) => {
            m.insert("status".into(), 11.into());
        }
        Some(Fault::CtiOutOfRange) => {
            m.insert("citStatus".into(), 12.into());
        }
        Some(Fault::MediaTypeInvalid) => {
            m.insert("mediaType".into(), 30.into());
        }
        _ => {}
    }
    m
}
