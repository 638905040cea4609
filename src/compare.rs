//! `compare`: the same cases against a baseline and a candidate deployment,
//! classified per case and per JSON path as breaking or not.
//!
//! Classification (for replies, i.e. from a client's point of view):
//! a removed field, a changed type, a changed HTTP status, a new value of an
//! enum field (the contracts' `compare.enums`) and a reply missing on one
//! side are **breaking**; an added field and an enum value no longer seen are
//! **non-breaking**; other value differences (another agent state, another
//! name) are **info**. The contracts' volatile fields (`volatile:`, with
//! their sentinel exceptions) only count when their type changes.

use crate::case::JsonType;
use crate::check::pointer_push;
use crate::contract::ContractSet;
use crate::result::CaseResult;
use crate::sanitize::terminal;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};

/// How much a change matters to clients.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Severity {
    /// Clients written against the baseline may break.
    Breaking,
    /// Compatible for clients.
    NonBreaking,
    /// A data difference, not a contract change.
    Info,
}

impl Severity {
    /// Lower-case label.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Breaking => "breaking",
            Severity::NonBreaking => "non-breaking",
            Severity::Info => "info",
        }
    }
}

/// What changed at one path.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ChangeKind {
    /// Present in the baseline, absent in the candidate.
    FieldRemoved,
    /// Absent in the baseline, present in the candidate.
    FieldAdded,
    /// JSON type differs (e.g. integer → string).
    TypeChanged {
        /// Baseline type.
        from: &'static str,
        /// Candidate type.
        to: &'static str,
    },
    /// An enum field shows a value the baseline never showed.
    EnumValueAdded(String),
    /// An enum field no longer shows a value the baseline showed.
    EnumValueRemoved(String),
    /// The HTTP status differs.
    StatusChanged {
        /// Baseline status.
        from: u16,
        /// Candidate status.
        to: u16,
    },
    /// A value differs (same type).
    ValueChanged,
    /// One side gave no usable reply.
    NoReply {
        /// Which side: `baseline` or `candidate`.
        side: &'static str,
    },
}

impl ChangeKind {
    /// The severity of this kind of change.
    pub fn severity(&self) -> Severity {
        match self {
            ChangeKind::FieldRemoved
            | ChangeKind::TypeChanged { .. }
            | ChangeKind::EnumValueAdded(_)
            | ChangeKind::StatusChanged { .. }
            | ChangeKind::NoReply { side: "candidate" } => Severity::Breaking,
            ChangeKind::FieldAdded | ChangeKind::EnumValueRemoved(_) => Severity::NonBreaking,
            ChangeKind::ValueChanged | ChangeKind::NoReply { .. } => Severity::Info,
        }
    }

    /// A short label for the matrix ("field removed", "type changed", …).
    pub fn label(&self) -> &'static str {
        match self {
            ChangeKind::FieldRemoved => "field removed",
            ChangeKind::FieldAdded => "field added",
            ChangeKind::TypeChanged { .. } => "type changed",
            ChangeKind::EnumValueAdded(_) => "enum value added",
            ChangeKind::EnumValueRemoved(_) => "enum value removed",
            ChangeKind::StatusChanged { .. } => "status changed",
            ChangeKind::ValueChanged => "value changed",
            ChangeKind::NoReply { .. } => "no reply",
        }
    }

    /// Label with details, e.g. "type changed: integer → string".
    pub fn describe(&self) -> String {
        match self {
            ChangeKind::TypeChanged { from, to } => format!("type changed: {from} → {to}"),
            ChangeKind::EnumValueAdded(v) => format!("enum value added: {v}"),
            ChangeKind::EnumValueRemoved(v) => format!("enum value removed: {v}"),
            ChangeKind::StatusChanged { from, to } => format!("status changed: {from} → {to}"),
            ChangeKind::NoReply { side } => format!("no reply from the {side}"),
            other => other.label().to_string(),
        }
    }
}

/// One change.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The case (`<suite>::<case>`), or `None` for changes seen across cases (enums).
    pub case_id: Option<String>,
    /// JSON pointer in the reply (empty for status / no reply).
    pub pointer: String,
    /// What changed.
    pub kind: ChangeKind,
    /// Baseline value.
    pub baseline: Option<Value>,
    /// Candidate value.
    pub candidate: Option<Value>,
}

