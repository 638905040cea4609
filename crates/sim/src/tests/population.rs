//! The one population: its members, the four endpoints agreeing about every
//! agent at one instant (static and churning), and churn itself.

use serde_json::Value;

use super::*;
use crate::population::{members, Snapshot, CYCLE};

/// Churn used below: one change per agent every 20 s on average.
const RATE: f64 = 0.05;
const PERIOD: u64 = 20;

#[test]
fn members_and_known_agents() {
    let known = known_agents();
    assert_eq!(known.len(), 21 + 10 + 10 + 11 + 10_000);
    assert!(
        known.windows(2).all(|w| w[0] < w[1]),
        "sorted, no duplicates"
    );
    for (vdn, n) in [(1, 21), (2, 10), (3, 10), (170, 11), (40, 10_000), (4, 0)] {
        let m = members(1, vdn);
        assert_eq!(m.len(), n, "vdn {vdn}");
        let listed: Vec<(i64, i64)> = (0..n).map(|i| (vdn, m.nth(i).unwrap())).collect();
        let from_known: Vec<(i64, i64)> = known.iter().copied().filter(|k| k.0 == vdn).collect();
        assert_eq!(listed, from_known);
        assert_eq!(m.nth(n), None);
    }
    assert!(members(2, 1).is_empty());
    let snap = Snapshot::new(NOW, None, false);
    assert!(snap.agent(1, 1, 100).is_none());
    assert!(snap.agent(1, 1, 121).is_none());
    assert!(snap.agent(1, 2, 101).is_none());
    assert!(snap.agent(2, 1, 101).is_none());
    assert!(snap.agent(1, 40, 50_000).is_none());
    assert!(snap.agent(1, 170, 1041).is_none());
}

#[test]
fn static_records() {
    let snap = Snapshot::new(NOW, None, false);
    let a = snap.agent(1, 2, 203).expect("agent 203");
    assert_eq!((a.status(), a.cti, a.media_type), (3, 7, 51));
    assert_eq!(a.phone.as_deref(), Some("8801203"));
    assert_eq!(a.login_ms, Some(1_722_556_800_000 + 203 * 60_000));
    assert_eq!(a.state_secs, 203 * 37);
    let s = snap.agent(1, 170, 1099).expect("sample 1099");
    assert_eq!(
        (
            s.cti,
            s.prev_cti,
            s.state_secs,
            s.prev_state_secs,
            s.login_ms,
            s.state_reason
        ),
        (0, 1, 230_703, None, None, 258)
    );
    let a = snap.agent(1, 1, 120).expect("agent 120");
    assert_eq!((a.status(), a.cti), (0, 9));
    let a = Snapshot::new(NOW, None, true).agent(1, 1, 120).unwrap();
    assert_eq!((a.status(), a.cti, a.pre_rest), (9, 8, true));
    for (vdn, w) in known_agents().into_iter().filter(|(v, _)| *v != 40) {
        let a = snap.agent(1, vdn, w).unwrap();
        assert_eq!(a.login_ms.is_none(), a.cti == 0, "{vdn}/{w}");
        assert_eq!(a.phone.is_none(), a.cti == 0);
        assert_ne!(a.prev_cti, a.cti, "{vdn}/{w}");
        assert!(a.state_secs >= 0);
    }
}

/// Every view of `(vdn, w)` at `cfg`'s instant `now`: agentbyworkno
/// (status, citStatus), the batch's currentState, the listing's.
fn views(cfg: &SimConfig, now: Timestamp, vdn: i64, w: i64) -> ((i64, i64), i64, i64) {
    let at = |req: &SimRequest| body(&respond(cfg, req, now));
    let a = at(&abw(1, vdn, w));
    let abw_view = (
        a["resultDesc"]["status"].as_i64().unwrap(),
        a["resultDesc"]["citStatus"].as_i64().unwrap(),
    );
    let b = at(&batch(vdn, &[w]));
    let batch_state = b["resultDesc"][0]["currentState"].as_i64().unwrap();
    let m = members(1, vdn);
    let index = (0..m.len()).find(|&i| m.nth(i) == Some(w)).unwrap();
    let l = at(&listing(vdn, 1, index as i64));
    assert_eq!(l["resultDesc"][0]["agentId"], w);
    let listing_state = l["resultDesc"][0]["currentState"].as_i64().unwrap();
    (abw_view, batch_state, listing_state)
}

fn table5_status(cti: i64) -> i64 {
    [2, 4, 7, 7, 7, 7, 5, 3, 8, 0][usize::try_from(cti).unwrap()]
}

