//! The one agent population every endpoint answers from, and its churn.
//!
//! An [`Agent`] is one typed record; each endpoint renders its own view of
//! it, so the four endpoints agree about every agent at the same instant.
//! Nothing is stored: a [`Snapshot`] computes any agent in O(1) from its
//! work number, the instant and the churn rate, so the 10,000-agent VDN
//! costs nothing until a request names its agents.
//!
//! Harness cases rely on the static values exactly (VDNs 1-3 and the two
//! samples): change them only together with the cases.

use cms_auth_v2::Timestamp;

/// The only call center (`ccId`) there is.
pub(crate) const CC_ID: i64 = 1;

/// Not signed in: `loginDate` / `logonTime` 4294967295000 (0xFFFFFFFF s, in ms).
pub(crate) const LOGIN_SENTINEL_MS: i64 = 4_294_967_295_000;
/// Unknown duration: `prevStateTime` 4294967295 (0xFFFFFFFF).
pub(crate) const UNKNOWN_SECS: i64 = 4_294_967_295;
/// "Not used" (`US_NO_USE` 0xFFFF): `locationId`, `currentStateReason`.
pub(crate) const NOT_USED: i64 = 65_535;
/// `currentStateReason` "agent signed out by itself".
const SIGNED_OUT_BY_ITSELF: i64 = 258;

/// CTI states in cycle order: an agent at offset `k` of its VDN's block
/// starts in `CYCLE[k]` and, under churn, moves to the next one. Its
/// agentbyworkno statuses are one of each Table 5 row in use, and all four
/// talking CTI states.
pub(crate) const CYCLE: [i64; 10] = [0, 1, 7, 6, 2, 3, 4, 5, 8, 9];
/// Position of "idle" (CTI 1) in [`CYCLE`]: entered on signing in.
const IDLE_POS: usize = 1;

/// Sign-in base: 2024-08-02T00:00:00Z in seconds. A static agent signed in
/// at base + workNo minutes; churn counts state changes from this instant.
const EPOCH_SECS: i64 = 1_722_556_800;

/// One VDN: a block of consecutive work numbers in the state cycle, and at
/// most one more agent with a fixed cycle position, above the block.
struct Vdn {
    id: i64,
    first: i64,
    last: i64,
    extra: Option<(i64, usize)>,
}

/// Every VDN of call center [`CC_ID`].
const VDNS: [Vdn; 5] = [
    // 59999: the highest in-range work number, idle.
    Vdn {
        id: 1,
        first: 101,
        last: 120,
        extra: Some((59_999, IDLE_POS)),
    },
    Vdn {
        id: 2,
        first: 201,
        last: 210,
        extra: None,
    },
    Vdn {
        id: 3,
        first: 301,
        last: 310,
        extra: None,
    },
    // The large VDN, for 6000-id batches and VDN walks.
    Vdn {
        id: 40,
        first: 40_000,
        last: 49_999,
        extra: None,
    },
    // The batch page's sample: 1031 and 1099, both signed out.
    Vdn {
        id: 170,
        first: 1031,
        last: 1040,
        extra: Some((1099, 0)),
    },
];

/// Static values of the pages' sample agents: `(vdn, workNo, current state
/// seconds, previous CTI state)`.
const SAMPLES: [(i64, i64, i64, Option<i64>); 3] = [
    (1, 101, 436_879, None),
    (170, 1031, 2_224_439, Some(1)),
    (170, 1099, 230_703, Some(1)),
];

/// One agent at one instant: everything any endpoint shows of it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Agent {
    /// Work number (agentId).
    pub work_no: i64,
    /// The VDN it belongs to.
    pub vdn: i64,
    /// CTI state 0-9.
    pub cti: i64,
    /// The CTI state before this one.
    pub prev_cti: i64,
    /// Seconds in the current state.
    pub state_secs: i64,
    /// Seconds spent in the previous state; `None`: unknown (4294967295).
    pub prev_state_secs: Option<i64>,
    /// Sign-in time, epoch ms; `None` when signed out (CTI 0).
    pub login_ms: Option<i64>,
    /// Pre-rest (status 9) under the `status9 = allowed` option; CTI 8.
    pub pre_rest: bool,
    /// Agent name.
    pub name: String,
    /// Phone number; `None` when signed out.
    pub phone: Option<String>,
    /// agentbyworkno `mediaType`.
    pub media_type: i64,
    /// `locationId`.
    pub location_id: i64,
    /// `currentStateReason`.
    pub state_reason: i64,
    /// `agentRelease`: calls the agent hung up.
    pub agent_release: i64,
    /// `currentPrivateCallNum`.
    pub private_calls: i64,
}

