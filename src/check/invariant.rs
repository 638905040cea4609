//! Invariants: a contract's (and a case's) named, cited CEL relations,
//! checked on a reply. Each false one is a failure that names the rule, its
//! citation and the values it saw:
//!
//! `invariant login_date is false for /resultDesc: agent.status = 4,
//! agent.loginDate = 4294967295000` with `spec: Table 4 row 2.6 loginDate`.
//!
//! The reply's scope (what an expression can read) is built once per reply
//! by [`ReplyScope`]: `response`, `status`, `success`, `outcome`, `payload`,
//! `request` (`method`, `path`, `body`, `query`), `release`, `envelope`,
//! `probes`, `now_ms`, and from the contract's root `consts` and `options`.

use crate::check::pointer_push;
use crate::contract::{Contract, Envelope, Invariant, Release, Severity};
use crate::expr::{
    fast_value, fast_value_bool, fast_value_int, fast_value_str, Expr, FastVars, Root, Scope,
};
use crate::result::{Failure, FailureKind, Warning};
use crate::value;
use serde_json::{json, Value};

/// What the reply's scope is built from.
#[derive(Debug, Clone, Copy)]
pub struct Reply<'a> {
    /// HTTP status.
    pub status: u16,
    /// The body, when it is JSON.
    pub body: Option<&'a Value>,
    /// The request as the `request` variable (`method`, `path`, `body`, `query`).
    pub request: &'a Value,
    /// Probe answers by name, as the `probes` variable.
    pub probes: &'a Value,
}

/// The variables of one reply, bound once.
///
/// They are kept as the reply's own JSON: an expression in the fast path's
/// subset is evaluated on them directly, and CEL's scope (which copies every
/// value into CEL's representation) is only built when an expression needs
/// CEL, which on a passing reply is seldom.
pub struct ReplyScope<'r> {
    root: &'r Root,
    body: &'r Value,
    status: u16,
    success: bool,
    outcome: &'r Value,
    payload: &'r Value,
    request: &'r Value,
    release: &'r String,
    envelope: &'r Value,
    probes: &'r Value,
    now_ms: i64,
    cel: std::cell::OnceCell<Scope<'r>>,
}

static NULL: Value = Value::Null;

impl<'r> ReplyScope<'r> {
    /// Bind `reply`'s variables below `root` (the contract's constants and
    /// options), for a reply of `release` in `envelope`'s form.
    pub fn new(
        root: &'r Root,
        release: &'r Release,
        envelope: &'r Envelope,
        reply: Reply<'r>,
    ) -> Self {
        let body = reply.body.unwrap_or(&NULL);
        let now_ms = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        ReplyScope {
            root,
            body,
            status: reply.status,
            success: envelope.is_success(body),
            outcome: value::pointer(body, &envelope.outcome).unwrap_or(&NULL),
            payload: value::pointer(body, &envelope.payload).unwrap_or(&NULL),
            request: reply.request,
            release: &release.name,
            envelope: envelope.to_json(),
            probes: reply.probes,
            now_ms,
            cel: std::cell::OnceCell::new(),
        }
    }

    /// The scope, to evaluate expressions in with CEL (built on first use).
    pub fn scope(&self) -> &Scope<'r> {
        self.cel.get_or_init(|| {
            let mut scope = self.root.scope();
            scope
                .bind("response", self.body)
                .bind("status", &json!(self.status))
                .bind("success", &json!(self.success))
                .bind("outcome", self.outcome)
                .bind("payload", self.payload)
                .bind("request", self.request)
                .bind("release", &json!(self.release))
                .bind("envelope", self.envelope)
                .bind("probes", self.probes)
                .bind("now_ms", &json!(self.now_ms));
            scope
        })
    }

    /// The same variables for the fast path, on the reply's own JSON.
    fn fast_vars(&self) -> FastVars<'_> {
        // A name is looked up from the end: the most read last.
        let reply = [
            ("probes", fast_value(self.probes)),
            ("envelope", fast_value(self.envelope)),
            ("release", fast_value_str(self.release)),
            ("now_ms", fast_value_int(self.now_ms)),
            ("status", fast_value_int(i64::from(self.status))),
            ("outcome", fast_value(self.outcome)),
            ("request", fast_value(self.request)),
            ("response", fast_value(self.body)),
            ("success", fast_value_bool(self.success)),
            ("payload", fast_value(self.payload)),
        ];
        // Room for the reply's, a binding, and an expression's own (a
        // quantifier's name and its hoisted parts).
        let mut vars = self.root.fast_vars(reply.len() + 1 + 4);
        vars.extend(reply);
        vars
    }
}