/// All changes between two runs of the same cases.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comparison {
    /// Cases compared.
    pub cases: usize,
    /// Every change, per case then across cases.
    pub changes: Vec<Change>,
}

impl Comparison {
    /// Whether any change is breaking.
    pub fn is_breaking(&self) -> bool {
        self.changes
            .iter()
            .any(|c| c.kind.severity() == Severity::Breaking)
    }

    /// `(path, kind label, severity) → number of cases`, for the summary matrix.
    pub fn matrix(&self) -> BTreeMap<(String, &'static str, Severity), usize> {
        let mut m = BTreeMap::new();
        for c in &self.changes {
            *m.entry((generalize(&c.pointer), c.kind.label(), c.kind.severity()))
                .or_insert(0) += 1;
        }
        m
    }
}

/// What the contracts say about their fields, for classifying changes:
/// enum keys, nullable keys and volatile keys (all matched by key name, in
/// any letter case, as the 8.13 form lower-cases them).
#[derive(Debug, Clone, Default)]
pub struct Rules {
    enums: BTreeSet<String>,
    nullable: BTreeSet<String>,
    volatile: Vec<(String, Vec<Value>)>,
}

impl Rules {
    /// The union of every contract's `compare:` and `volatile:` lists.
    pub fn of(contracts: &ContractSet) -> Self {
        let mut r = Rules::default();
        for c in contracts.iter() {
            r.enums
                .extend(c.compare.enums.iter().map(|k| k.to_ascii_lowercase()));
            r.nullable
                .extend(c.compare.nullable.iter().map(|k| k.to_ascii_lowercase()));
            r.volatile.extend(
                c.volatile
                    .iter()
                    .map(|v| (v.key.to_ascii_lowercase(), v.except.clone())),
            );
        }
        r
    }

    fn is_enum(&self, ptr: &str) -> bool {
        self.enums.contains(&last_token(ptr))
    }

    /// Same-type differences in fields that change by themselves (both
    /// sides outside the key's exceptions, e.g. a sentinel).
    fn volatile(&self, ptr: &str, b: &Value, c: &Value) -> bool {
        let key = last_token(ptr);
        self.volatile
            .iter()
            .any(|(k, except)| *k == key && !except.contains(b) && !except.contains(c))
    }
}

fn last_token(ptr: &str) -> String {
    ptr.rsplit('/').next().unwrap_or("").to_ascii_lowercase()
}