impl Agent {
    /// Signed in: any CTI state but 0.
    pub fn signed_in(&self) -> bool {
        self.cti != 0
    }

    /// The agentbyworkno `status` (Table 5, from the CTI state).
    pub fn status(&self) -> i64 {
        if self.pre_rest {
            return 9;
        }
        status_of_cti(self.cti)
    }

    /// The sign-in time a signed-out agent would show had it signed in
    /// (base + workNo minutes), for faults that put a real time there.
    pub fn would_be_login_ms(&self) -> i64 {
        static_login_ms(self.work_no)
    }
}

/// Table 5 read backwards: the agent `status` of a CTI state.
pub(crate) fn status_of_cti(cti: i64) -> i64 {
    match cti {
        0 => 2,
        1 => 4,
        7 => 3,
        6 => 5,
        2..=5 => 7,
        8 => 8,
        9 => 0,
        // Not in the population; "unknown".
        _ => 0,
    }
}

fn static_login_ms(work_no: i64) -> i64 {
    EPOCH_SECS
        .saturating_mul(1000)
        .saturating_add(work_no.saturating_mul(60_000))
}

fn vdn(cc_id: i64, id: i64) -> Option<&'static Vdn> {
    if cc_id != CC_ID {
        return None;
    }
    VDNS.iter().find(|v| v.id == id)
}

/// The members of a VDN in ascending work number, without materialising them.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Members {
    first: i64,
    block_len: usize,
    extra: Option<i64>,
}

impl Members {
    /// How many agents the VDN has.
    pub fn len(&self) -> usize {
        self.block_len + usize::from(self.extra.is_some())
    }

    /// Whether the VDN has no agents (it does not exist).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The `i`-th work number in ascending order.
    pub fn nth(&self, i: usize) -> Option<i64> {
        if i < self.block_len {
            i64::try_from(i).ok().map(|i| self.first + i)
        } else if i == self.block_len {
            self.extra
        } else {
            None
        }
    }
}

/// The agents of `vdn` in call center `cc_id` (none for an unknown one).
pub(crate) fn members(cc_id: i64, id: i64) -> Members {
    match vdn(cc_id, id) {
        Some(v) => Members {
            first: v.first,
            block_len: usize::try_from(v.last - v.first + 1).unwrap_or(0),
            extra: v.extra.map(|(w, _)| w),
        },
        None => Members {
            first: 0,
            block_len: 0,
            extra: None,
        },
    }
}

/// The cycle position an agent starts in, if it exists.
fn base_position(cc_id: i64, id: i64, work_no: i64) -> Option<usize> {
    let v = vdn(cc_id, id)?;
    match v.extra {
        Some((w, pos)) if w == work_no => Some(pos),
        _ if (v.first..=v.last).contains(&work_no) => {
            usize::try_from((work_no - v.first) % 10).ok()
        }
        _ => None,
    }
}

/// Every `(vdn, workNo)` that exists, sorted.
pub(crate) fn known_agents() -> Vec<(i64, i64)> {
    let mut out: Vec<(i64, i64)> = VDNS
        .iter()
        .flat_map(|v| {
            (v.first..=v.last)
                .chain(v.extra.map(|(w, _)| w))
                .map(move |w| (v.id, w))
        })
        .collect();
    out.sort_unstable();
    out
}

/// A stable pseudo-random 64-bit value for `x` (splitmix64).
pub(crate) fn mix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The population at one instant. Every agent of one reply comes from one
/// snapshot.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct Snapshot {
    now: Timestamp,
    /// The same instant in milliseconds: under churn, agents change state
    /// at any instant, not only on whole seconds.
    now_ms: u64,
    churn: Option<f64>,
    status9_allowed: bool,
}

/// Where an agent is in its cycle at the snapshot instant.
struct Phase {
    pos: usize,
    prev_pos: usize,
    state_secs: i64,
    prev_state_secs: Option<i64>,
    login_ms: Option<i64>,
}

impl Snapshot {
    /// The population at `now`; `churn` state changes per agent per second
    /// (`None`, or a rate that is not a positive finite number: static).
    #[cfg(test)]
    pub fn new(now: Timestamp, churn: Option<f64>, status9_allowed: bool) -> Snapshot {
        Snapshot::at_ms(now.0.saturating_mul(1000), churn, status9_allowed)
    }

    /// The population at `now_ms`, milliseconds since the Unix epoch.
    pub fn at_ms(now_ms: u64, churn: Option<f64>, status9_allowed: bool) -> Snapshot {
        Snapshot {
            now: Timestamp(now_ms / 1000),
            now_ms,
            churn: churn.filter(|r| r.is_finite() && *r > 0.0),
            status9_allowed,
        }
    }