/// Check `invariants` (those applying to `release`) on the reply in
/// `scope`. `body` is the reply body (for `for_each` pointers).
pub fn check<'i>(
    invariants: impl IntoIterator<Item = &'i Invariant>,
    contract: &Contract,
    release: &Release,
    scope: &ReplyScope<'_>,
    body: Option<&Value>,
) -> (Vec<Failure>, Vec<Warning>) {
    let mut twins = Twins::default();
    check_with(invariants, contract, release, scope, body, &mut twins)
}

/// [`check`], telling equal objects apart with `twins`.
fn check_with<'i, 'v>(
    invariants: impl IntoIterator<Item = &'i Invariant>,
    contract: &Contract,
    release: &Release,
    scope: &ReplyScope<'_>,
    body: Option<&'v Value>,
    twins: &mut Twins<'v>,
) -> (Vec<Failure>, Vec<Warning>) {
    let envelope = contract.envelope(release);
    let mut failures = Vec::new();
    let mut warnings = Vec::new();
    // One list of variables for every target: each target's binding is
    // pushed after the reply's and cut off before the next.
    let mut vars = scope.fast_vars();
    let base = vars.len();
    // Lists kept from one invariant to the next.
    let mut targets = Vec::new();
    let mut held: Vec<&Value> = Vec::new();
    for inv in invariants
        .into_iter()
        .filter(|i| i.applies_to(&release.name))
    {
        // The objects this invariant held for: an invariant reads only the
        // reply's scope and its object, so an object equal to one of them
        // (a payload and its copy, when they agree) holds too. Only among a
        // few objects: the elements of a list are seldom equal, and
        // comparing each with every other would grow with its square.
        targets_of(inv, envelope, body, &mut targets);
        let few = targets.len() <= Twins::MAX_TARGETS;
        held.clear();
        for (at, value) in targets.drain(..) {
            if let Some(v) = value.filter(|_| few) {
                if held.iter().any(|h| twins.equal(h, v)) {
                    continue;
                }
            }
            // The fast path first; CEL when it cannot tell (see `expr`).
            vars.truncate(base);
            if let Some(v) = value {
                vars.push((inv.binding.as_str(), fast_value(v)));
            }
            let when_fast = inv.when.as_ref().map(|w| w.fast_bool(&mut vars));
            if matches!(when_fast, Some(Some(false)))
                || (matches!(when_fast, None | Some(Some(true)))
                    && inv.expr.fast_bool(&mut vars) == Some(true))
            {
                held.extend(value);
                continue;
            }
            let pointer = at.map(At::pointer);
            let mut child = scope.scope().child();
            if let Some(v) = value {
                child.bind(&inv.binding, v);
            }
            let at = pointer.as_deref().map(show);
            match judge(inv, "invariant", &child, at) {
                None => held.extend(value),
                Some(Finding::Failure(mut f)) => {
                    f.pointer = pointer;
                    failures.push(f);
                }
                Some(Finding::Warning(mut w)) => {
                    w.pointer = pointer;
                    warnings.push(w);
                }
            }
        }
    }
    (failures, warnings)
}

/// Whether two objects of one reply are equal, each pair compared once per
/// reply however many invariants ask (the objects are told by address).
#[derive(Default)]
struct Twins<'v> {
    known: Vec<(&'v Value, &'v Value, bool)>,
    /// Pairs compared.
    compared: usize,
}

impl<'v> Twins<'v> {
    /// An invariant checked on more objects than this checks each one.
    const MAX_TARGETS: usize = 4;