/// Array indices replaced by `*`, so paths aggregate across agents.
fn generalize(ptr: &str) -> String {
    ptr.split('/')
        .map(|t| {
            if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) {
                "*"
            } else {
                t
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Compare results of the same cases (matched by id), classifying with `rules`.
pub fn compare(baseline: &[CaseResult], candidate: &[CaseResult], rules: &Rules) -> Comparison {
    let cand: BTreeMap<&str, &CaseResult> = candidate.iter().map(|r| (r.id.as_str(), r)).collect();
    let mut out = Comparison::default();
    let mut enums: BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)> = BTreeMap::new();
    for b in baseline {
        let Some(c) = cand.get(b.id.as_str()) else {
            continue;
        };
        out.cases += 1;
        let mut push =
            |pointer: &str, kind, baseline: Option<&Value>, candidate: Option<&Value>| {
                out.changes.push(Change {
                    case_id: Some(b.id.clone()),
                    pointer: pointer.to_string(),
                    kind,
                    baseline: baseline.cloned(),
                    candidate: candidate.cloned(),
                })
            };
        let (Some(br), Some(cr)) = (&b.response, &c.response) else {
            // Both silent: nothing to compare. Only the baseline silent:
            // inconclusive (info), never blamed on the candidate.
            match (&b.response, &c.response) {
                (None, Some(_)) => push("", ChangeKind::NoReply { side: "baseline" }, None, None),
                (Some(_), None) => push("", ChangeKind::NoReply { side: "candidate" }, None, None),
                _ => {}
            }
            continue;
        };
        if br.status != cr.status {
            push(
                "",
                ChangeKind::StatusChanged {
                    from: br.status,
                    to: cr.status,
                },
                None,
                None,
            );
            continue;
        }
        match (&br.json, &cr.json) {
            (Some(bj), Some(cj)) => {
                let mut local = Vec::new();
                walk(rules, "", Some(bj), Some(cj), &mut local, &mut enums);
                for (ptr, kind, bv, cv) in local {
                    push(&ptr, kind, bv.as_ref(), cv.as_ref());
                }
            }
            (Some(bj), None) => push(
                "",
                ChangeKind::TypeChanged {
                    from: JsonType::of(bj).name(),
                    to: "not json",
                },
                Some(bj),
                None,
            ),
            (None, Some(cj)) => push(
                "",
                ChangeKind::TypeChanged {
                    from: "not json",
                    to: JsonType::of(cj).name(),
                },
                None,
                Some(cj),
            ),
            (None, None) => {}
        }
    }
    // Only for fields both sides have: a renamed field is already "removed" + "added".
    for (ptr, (bset, cset)) in enums
        .into_iter()
        .filter(|(_, (b, c))| !b.is_empty() && !c.is_empty())
    {
        for v in cset.difference(&bset) {
            out.changes.push(Change {
                case_id: None,
                pointer: ptr.clone(),
                kind: ChangeKind::EnumValueAdded(v.clone()),
                baseline: None,
                candidate: None,
            });
        }
        for v in bset.difference(&cset) {
            out.changes.push(Change {
                case_id: None,
                pointer: ptr.clone(),
                kind: ChangeKind::EnumValueRemoved(v.clone()),
                baseline: None,
                candidate: None,
            });
        }
    }
    out
}

type Local = Vec<(String, ChangeKind, Option<Value>, Option<Value>)>;

fn walk(
    rules: &Rules,
    ptr: &str,
    b: Option<&Value>,
    c: Option<&Value>,
    out: &mut Local,
    enums: &mut BTreeMap<String, (BTreeSet<String>, BTreeSet<String>)>,
) {
    // Enum values are pooled only where both sides answered the path, so
    // the two pools come from the same cases.
    let scalar = |v: &Value| !v.is_object() && !v.is_array();
    if let (true, Some(bv), Some(cv)) = (
        rules.is_enum(ptr),
        b.filter(|v| scalar(v)),
        c.filter(|v| scalar(v)),
    ) {
        let e = enums.entry(generalize(ptr)).or_default();
        e.0.insert(bv.to_string());
        e.1.insert(cv.to_string());
    }
    match (b, c) {
        (None, None) => {}
        (Some(bv), None) => out.push((
            ptr.to_string(),
            ChangeKind::FieldRemoved,
            Some(bv.clone()),
            None,
        )),
        (None, Some(cv)) => out.push((
            ptr.to_string(),
            ChangeKind::FieldAdded,
            None,
            Some(cv.clone()),
        )),
        (Some(Value::Object(bo)), Some(Value::Object(co))) => {
            for (k, bv) in bo {
                walk(
                    rules,
                    &pointer_push(ptr, k),
                    Some(bv),
                    co.get(k),
                    out,
                    enums,
                );
            }
            for (k, cv) in co.iter().filter(|(k, _)| !bo.contains_key(*k)) {
                walk(rules, &pointer_push(ptr, k), None, Some(cv), out, enums);
            }
        }
        (Some(Value::Array(ba)), Some(Value::Array(ca))) => {
            for i in 0..ba.len().max(ca.len()) {
                walk(
                    rules,
                    &pointer_push(ptr, &i.to_string()),
                    ba.get(i),
                    ca.get(i),
                    out,
                    enums,
                );
            }
        }
        (Some(bv), Some(cv)) => {
            let (bt, ct) = (JsonType::of(bv), JsonType::of(cv));
            // null is how a nullable field (agentbyworkno's phoneNumber)
            // spells "none": not a type change there; anywhere else a value
            // turning null is.
            let nullable =
                (bv.is_null() || cv.is_null()) && rules.nullable.contains(&last_token(ptr));
            if bt != ct && !nullable {
                out.push((
                    ptr.to_string(),
                    ChangeKind::TypeChanged {
                        from: bt.name(),
                        to: ct.name(),
                    },
                    Some(bv.clone()),
                    Some(cv.clone()),
                ));
            } else if bv != cv && !rules.volatile(ptr, bv, cv) && !rules.is_enum(ptr) {
                out.push((
                    ptr.to_string(),
                    ChangeKind::ValueChanged,
                    Some(bv.clone()),
                    Some(cv.clone()),
                ));
            }
        }
    }
}

/// The comparison as text: per-case lines, then the summary matrix.
/// Paths and values come from replies, so each is escaped for terminals
/// ([`terminal`]): a key or value cannot drive the terminal or start a line.
pub fn render(cmp: &Comparison) -> String {
    use std::fmt::Write;
    let mut out = String::new();
    let mut last_case: Option<&str> = None;
    for ch in cmp
        .changes
        .iter()
        .filter(|c| c.kind.severity() != Severity::Info)
    {
        let case = ch.case_id.as_deref().unwrap_or("(across cases)");
        if last_case != Some(case) {
            let _ = writeln!(out, "{}", terminal(case));
            last_case = Some(case);
        }
        let values = match (&ch.baseline, &ch.candidate) {
            (Some(b), Some(c)) => format!("  ({b} → {c})"),
            (Some(b), None) => format!("  (was {b})"),
            (None, Some(c)) => format!("  (now {c})"),
            (None, None) => String::new(),
        };
        let path = if ch.pointer.is_empty() {
            "(reply)"
        } else {
            &ch.pointer
        };
        let _ = writeln!(
            out,
            "  {:<13} {}: {}{}",
            ch.kind.severity().as_str(),
            terminal(path),
            terminal(&ch.kind.describe()),
            terminal(&values)
        );
    }
    let info = cmp
        .changes
        .iter()
        .filter(|c| c.kind.severity() == Severity::Info)
        .count();
    let _ = writeln!(
        out,
        "\nsummary by JSON path ({} cases compared):",
        cmp.cases
    );
    let _ = writeln!(
        out,
        "  {:<36} {:<20} {:<13} {:>5}",
        "path", "change", "class", "cases"
    );
    for ((path, label, sev), n) in cmp
        .matrix()
        .into_iter()
        .filter(|((_, _, s), _)| *s != Severity::Info)
    {
        let path = if path.is_empty() {
            "(reply)".to_string()
        } else {
            terminal(&path).into_owned()
        };
        let _ = writeln!(out, "  {path:<36} {label:<20} {:<13} {n:>5}", sev.as_str());
    }
    let count = |s| {
        cmp.changes
            .iter()
            .filter(|c| c.kind.severity() == s)
            .count()
    };
    let _ = writeln!(
        out,
        "\ncompare result: {} breaking, {} non-breaking, {info} data differences (info)",
        count(Severity::Breaking),
        count(Severity::NonBreaking)
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules() -> Rules {
        Rules::of(&crate::testing::contracts())
    }
    use crate::location::Location;
    use crate::result::{ReceivedResponse, SentRequest};
    use serde_json::json;

    fn result(id: &str, status: u16, body: Value) -> CaseResult {
        CaseResult {
            id: id.into(),
            description: None,
            source: Location::file_only(std::path::Path::new("c.yaml")),
            request: SentRequest::default(),
            response: Some(ReceivedResponse {
                status,
                headers: vec![],
                body_text: body.to_string(),
                json: Some(body),
                not_json: None,
                duplicate_keys: vec![],
                float_tokens: vec![],
            }),
            failures: vec![],
            warnings: vec![],
            duration: std::time::Duration::ZERO,
            retries: 0,
            skipped: None,
            exchanges: vec![],
            attempts: 1,
        }
    }

    #[test]
    fn classifies_each_kind_of_change() {
        let b = [
            result(
                "s::a",
                200,
                json!({"resultDesc": {"workNo": 1, "status": 2, "currentStateTime": 5, "loginDate": 1, "gone": 1, "phoneNumber": null}}),
            ),
            result("s::b", 200, json!({"x": 1})),
        ];
        let c = [
            result(
                "s::a",
                200,
                json!({"resultDesc": {"workNo": "1", "status": 9, "currentStateTime": 7, "loginDate": 2, "new": 1, "phoneNumber": "8"}}),
            ),
            result("s::b", 401, json!({"x": 1})),
        ];
        let cmp = compare(&b, &c, &rules());
        let kinds: Vec<String> = cmp
            .changes
            .iter()
            .map(|c| format!("{} {}", c.pointer, c.kind.describe()))
            .collect();
        assert_eq!(
            kinds,
            [
                "/resultDesc/workNo type changed: integer → string",
                "/resultDesc/gone field removed",
                "/resultDesc/phoneNumber value changed",
                "/resultDesc/new field added",
                " status changed: 200 → 401",
                "/resultDesc/status enum value added: 9",
                "/resultDesc/status enum value removed: 2",
            ]
        );
        let sev: Vec<Severity> = cmp.changes.iter().map(|c| c.kind.severity()).collect();
        use Severity::*;
        assert_eq!(
            sev,
            [
                Breaking,
                Breaking,
                Info,
                NonBreaking,
                Breaking,
                Breaking,
                NonBreaking
            ]
        );
        assert!(cmp.is_breaking());
        assert_eq!(cmp.cases, 2);
    }

    #[test]
    fn identical_runs_and_volatile_fields_are_not_changes() {
        let a = [result(
            "s::a",
            200,
            json!({"d": {"currentStateTime": 5, "loginDate": 4294967295000i64}}),
        )];
        let b = [result(
            "s::a",
            200,
            json!({"d": {"currentStateTime": 99, "loginDate": 4294967295000i64}}),
        )];
        let cmp = compare(&a, &b, &rules());
        assert!(cmp.changes.is_empty(), "{cmp:?}");
        assert!(!cmp.is_breaking());
        let signed_in = [result(
            "s::a",
            200,
            json!({"d": {"currentStateTime": 5, "loginDate": 1722556800000i64}}),
        )];
        let cmp = compare(&a, &signed_in, &rules());
        assert_eq!(cmp.changes[0].kind, ChangeKind::ValueChanged);
        assert!(!cmp.is_breaking());
    }

    #[test]
    fn null_is_only_latitude_for_phone_number_and_silence_is_not_blamed_on_the_candidate() {
        let a = [result(
            "s::a",
            200,
            json!({"d": {"workNo": 1, "phoneNumber": null}}),
        )];
        let b = [result(
            "s::a",
            200,
            json!({"d": {"workNo": null, "phoneNumber": "8"}}),
        )];
        let cmp = compare(&a, &b, &rules());
        assert_eq!(
            cmp.changes[0].kind,
            ChangeKind::TypeChanged {
                from: "integer",
                to: "null"
            }
        );
        assert_eq!(cmp.changes[1].kind.severity(), Severity::Info);

        let mut silent = result("s::a", 200, json!({}));
        silent.response = None;
        let cmp = compare(
            std::slice::from_ref(&silent),
            std::slice::from_ref(&silent),
            &rules(),
        );
        assert!(cmp.changes.is_empty());
        let cmp = compare(std::slice::from_ref(&silent), &a, &rules());
        assert_eq!(cmp.changes[0].kind.severity(), Severity::Info);
        assert!(!cmp.is_breaking());
        let cmp = compare(&a, std::slice::from_ref(&silent), &rules());
        assert!(cmp.is_breaking());
    }

    #[test]
    fn enum_values_are_pooled_only_where_both_sides_answered() {
        // The same value on both sides of every paired case: no enum change,
        // even if one side also shows it in a case the other lacks.
        let a = [
            result("s::a", 200, json!({"status": 4})),
            result("s::b", 200, json!({"x": 1})),
        ];
        let b = [
            result("s::a", 200, json!({"status": 4})),
            result("s::b", 200, json!({"status": 7})),
        ];
        let cmp = compare(&a, &b, &rules());
        assert!(
            !cmp.changes
                .iter()
                .any(|c| matches!(c.kind, ChangeKind::EnumValueAdded(_))),
            "{cmp:?}"
        );
    }
}
