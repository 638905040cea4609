//! The catalogue: names, descriptions, endpoints, options and config checks.

use std::collections::HashSet;

use super::*;

#[test]
fn names_round_trip_are_unique_and_described() {
    let mut seen = HashSet::new();
    for f in Fault::all() {
        assert_eq!(Fault::parse(f.name()), Some(f));
        assert_eq!(f.to_string(), f.name());
        assert!(seen.insert(f.name()), "duplicate {f}");
        assert!(!f.describe().is_empty(), "{f} has no description");
    }
    for v in Variant::all() {
        assert_eq!(Variant::parse(v.name()), Some(v));
        assert!(seen.insert(v.name()), "duplicate {v}");
        assert!(!v.describe().is_empty(), "{v} has no description");
    }
    assert_eq!(Fault::parse("Missing-Result"), None);
    assert_eq!(Fault::parse("missing_result"), None);
    assert_eq!(Variant::parse(""), None);
}

#[test]
fn the_catalogue_by_endpoint() {
    let names = |endpoint: Option<&str>| -> Vec<&str> {
        Fault::all()
            .into_iter()
            .filter(|f| f.endpoint() == endpoint)
            .map(|f| f.name())
            .collect()
    };
    assert_eq!(
        names(None),
        [
            "missing-result",
            "missing-result-code",
            "result-code-number",
            "success-code-wrong",
            "result-disagrees",
            "missing-legacy-datas",
            "legacy-datas-differ",
            "desc-not-object",
            "no-auth",
            "accepts-bad-signature",
            "accepts-stale",
            "accepts-get",
            "error-500",
            "wrong-error-code",
            "text-plain",
            "not-json",
            "html-error",
        ]
    );
    assert_eq!(
        names(Some(AGENTBYWORKNO)),
        [
            "work-no-string",
            "name-number",
            "phone-number-int",
            "login-date-string",
            "login-sentinel-signed-in",
            "login-seconds",
            "login-real-signed-out",
            "current-state-time-negative",
            "current-state-time-float",
            "missing-field-name",
            "status-out-of-enum",
            "cti-out-of-range",
            "media-type-invalid",
            "status-9",
            "status-cti-mismatch",
            "work-no-mismatch",
            "vdn-mismatch",
            "error-with-agent",
            "out-of-range-accepted",
        ]
    );
    assert_eq!(
        names(Some(BATCH)),
        [
            "batch-missing-item",
            "batch-extra-item",
            "batch-duplicate-items",
            "batch-order-reversed",
            "batch-logon-seconds",
            "batch-logon-sentinel-signed-in",
            "batch-logon-real-signed-out",
            "batch-state-out-of-range",
            "batch-agent-id-string",
            "batch-negative-state-time",
            "batch-accepts-6001",
            "batch-state-disagrees",
            "batch-desc-not-array",
        ]
    );
    assert_eq!(
        names(Some(TEAM)),
        [
            "team-negative-count",
            "team-count-string",
            "team-missing-key",
            "team-login-exceeds-ids",
            "team-miscount",
            "team-desc-not-object",
        ]
    );
    assert_eq!(
        names(Some(VDN_LISTING)),
        [
            "vdn-count-page-size",
            "vdn-overlapping-pages",
            "vdn-duplicate-agent",
            "vdn-limit-ignored",
            "vdn-count-changes",
            "vdn-state-disagrees",
            "vdn-foreign-agent",
            "vdn-accepts-1001",
        ]
    );
    assert_eq!(Fault::all().len(), 17 + 19 + 13 + 6 + 8);
    let variants: Vec<(&str, Option<&str>)> = Variant::all()
        .into_iter()
        .map(|v| (v.name(), v.endpoint()))
        .collect();
    assert_eq!(
        variants,
        [
            ("reordered-keys", None),
            ("pretty", None),
            ("extra-field", None),
            ("charsetless", None),
            ("phone-string", Some(AGENTBYWORKNO)),
            ("media-zero", Some(AGENTBYWORKNO)),
        ]
    );
}