    fn equal(&mut self, a: &'v Value, b: &'v Value) -> bool {
        if std::ptr::eq(a, b) {
            return true;
        }
        let same = |x: &Value, y: &Value| std::ptr::eq(x, a) && std::ptr::eq(y, b);
        if let Some((_, _, eq)) = self.known.iter().find(|(x, y, _)| same(x, y)) {
            return *eq;
        }
        let eq = value::equal(a, b);
        self.compared += 1;
        self.known.push((a, b, eq));
        eq
    }
}

/// What a false invariant or relation becomes, by its severity.
#[derive(Debug)]
pub enum Finding {
    /// A failure of the case.
    Failure(Failure),
    /// An allowed deviation worth showing.
    Warning(Warning),
}

/// Check one invariant (or flow relation: `noun`) in `scope`, where `at` says what
/// it was checked on (`/resultDesc`, `single[3]`): `None` when it holds or
/// its `when` does not. The finding names the rule, its citation and the
/// values it saw; its pointer is left for the caller to set.
pub fn judge(inv: &Invariant, noun: &str, scope: &Scope<'_>, at: Option<&str>) -> Option<Finding> {
    let holds = |e: &Expr| e.eval_bool(scope);
    if let Some(when) = &inv.when {
        // A condition that cannot be evaluated does not hold: the
        // schema reports a reply of the wrong shape.
        if !matches!(holds(when), Ok(true)) {
            return None;
        }
    }
    let verdict = holds(&inv.expr);
    if matches!(verdict, Ok(true)) {
        return None;
    }
    // `show:` names what to print; by default, the variables the
    // expression read. Constants are the manifest's own data: not
    // what the reply showed.
    let mut shown: Vec<(String, String)> = if inv.show.is_empty() {
        inv.expr
            .explain(scope)
            .into_iter()
            .filter(|(p, _)| p != "consts" && !p.starts_with("consts."))
            .collect()
    } else {
        Vec::new()
    };
    for s in &inv.show {
        if let Ok(v) = s.eval_json(scope) {
            shown.push((s.text().to_owned(), v.to_string()));
        }
    }
    let values = shown
        .iter()
        .map(|(p, v)| format!("{p} = {v}"))
        .collect::<Vec<_>>()
        .join(", ");
    let at = at.map(|p| format!(" for {p}")).unwrap_or_default();
    let mut message = match &verdict {
        Err(e) => format!("{noun} {} could not be checked{at}: {e}", inv.name),
        Ok(_) => format!("{noun} {} is false{at}", inv.name),
    };
    if !values.is_empty() {
        message.push_str(&format!(": {values}"));
    }
    if let Some(m) = &inv.message {
        message.push_str(&format!(" ({m})"));
    }
    let cites = interpolate(&inv.cites, scope);
    Some(match inv.severity {
        Severity::Error => Finding::Failure(Failure {
            kind: FailureKind::Invariant,
            pointer: None,
            message,
            expected: Some(json!(format!("<invariant {}>", inv.name))),
            actual: None,
            source: inv.source.clone(),
            rule: Some(cites),
        }),
        Severity::Warning => Finding::Warning(Warning {
            pointer: None,
            message: format!("{message}; allowed ({cites})"),
            source: inv.source.clone(),
        }),
    })
}

/// Whether `when` holds in `scope` (an error counts as "does not").
pub fn holds(when: &Expr, scope: &ReplyScope<'_>) -> bool {
    match when.fast_bool(&mut scope.fast_vars()) {
        Some(b) => b,
        None => matches!(when.eval_bool(scope.scope()), Ok(true)),
    }
}

/// Where in the body an invariant is checked: an object's pointer, or an
/// array's pointer and the element's index. Spelt out only for a finding.
#[derive(Clone, Copy)]
struct At<'p> {
    pointer: &'p str,
    index: Option<usize>,
}

impl At<'_> {
    fn pointer(self) -> String {
        match self.index {
            Some(i) => pointer_push(self.pointer, &i.to_string()),
            None => self.pointer.to_owned(),
        }
    }
}

