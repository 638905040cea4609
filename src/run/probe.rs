//! Probes: requests a contract asks once per run, before any case needs
//! their answer (e.g. which code this deployment gives an unknown agent,
//! open question 4). An option may pin the answer instead. A probe that
//! gets no usable reply answers `null`, so nothing depending on it is
//! excused.

use super::Runner;
use crate::case::Case;
use crate::check::invariant::{Reply, ReplyScope};
use crate::contract::Contract;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;
use tokio::sync::{Mutex, OnceCell};

/// What to ask, per contract name.
#[derive(Debug, Clone, Default)]
pub struct ProbePlan {
    /// The probes of each contract.
    pub by_contract: BTreeMap<String, Vec<PlannedProbe>>,
}

/// One probe, ready.
#[derive(Debug, Clone)]
pub struct PlannedProbe {
    /// The probe's name (`probes.<name>` in expressions).
    pub name: String,
    /// Its answer, or the request that gets it.
    pub answer: ProbeAnswer,
}

/// Where a probe's answer comes from.
#[derive(Debug, Clone)]
pub enum ProbeAnswer {
    /// An option pins it.
    Pinned(Value),
    /// Send this request and evaluate the probe's expression on the reply.
    Ask(Box<Case>),
}

/// The answers, asked at most once per contract.
#[derive(Debug, Default)]
pub(crate) struct Probes {
    plan: ProbePlan,
    answers: Mutex<BTreeMap<String, Arc<OnceCell<Value>>>>,
}

impl Probes {
    pub(crate) fn new(plan: ProbePlan) -> Self {
        Self {
            plan,
            answers: Mutex::new(BTreeMap::new()),
        }
    }

    /// `contract`'s probe answers as the `probes` variable, asked on first use.
    pub(crate) async fn answers(&self, contract: &Contract, runner: &Runner) -> Value {
        let cell = self
            .answers
            .lock()
            .await
            .entry(contract.name.clone())
            .or_default()
            .clone();
        cell.get_or_init(|| self.ask(contract, runner))
            .await
            .clone()
    }

    async fn ask(&self, contract: &Contract, runner: &Runner) -> Value {
        let mut out = Map::new();
        for p in self
            .plan
            .by_contract
            .get(&contract.name)
            .into_iter()
            .flatten()
        {
            let value = match &p.answer {
                ProbeAnswer::Pinned(v) => v.clone(),
                ProbeAnswer::Ask(case) => ask_one(contract, &p.name, case, runner).await,
            };
            out.insert(p.name.clone(), value);
        }
        Value::Object(out)
    }
}

async fn ask_one(contract: &Contract, name: &str, case: &Case, runner: &Runner) -> Value {
    let (Some(probe), Some(release)) = (
        contract.probes.iter().find(|p| p.name == name),
        case.release.as_ref(),
    ) else {
        return Value::Null;
    };
    let (_, reply, _, _) = runner.exchange(case).await;
    let Ok(r) = reply else { return Value::Null };
    let Some(root) = runner.roots.get(&contract.name) else {
        return Value::Null;
    };
    let request = super::request_value(case, runner.options());
    let empty = Value::Object(Map::new());
    let scope = ReplyScope::new(
        root,
        release,
        contract.envelope(release),
        Reply {
            status: r.status,
            body: r.json.as_ref(),
            request: &request,
            probes: &empty,
        },
    );
    probe.value.eval_json(scope.scope()).unwrap_or(Value::Null)
}