#[test]
fn endpoints_and_the_registry_agree() {
    let registry: Vec<(&str, &str)> = crate::endpoint::all()
        .iter()
        .map(|e| (e.name(), e.path()))
        .collect();
    assert_eq!(registry, ENDPOINTS);
    for &(name, path) in ENDPOINTS.iter().chain(LEGACY_ENDPOINTS) {
        assert_eq!(
            crate::endpoint::find(path).map(|(e, _)| e.name()),
            Some(name)
        );
    }
    assert!(crate::endpoint::find(LEGACY_ENDPOINTS[0].1).unwrap().1);
    let known: HashSet<&str> = ENDPOINTS.iter().map(|(n, _)| *n).collect();
    for f in Fault::all() {
        assert!(f.endpoint().is_none_or(|e| known.contains(e)), "{f}");
    }
    for o in options() {
        assert!(known.contains(o.endpoint), "{}", o.name);
    }
    // Every endpoint says how its body is shaped.
    for &(name, _) in ENDPOINTS {
        assert!(
            SimConfig::default().option(name, "body_shape").is_some(),
            "{name}"
        );
    }
}

#[test]
fn options_resolve_endpoint_first_then_name_then_default() {
    let cfg = with_options(&[
        ("body_shape", "wrapped"),
        ("agentstatusinfobyagentids.body_shape", "flat"),
        ("item_order", "bogus"),
    ]);
    assert_eq!(cfg.option(BATCH, "body_shape"), Some("flat"));
    assert_eq!(cfg.option(TEAM, "body_shape"), Some("wrapped"));
    assert_eq!(cfg.option(AGENTBYWORKNO, "body_shape"), Some("wrapped"));
    assert_eq!(cfg.option(BATCH, "item_order"), Some("request"));
    assert_eq!(cfg.option(VDN_LISTING, "item_order"), None);
    assert_eq!(cfg.option("nowhere", "body_shape"), None);
}

#[test]
fn validate_names_what_is_wrong() {
    assert_eq!(SimConfig::default().validate(), Ok(()));
    let ok = with_options(&[
        ("body_shape", "flat"),
        ("teamagentstatusinfo.wrap_up_key", "workSubStateBegin"),
    ]);
    assert_eq!(ok.validate(), Ok(()));
    let err = with_options(&[("item_ordr", "sorted")])
        .validate()
        .unwrap_err();
    assert!(matches!(&err, ConfigError::UnknownOption { key, .. } if key == "item_ordr"));
    assert!(
        err.to_string()
            .contains("agentstatusinfobyagentids.item_order"),
        "{err}"
    );
    let err = with_options(&[("teamagentstatusinfo.item_order", "sorted")])
        .validate()
        .unwrap_err();
    assert!(matches!(err, ConfigError::UnknownOption { .. }));
    let err = with_options(&[("item_order", "random")])
        .validate()
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "simulator option `item_order` cannot be `random`; values: request, sorted"
    );
    for churn in [0.0, -1.0, f64::NAN, f64::INFINITY] {
        let cfg = SimConfig {
            churn: Some(churn),
            ..SimConfig::default()
        };
        assert!(matches!(cfg.validate(), Err(ConfigError::BadChurn(_))));
        // Served as a static population all the same.
        assert_eq!(
            run_with(&cfg, &happy(VDN_LISTING)),
            run(&happy(VDN_LISTING))
        );
    }
}

#[test]
fn reference_vars_match_the_population() {
    let vars: std::collections::HashMap<&str, String> = reference_vars().into_iter().collect();
    assert_eq!(vars["known_agents"], "101..=120, 59999");
    assert_eq!(vars["unknown_agent"], "555");
    let count = |vdn: &str| {
        crate::population::members(1, vdn.parse().unwrap())
            .len()
            .to_string()
    };
    assert_eq!(vars["vdn_count"], count(&vars["vdn"]));
    assert_eq!(vars["batch_vdn_count"], count(&vars["batch_vdn"]));
    assert_eq!(vars["large_vdn_count"], count(&vars["large_vdn"]));
    assert_eq!(count(&vars["unknown_vdn"]), "0");
}