/// [`targets_of`] as a new list.
#[cfg(test)]
fn targets<'p, 'v>(
    inv: &'p Invariant,
    envelope: &'p Envelope,
    body: Option<&'v Value>,
) -> Vec<(Option<At<'p>>, Option<&'v Value>)> {
    let mut out = Vec::new();
    targets_of(inv, envelope, body, &mut out);
    out
}

/// What `inv` is checked on, into `out` (emptied first: one list serves
/// every invariant of a reply): the whole reply once, or each object its
/// `for_each` names (array elements one by one), with where they are.
fn targets_of<'p, 'v>(
    inv: &'p Invariant,
    envelope: &'p Envelope,
    body: Option<&'v Value>,
    out: &mut Vec<(Option<At<'p>>, Option<&'v Value>)>,
) {
    out.clear();
    if inv.for_each.is_empty() {
        out.push((None, None));
        return;
    }
    let Some(body) = body else { return };
    for f in &inv.for_each {
        let pointer = match f.as_str() {
            "payload" => envelope.payload.as_str(),
            "payload_copy" => match &envelope.payload_copy {
                Some(p) => p.as_str(),
                None => continue,
            },
            p => p,
        };
        match value::pointer(body, pointer) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let at = At {
                        pointer,
                        index: Some(i),
                    };
                    out.push((Some(at), Some(item)));
                }
            }
            Some(v) => out.push((
                Some(At {
                    pointer,
                    index: None,
                }),
                Some(v),
            )),
        }
    }
}

/// `text` with each `{expr}` replaced by its value in `scope` (strings
/// without quotes); a hole that cannot be evaluated is left as written.
pub fn interpolate(text: &str, scope: &Scope<'_>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(open) = rest.find('{') {
        let Some(close) = rest[open..].find('}') else {
            break;
        };
        out.push_str(&rest[..open]);
        let hole = &rest[open + 1..open + close];
        match Expr::compile(hole).and_then(|e| e.eval_json(scope)) {
            Ok(Value::String(s)) => out.push_str(&s),
            // A list reads as words: `CTI 2, 3, 4, 5`.
            Ok(Value::Array(items)) => out.push_str(
                &items
                    .iter()
                    .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_owned))
                    .collect::<Vec<_>>()
                    .join(", "),
            ),
            Ok(v) => out.push_str(&v.to_string()),
            Err(_) => out.push_str(&rest[open..=open + close]),
        }
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    out
}