/// The four endpoints agree about a sample of agents at `now`.
fn assert_agreement(cfg: &SimConfig, now: Timestamp) {
    let sample: Vec<(i64, Vec<i64>)> = vec![
        (1, (101..=120).chain([59_999]).collect()),
        (2, (201..=210).collect()),
        (170, (1031..=1040).chain([1099]).collect()),
        (40, (40_000..40_012).chain([49_999]).collect()),
    ];
    for (vdn, ids) in sample {
        let mut states = Vec::new();
        for &w in &ids {
            let ((status, cti), batch_state, listing_state) = views(cfg, now, vdn, w);
            assert_eq!(status, table5_status(cti), "{vdn}/{w}");
            assert_eq!((batch_state, listing_state), (cti, cti), "{vdn}/{w}");
            states.push(cti);
        }
        let counts = body(&respond(cfg, &team(vdn, &ids), now))["resultDesc"].clone();
        let n = |cti: i64| i64::try_from(states.iter().filter(|&&s| s == cti).count()).unwrap();
        for (key, cti) in [
            ("talking", 5),
            ("idle", 1),
            ("usable", 1),
            ("setBusy", 7),
            ("workSubstateBegin", 6),
            ("rest", 8),
            ("studying", 9),
            ("occupy", 3),
            ("preoccupy", 2),
            ("answering", 4),
            ("lateAdjust", 10),
        ] {
            assert_eq!(counts[key], n(cti), "{key} of vdn {vdn}");
        }
        let signed_in = i64::try_from(states.iter().filter(|&&s| s != 0).count()).unwrap();
        assert_eq!(counts["loginEd"], signed_in);
    }
}

#[test]
fn the_four_endpoints_agree_without_churn() {
    assert_agreement(&SimConfig::default(), NOW);
}

#[test]
fn the_four_endpoints_agree_under_churn() {
    // The requests are signed at NOW: take any instant as within the window.
    let cfg = SimConfig {
        churn: Some(RATE),
        skew_secs: u64::MAX,
        ..SimConfig::default()
    };
    for offset in [0, 7, 13, PERIOD, 1_000_003] {
        assert_agreement(&cfg, Timestamp(NOW.0 + offset));
    }
}

#[test]
fn churn_moves_agents_deterministically() {
    let snap = |t: u64| Snapshot::new(Timestamp(t), Some(RATE), false);
    let agents: Vec<(i64, i64)> = known_agents()
        .into_iter()
        .filter(|(v, _)| *v != 40)
        .collect();
    let t0 = NOW.0 + 3;
    let mut moved = 0;
    for &(vdn, w) in &agents {
        let a = snap(t0).agent(1, vdn, w).unwrap();
        assert_eq!(
            snap(t0).agent(1, vdn, w).unwrap(),
            a,
            "same instant, same agent"
        );
        let later = snap(t0 + PERIOD).agent(1, vdn, w).unwrap();
        moved += usize::from(later.cti != a.cti);
        // One period later the agent is one step further in its cycle.
        let pos = |cti: i64| CYCLE.iter().position(|&c| c == cti).unwrap();
        assert_eq!(pos(later.cti), (pos(a.cti) + 1) % CYCLE.len(), "{vdn}/{w}");
        assert_eq!(later.prev_cti, a.cti);
        // currentStateTime never reaches back past the last change: the
        // state held then, and was different a second before.
        let secs = u64::try_from(a.state_secs).unwrap();
        assert!(secs < PERIOD, "{vdn}/{w}: {secs}");
        assert_eq!(snap(t0 - secs).agent(1, vdn, w).unwrap().cti, a.cti);
        assert_ne!(snap(t0 - secs - 1).agent(1, vdn, w).unwrap().cti, a.cti);
        assert_eq!(a.prev_state_secs, Some(20));
        // Sign-in time: the sentinel exactly when signed out, else a real
        // time in the past, no later than the current state began.
        match a.login_ms {
            None => assert_eq!(a.cti, 0),
            Some(ms) => {
                assert_ne!(a.cti, 0);
                assert!(ms <= i64::try_from(t0 * 1000).unwrap());
                assert!(ms > 1_600_000_000_000);
                assert!(ms <= i64::try_from((t0 - secs) * 1000).unwrap() + 999);
            }
        }
    }
    assert_eq!(moved, agents.len(), "every agent moves once a period");
    // Without churn, nothing moves.
    let fixed = |t: u64| {
        Snapshot::new(Timestamp(t), None, false)
            .agent(1, 1, 102)
            .unwrap()
    };
    assert_eq!(fixed(t0), fixed(t0 + PERIOD));
}

#[test]
fn one_reply_is_one_instant() {
    let cfg = SimConfig {
        churn: Some(RATE),
        ..SimConfig::default()
    };
    let ids: Vec<i64> = (101..=120).collect();
    // A whole VDN's counts are the same after everybody moved one step, so
    // the counts request names part of it.
    let reqs = [
        batch(1, &ids),
        team(1, &ids[..3]),
        listing(1, 21, 0),
        abw(1, 1, 105),
    ];
    for req in &reqs {
        assert_eq!(respond(&cfg, req, NOW), respond(&cfg, req, NOW));
    }
    let changed = reqs[..3]
        .iter()
        .filter(|r| respond(&cfg, r, NOW) != respond(&cfg, r, Timestamp(NOW.0 + PERIOD)))
        .count();
    assert_eq!(changed, 3);
    // The batch's currentStateTime matches the snapshot's clock.
    let items: Value = body(&respond(&cfg, &reqs[0], NOW))["resultDesc"].clone();
    for item in items.as_array().unwrap() {
        let t = item["currentStateTime"].as_i64().unwrap();
        assert!((0..20).contains(&t), "{item}");
    }
}
