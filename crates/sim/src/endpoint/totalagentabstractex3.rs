//! `totalagentabstractex3` ("query all agents in a VDN"): one page of the
//! VDN's agents (`limit` from `offset`), each with its CTI state, plus the
//! VDN's total agent count at the top level. Pages are cut from a stable
//! order, so a walk over the pages lists every agent once.

use serde_json::{Map, Value};

use super::{check_range, int_field, Answer, Ctx, Endpoint, Success, CC_ID_RANGE, VDN_RANGE};
use crate::catalogue::Fault;
use crate::family::RESULT_CODE_INVALID_PARAMETER;
use crate::population::{members, mix, Agent, Members};

/// The endpoint.
pub(crate) struct VdnListing;

/// Table 2 row 3: limit.
const LIMIT_RANGE: &[(i64, i64)] = &[(1, 1000)];
/// [`Fault::VdnAccepts1001`]'s limit range.
const LIMIT_RANGE_1001: &[(i64, i64)] = &[(1, 1001)];
/// Table 2 row 4: offset.
const OFFSET_RANGE: &[(i64, i64)] = &[(0, i64::MAX)];

impl Endpoint for VdnListing {
    fn name(&self) -> &'static str {
        crate::VDN_LISTING
    }

    fn path(&self) -> &'static str {
        "/rest/cmsapp/v1/openapi/vdn/totalagentabstractex3"
    }

    /// Table 2 types (all four), then ranges (0100002), then the page
    /// (option `order`); an unknown VDN per option `unknown_vdn`.
    fn answer(&self, ctx: &Ctx<'_>, fields: &Map<String, Value>) -> Answer {
        let typed = (|| {
            Ok::<_, String>((
                int_field(fields, "ccId")?,
                int_field(fields, "vdn")?,
                int_field(fields, "limit")?,
                int_field(fields, "offset")?,
            ))
        })();
        let (cc_id, vdn, limit, offset) = match typed {
            Ok(t) => t,
            Err(desc) => return Answer::Invalid(desc),
        };
        let limit_range = if ctx.fault(Fault::VdnAccepts1001) {
            LIMIT_RANGE_1001
        } else {
            LIMIT_RANGE
        };
        let ranges = check_range(cc_id, "field ccId", 1, CC_ID_RANGE)
            .and_then(|()| check_range(vdn, "field vdn", 2, VDN_RANGE))
            .and_then(|()| check_range(limit, "field limit", 3, limit_range))
            .and_then(|()| check_range(offset, "field offset", 4, OFFSET_RANGE));
        if let Err(desc) = ranges {
            return Answer::OutOfRange(desc);
        }
        let all = members(cc_id, vdn);
        if all.is_empty() && ctx.option("unknown_vdn") == "reject" {
            return Answer::Failed {
                code: RESULT_CODE_INVALID_PARAMETER,
                desc: format!("vdn {vdn} not found"),
            };
        }
        // Both are in range and at most 1001 / i64::MAX, so these fit.
        let limit = usize::try_from(limit).unwrap_or(usize::MAX);
        let offset = usize::try_from(offset).unwrap_or(usize::MAX);
        Answer::Success(page(ctx, cc_id, vdn, all, limit, offset))
    }
}

/// The page and `count`, with the listing faults.
fn page(ctx: &Ctx<'_>, cc_id: i64, vdn: i64, all: Members, limit: usize, offset: usize) -> Success {
    let order = Order::new(all.len(), ctx.option("order") == "stable_unsorted");
    let start = if ctx.fault(Fault::VdnOverlappingPages) {
        offset.saturating_sub(1)
    } else {
        offset
    };
    let size = if ctx.fault(Fault::VdnLimitIgnored) {
        limit.saturating_add(1)
    } else {
        limit
    };
    let end = start.saturating_add(size).min(all.len());
    let mut agents: Vec<Agent> = (start..end)
        .filter_map(|i| all.nth(order.at(i)))
        .filter_map(|w| ctx.population.agent(cc_id, vdn, w))
        .collect();
    if ctx.fault(Fault::VdnDuplicateAgent) {
        if let Some(first) = agents.first().cloned() {
            if agents.len() < limit {
                agents.push(first);
            } else if let Some(last) = agents.last_mut() {
                *last = first;
            }
        }
    }
    if ctx.fault(Fault::VdnForeignAgent) {
        let (v, w) = if vdn == 2 { (1, 101) } else { (2, 201) };
        let foreign = ctx.population.agent(crate::CC_ID, v, w);
        if let (Some(last), Some(foreign)) = (agents.last_mut(), foreign) {
            *last = foreign;
        }
    }
    let items: Vec<Value> = agents.iter().map(|a| Value::Object(item(ctx, a))).collect();
    let count = match ctx.cfg.fault {
        Some(Fault::VdnCountPageSize) => items.len(),
        Some(Fault::VdnCountChanges) => all.len() + (offset / limit.max(1)) % 2,
        _ => all.len(),
    };
    let mut success = Success::new(Value::Array(items));
    success.extras.push(("count", Value::from(count)));
    success
}

/// The Table 4 item.
fn item(ctx: &Ctx<'_>, a: &Agent) -> Map<String, Value> {
    let state = if ctx.fault(Fault::VdnStateDisagrees) {
        a.prev_cti
    } else {
        a.cti
    };
    let mut m = Map::new();
    m.insert("agentId".into(), a.work_no.into());
    m.insert("currentState".into(), state.into());
    m.insert("currentStateTime".into(), a.state_secs.into());
    m.insert("locationId".into(), a.location_id.into());
    m
}

/// A stable order of a VDN's members: ascending, or a fixed permutation
/// `i -> (a * i + b) mod n` with `a` coprime to `n` (option `order` =
/// `stable_unsorted`), computed per position so no page needs the whole VDN.
struct Order {
    n: usize,
    a: usize,
    b: usize,
}

impl Order {
    fn new(n: usize, unsorted: bool) -> Order {
        if !unsorted || n < 2 {
            return Order { n, a: 1, b: 0 };
        }
        let seed = usize::try_from(mix(n as u64) % 1_000_003).unwrap_or(0);
        let a = (seed % n..)
            .take(n + 1)
            .map(|a| a % n)
            .find(|&a| a > 1 && gcd(a, n) == 1)
            .unwrap_or(1);
        Order { n, a, b: n / 2 }
    }

    /// The member index at position `i`.
    fn at(&self, i: usize) -> usize {
        if self.n == 0 {
            return i;
        }
        ((self.a as u128 * i as u128 + self.b as u128) % self.n as u128) as usize
    }
}

fn gcd(mut a: usize, mut b: usize) -> usize {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a
}