fn show(pointer: &str) -> &str {
    if pointer.is_empty() {
        "the body"
    } else {
        pointer
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::OptionValues;
    use crate::testing::contract;

    fn agent(status: i64, cti: i64, login: i64) -> Value {
        json!({"workNo": 102, "vdnId": 1, "citStatus": cti, "name": "HW35154102",
               "phoneNumber": null, "loginDate": login, "currentStateTime": 10,
               "mediaType": 0, "status": status})
    }

    fn success(a: Value) -> Value {
        json!({"result": "0", "resultCode": "0100000", "resultDatas": a.clone(), "resultDesc": a})
    }

    /// The scope of a 200 reply carrying `body` to `request`, in release `r`
    /// of `c`.
    fn ok_scope<'a>(
        root: &'a Root,
        c: &'a Contract,
        r: &'a Release,
        request: &'a Value,
        probes: &'a Value,
        body: &'a Value,
    ) -> ReplyScope<'a> {
        let reply = Reply {
            status: 200,
            body: Some(body),
            request,
            probes,
        };
        ReplyScope::new(root, r, c.envelope(r), reply)
    }

    /// The contract's invariants on `body` (release `release`, options `given`),
    /// for a request of agent 102 in VDN 1: (failures, warnings) as
    /// `(name, pointer)`.
    fn run(
        release: &str,
        given: &[(&str, &str)],
        body: &Value,
    ) -> (Vec<(String, String)>, Vec<String>) {
        let c = contract("agentbyworkno");
        let given: Vec<(String, String)> = given
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let options = OptionValues::resolve(&crate::testing::contracts(), &given).unwrap();
        let opts = options.to_json("agentbyworkno");
        let root = Root::new([("consts", &c.consts), ("options", &opts)]);
        let r = c.release(release).unwrap();
        let request = json!({"method": "POST", "path": r.path, "body": null, "query": {"ccId": 1, "vdn": 1, "agentId": 102}});
        let probes = json!({});
        let scope = ok_scope(&root, &c, r, &request, &probes, body);
        let (f, w) = check(
            c.invariants.get().unwrap().iter().map(|i| i.as_ref()),
            &c,
            r,
            &scope,
            Some(body),
        );
        let names = f
            .iter()
            .map(|f| {
                (
                    f.message.split_whitespace().nth(1).unwrap_or("").to_owned(),
                    f.pointer.clone().unwrap_or_default(),
                )
            })
            .collect();
        (names, w.iter().map(|w| w.message.clone()).collect())
    }

    const SIGNED_IN_MS: i64 = 1_722_562_920_000;

    #[test]
    fn a_conforming_reply_keeps_every_invariant() {
        for (status, cti, login) in [
            (2, 0, 4_294_967_295_000),
            (4, 1, SIGNED_IN_MS),
            (7, 3, SIGNED_IN_MS),
            (0, 9, 4_294_967_295_000),
            (1, 5, SIGNED_IN_MS),
        ] {
            let (f, w) = run("2024-08", &[], &success(agent(status, cti, login)));
            assert!(f.is_empty() && w.is_empty(), "{status}/{cti}: {f:?} {w:?}");
        }
        let error =
            json!({"result": "1", "resultCode": "0100002", "resultDesc": "invalid parameter"});
        assert_eq!(run("2024-08", &[], &error).0, []);
    }

    #[test]
    fn table_5_and_the_login_date_rule_name_the_object_that_breaks_them() {
        let (f, _) = run("2024-08", &[], &success(agent(4, 7, SIGNED_IN_MS)));
        assert_eq!(
            f,
            [
                ("status_cti".to_string(), "/resultDesc".to_string()),
                ("status_cti".into(), "/resultDatas".into())
            ]
        );
        for login in [4_294_967_295_000, 1_722_562_920, 4_102_444_800_000] {
            let (f, _) = run("2024-08", &[], &success(agent(4, 1, login)));
            assert_eq!(f.len(), 2, "{login}: {f:?}");
            assert!(f.iter().all(|(n, _)| n == "login_date"), "{f:?}");
        }
        let (f, _) = run("2024-08", &[], &success(agent(2, 0, SIGNED_IN_MS)));
        assert!(
            f.iter().all(|(n, _)| n == "login_date") && f.len() == 2,
            "{f:?}"
        );
        // An object equal to one that held is not checked again; a copy
        // that differs is, on its own.
        let mut body = success(agent(4, 1, SIGNED_IN_MS));
        body["resultDatas"]["citStatus"] = json!(7);
        let (f, _) = run("2024-08", &[], &body);
        let at = |p: &str| ("status_cti".to_string(), p.to_string());
        assert!(f.contains(&at("/resultDatas")), "{f:?}");
        assert!(!f.contains(&at("/resultDesc")), "{f:?}");
    }

    /// A payload and its copy are compared once for all the invariants; the
    /// elements of a long list are not compared at all (each with every
    /// other would be 2,000,000 comparisons here, and more per invariant).
    #[test]
    fn equal_objects_are_compared_once_and_lists_not_at_all() {
        let compared = |body: &Value| {
            let c = contract("agentbyworkno");
            let options = OptionValues::resolve(&crate::testing::contracts(), &[]).unwrap();
            let opts = options.to_json("agentbyworkno");
            let root = Root::new([("consts", &c.consts), ("options", &opts)]);
            let r = c.release("2024-08").unwrap();
            let request = json!({"method": "POST", "path": r.path, "body": null, "query": {}});
            let probes = json!({});
            let scope = ok_scope(&root, &c, r, &request, &probes, body);
            let mut twins = Twins::default();
            let invariants = c.invariants.get().unwrap().iter().map(|i| i.as_ref());
            check_with(invariants, &c, r, &scope, Some(body), &mut twins);
            twins.compared
        };
        assert_eq!(compared(&success(agent(4, 1, SIGNED_IN_MS))), 1);
        let many = json!(vec![agent(4, 1, SIGNED_IN_MS); 2000]);
        assert_eq!(compared(&success(many)), 0);
    }

    #[test]
    fn a_false_invariant_says_its_rule_citation_and_values() {
        let c = contract("agentbyworkno");
        let root = Root::new([("consts", &c.consts), ("options", &json!({}))]);
        let r = c.default_release();
        let body = success(agent(4, 7, SIGNED_IN_MS));
        let request = json!({"query": null});
        let probes = json!({});
        let scope = ok_scope(&root, &c, r, &request, &probes, &body);
        let (f, _) = check(
            c.invariants.get().unwrap().iter().map(|i| i.as_ref()),
            &c,
            r,
            &scope,
            Some(&body),
        );
        assert_eq!(
            f[0].message,
            "invariant status_cti is false for /resultDesc: agent.citStatus = 7, agent.status = 4"
        );
        assert_eq!(
            f[0].rule.as_deref(),
            Some("Table 5 row status 4 (idle) ↔ CTI 1")
        );
        assert_eq!(f[0].kind, FailureKind::Invariant);
    }

    #[test]
    fn mirror_echoes_and_error_bodies() {
        let mut body = success(agent(4, 1, SIGNED_IN_MS));
        body["resultDatas"]["status"] = json!(3);
        body["resultDatas"]["citStatus"] = json!(7);
        assert!(run("2024-08", &[], &body)
            .0
            .contains(&("legacy_mirror".into(), String::new())));
        let mut body = success(agent(4, 1, SIGNED_IN_MS));
        body["resultDesc"]["workNo"] = json!(103);
        body["resultDatas"]["workNo"] = json!(103);
        assert_eq!(
            run("2024-08", &[], &body).0,
            [("echo_work_no".to_string(), String::new())]
        );
        let with_agent = json!({"result": "1", "resultCode": "0100001", "resultDesc": agent(4, 1, SIGNED_IN_MS)});
        assert_eq!(
            run("2024-08", &[], &with_agent).0,
            [("no_agent_on_error".to_string(), String::new())]
        );
        let disagree = json!({"result": "1", "resultCode": "0100000", "resultDatas": agent(4, 1, SIGNED_IN_MS), "resultDesc": agent(4, 1, SIGNED_IN_MS)});
        assert_eq!(
            run("2024-08", &[], &disagree).0,
            [("result_agrees".to_string(), String::new())]
        );
    }

    #[test]
    fn extra_keys_are_warnings_and_status_9_is_free_of_table_5() {
        let mut a = agent(4, 1, SIGNED_IN_MS);
        a["skillGroup"] = json!("x");
        let (f, w) = run("2024-08", &[], &success(a));
        assert!(f.is_empty(), "{f:?}");
        assert_eq!(w.len(), 2, "{w:?}");
        assert!(w[0].contains("\"skillGroup\""), "{w:?}");
        // Status 9's CTI state is undocumented: the invariant does not invent one.
        let (f, _) = run(
            "2024-08",
            &[("status9", "allowed")],
            &success(agent(9, 1, SIGNED_IN_MS)),
        );
        assert!(f.is_empty(), "{f:?}");
    }

    #[test]
    fn the_8_13_form_is_checked_with_its_lower_case_keys() {
        let lower = |a: Value| -> Value {
            Value::Object(
                a.as_object()
                    .unwrap()
                    .iter()
                    .map(|(k, v)| (k.to_ascii_lowercase(), v.clone()))
                    .collect(),
            )
        };
        let ok = json!({"result": "0", "resultDatas": lower(agent(4, 1, SIGNED_IN_MS))});
        assert_eq!(run("8.13", &[], &ok).0, []);
        let bad = json!({"result": "0", "resultDatas": lower(agent(4, 1, 4_294_967_295_000))});
        assert_eq!(
            run("8.13", &[], &bad).0,
            [("login_date_legacy".to_string(), "/resultDatas".to_string())]
        );
        assert_eq!(run("8.13", &[], &json!({"result": "0100002"})).0, []);
    }

    #[test]
    fn citations_fill_their_holes_and_keep_the_ones_that_fail() {
        let root = Root::new([]);
        let mut s = root.scope();
        s.bind("a", &json!({"s": 4, "name": "x", "l": [2, 3]}));
        assert_eq!(
            interpolate("row {a.s} ({a.name}) {a.l} {a.zz} {", &s),
            "row 4 (x) 2, 3 {a.zz} {"
        );
    }

    /// Bodies of every shape an invariant may meet: conforming, legacy,
    /// error, wrong types, doubles, uints, missing and extra keys.
    fn shapes() -> Vec<Value> {
        let mut out = Vec::new();
        for (status, cti, login) in [
            (2, 0, 4_294_967_295_000),
            (4, 1, SIGNED_IN_MS),
            (7, 3, SIGNED_IN_MS),
            (4, 7, SIGNED_IN_MS),
            (2, 0, SIGNED_IN_MS),
            (9, 8, SIGNED_IN_MS),
            (11, 12, 5),
        ] {
            out.push(success(agent(status, cti, login)));
        }
        let odd = |f: &dyn Fn(&mut serde_json::Map<String, Value>)| {
            let mut a = agent(4, 1, SIGNED_IN_MS);
            f(a.as_object_mut().unwrap());
            success(a)
        };
        out.push(odd(&|a| {
            a.insert("workNo".into(), json!("102"));
        }));
        out.push(odd(&|a| {
            a.insert("status".into(), json!(4.0));
        }));
        out.push(odd(&|a| {
            a.insert("loginDate".into(), json!(u64::MAX));
        }));
        out.push(odd(&|a| {
            a.insert("citStatus".into(), json!(null));
        }));
        out.push(odd(&|a| {
            a.remove("name");
            a.insert("extra".into(), json!([1, {"x": 2}]));
        }));
        let mut differ = success(agent(4, 1, SIGNED_IN_MS));
        differ["resultDatas"]["status"] = json!(2);
        out.push(differ);
        let mut missing = success(agent(4, 1, SIGNED_IN_MS));
        missing.as_object_mut().unwrap().remove("resultDatas");
        out.push(missing);
        let mut not_map = success(agent(4, 1, SIGNED_IN_MS));
        not_map["resultDesc"] = json!("x");
        out.push(not_map);
        out.push(json!({"result": "1", "resultCode": "0100000", "resultDesc": {}}));
        out.push(json!({"result": "1", "resultCode": "0100002", "resultDesc": "invalid"}));
        out.push(json!({"result": "1", "resultCode": 100002, "resultDatas": {"a": 1}}));
        out.push(
            json!({"result": "0", "resultDatas": {"workno": 102, "status": 4, "citstatus": 1}}),
        );
        out.extend([
            json!([1, 2]),
            json!("text"),
            json!(null),
            json!(1.5),
            json!({}),
        ]);
        out
    }

    /// The fast path only answers where CEL answers the same: every
    /// shipped invariant (`when` and `expr`) and a few more expressions, on
    /// every body shape, for every release. And it does answer the shipped
    /// invariants on conforming replies, so that it is really used.
    #[test]
    fn the_fast_path_agrees_with_cel_and_covers_the_shipped_invariants() {
        let c = contract("agentbyworkno");
        let opts = OptionValues::resolve(&crate::testing::contracts(), &[])
            .unwrap()
            .to_json("agentbyworkno");
        let root = Root::new([("consts", &c.consts), ("options", &opts)]);
        let extra: Vec<Expr> = [
            "size(payload) >= 9 && size('ab') == 2",
            "has(response.resultDesc) || has(response.result)",
            "response.resultDesc.status - 1 < 10 && -status < 0",
            "[1, 'a', null] == [1, 'a', null] && !([1] == [2]) && 1 != 'a'",
            "payload.loginDate > 0",
            "response == response",
            "payload.exists(k, k == 'status') && [2, 3].exists(x, x == 3)",
            "string(status) + 'x' == '200x'",
            "response.resultDesc.workNo in [101, 102]",
            "1u == 1",
            "status == 200.0",
            "sum([1, 2]) == 3",
            "payload[0] == 1",
            // Loop-invariant parts hoisted out of quantifiers: nested,
            // shadowed, and one that cannot be told (it falls back).
            "[1, 2].exists(x, [3].all(y, y > x && size(consts.table4_keys) == 9 && x in [1, 2]))",
            "[1].all(x, [2].all(x, x == 2)) && [1].all(x, [x].all(y, y == x))",
            "[1, 2].all(x, x > 0 || response.nope == 1) && [].all(x, response.nope == x)",
            "payload.all(k, k in consts.table4_keys || k in consts.table4_keys_lower)",
            // `string()` of an int, read as its text where it is used.
            "string(payload.status) in consts.table5 && !(string(-4) in consts.table5)",
            "consts.table5[string(payload.status)] == [1] && string(status) in ['200', 'x']",
            "string(payload.status) == '4' && size(string(-12)) == 3 && string(7) != 7",
            "type(string(1)) == string && string(string(status)) == string(status)",
        ]
        .iter()
        .map(|t| Expr::compile(t).unwrap())
        .collect();
        let mut asked = 0;
        for r in &c.releases {
            let request = json!({"method": "POST", "path": r.path, "body": null,
                                 "query": {"ccId": 1, "vdn": 1, "agentId": 102}});
            let probes = json!({"unknown_agent_code": "0100001"});
            for body in shapes() {
                let scope = ok_scope(&root, &c, r, &request, &probes, &body);
                let mut exprs: Vec<(&Expr, Option<(&str, &Value)>)> = Vec::new();
                for inv in c.invariants.get().unwrap() {
                    for (_, v) in targets(inv, c.envelope(r), Some(&body)) {
                        let bind = v.map(|v| (inv.binding.as_str(), v));
                        exprs.extend(inv.when.iter().map(|w| (w, bind)));
                        exprs.push((&inv.expr, bind));
                    }
                }
                exprs.extend(extra.iter().map(|e| (e, None)));
                for (e, bind) in exprs {
                    let mut vars = scope.fast_vars();
                    let mut child = scope.scope().child();
                    if let Some((name, v)) = bind {
                        vars.push((name, fast_value(v)));
                        child.bind(name, v);
                    }
                    asked += 1;
                    if let Some(b) = e.fast_bool(&mut vars) {
                        assert_eq!(
                            e.eval_bool(&child),
                            Ok(b),
                            "{} on {body} ({})",
                            e.text(),
                            r.name
                        );
                    }
                }
            }
        }
        assert!(asked > 1000, "{asked}");
        // Conforming replies: every shipped invariant is decided fast.
        let r = c.release("2024-08").unwrap();
        let request = json!({"method": "POST", "path": r.path, "body": null,
                             "query": {"ccId": 1, "vdn": 1, "agentId": 102}});
        let probes = json!({});
        for body in [
            success(agent(4, 1, SIGNED_IN_MS)),
            success(agent(2, 0, 4_294_967_295_000)),
            json!({"result": "1", "resultCode": "0100002", "resultDesc": "invalid"}),
        ] {
            let scope = ok_scope(&root, &c, r, &request, &probes, &body);
            for inv in c
                .invariants
                .get()
                .unwrap()
                .iter()
                .filter(|i| i.applies_to(&r.name))
            {
                for (_, v) in targets(inv, c.envelope(r), Some(&body)) {
                    let mut vars = scope.fast_vars();
                    if let Some(v) = v {
                        vars.push((inv.binding.as_str(), fast_value(v)));
                    }
                    for e in inv.when.iter().chain([&inv.expr]) {
                        assert!(
                            e.fast_bool(&mut vars).is_some(),
                            "{}: `{}` fell back to CEL on {body}",
                            inv.name,
                            e.text()
                        );
                        if e.fast_bool(&mut vars) == Some(false) {
                            break;
                        }
                    }
                }
            }
        }
    }
}