    /// Agent `work_no` of `vdn` in call center `cc_id`, if it exists.
    pub fn agent(&self, cc_id: i64, vdn: i64, work_no: i64) -> Option<Agent> {
        let pos = base_position(cc_id, vdn, work_no)?;
        Some(self.build(vdn, work_no, pos, true))
    }

    /// What an agent that does not exist would look like in cycle position
    /// `pos`, by the population's rules (for faults that invent one).
    pub fn phantom(&self, vdn: i64, work_no: i64, pos: usize) -> Agent {
        self.build(vdn, work_no, pos % CYCLE.len(), false)
    }

    fn build(&self, vdn: i64, work_no: i64, base: usize, real: bool) -> Agent {
        let sample = SAMPLES
            .iter()
            .find(|&&(v, w, _, _)| v == vdn && w == work_no);
        let phase = match self.churn {
            Some(rate) => self.churned(vdn, work_no, base, rate),
            None => Phase {
                pos: base,
                prev_pos: (base + CYCLE.len() - 1) % CYCLE.len(),
                state_secs: sample.map_or(work_no.wrapping_mul(37).rem_euclid(86_400), |s| s.2),
                prev_state_secs: (CYCLE[base] != 0)
                    .then(|| work_no.wrapping_mul(53).rem_euclid(3_600) + 1),
                login_ms: (CYCLE[base] != 0).then(|| static_login_ms(work_no)),
            },
        };
        let mut cti = CYCLE[phase.pos];
        let mut prev_cti = CYCLE[phase.prev_pos];
        if self.churn.is_none() {
            if let Some(&(_, _, _, Some(prev))) = sample {
                prev_cti = prev;
            }
        }
        // Open question 5: under `allowed`, agent 120 of VDN 1 is pre-rest
        // (status 9, CTI 8) whenever its cycle has it in study (CTI 9).
        let status9_agent = real && self.status9_allowed && vdn == 1 && work_no == 120;
        let mut pre_rest = false;
        if status9_agent && cti == 9 {
            cti = 8;
            pre_rest = true;
        }
        if status9_agent && prev_cti == 9 {
            prev_cti = 8;
        }
        let signed_in = cti != 0;
        let media_type = if !signed_in || cti == 9 {
            0
        } else if vdn == 2 {
            51
        } else {
            5
        };
        Agent {
            work_no,
            vdn,
            cti,
            prev_cti,
            state_secs: phase.state_secs,
            prev_state_secs: phase.prev_state_secs,
            login_ms: phase.login_ms,
            pre_rest,
            name: format!("HW35154{work_no}"),
            phone: signed_in.then(|| format!("8801{work_no}")),
            media_type,
            location_id: NOT_USED,
            state_reason: if !signed_in && work_no % 7 == 0 {
                SIGNED_OUT_BY_ITSELF
            } else {
                NOT_USED
            },
            agent_release: if signed_in { work_no % 5 } else { 0 },
            private_calls: i64::from(cti == 5),
        }
    }

    /// Under churn: the agent changes state at `EPOCH + (m - φ) / rate` for
    /// every integer `m`, with a per-agent phase `φ` in [0, 1). No state is
    /// kept: the same instant always gives the same agent.
    fn churned(&self, vdn: i64, work_no: i64, base: usize, rate: f64) -> Phase {
        let seed = ((vdn as u64) << 32) ^ (work_no as u64);
        let phi = (mix(seed) >> 11) as f64 / (1u64 << 53) as f64;
        // Seconds since the epoch, to the millisecond: exact in f64 for
        // any real clock.
        let t = self.now_ms as f64 / 1000.0 - EPOCH_SECS as f64;
        let n = (t * rate + phi).floor();
        let change_at = |m: f64| (m - phi) / rate;
        let len = CYCLE.len() as i64;
        // n fits i64 for every rate validate() lets through; the cast saturates otherwise.
        let n_int = n as i64;
        let pos_i = (base as i64).wrapping_add(n_int).rem_euclid(len);
        let pos = usize::try_from(pos_i).unwrap_or(0);
        let since = (t - change_at(n)).floor().max(0.0);
        let period = (1.0 / rate).round();
        let login_ms = (pos != 0).then(|| {
            // The change that entered "idle" (position 1) most recently.
            let m = n - (pos - IDLE_POS) as f64;
            let at_ms = ((EPOCH_SECS as f64 + change_at(m)) * 1000.0).floor();
            let now_ms = self.now_ms as f64;
            at_ms.min(now_ms).max(0.0) as i64
        });
        Phase {
            pos,
            prev_pos: (pos + CYCLE.len() - 1) % CYCLE.len(),
            state_secs: since as i64,
            prev_state_secs: Some(period.min(UNKNOWN_SECS as f64 - 1.0) as i64),
            login_ms,
        }
    }
}
