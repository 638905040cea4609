//! Flow cases: `flow:` with steps (each a request to one contract, sent
//! once or once per element of a list) and relations between the replies.
//!
//! A step compiles like a single case against its own contract, so every
//! check of a single case (status, schema, the contract's invariants) holds
//! for each of its replies. What is new is only what ties steps together:
//! request fields and `for_each` lists computed from earlier replies
//! (`{$expr: CEL}`), captures, and relations. Every expression is compiled
//! and every name it reads is checked here, so a typo is a located load
//! error, not a run-time surprise.

use super::compile::{compile, merge_expect, merge_request, CaseContext};
use super::context::{find_contract, resolve_release};
use super::error::{did_you_mean, LoadError};
use super::matcher::Compiler;
use super::node::{Node, NodeValue};
use super::raw::{RawCase, RawExpect, RawFlow, RawRequest, RawStep};
use super::{Body, Case, Computed, Flow, ForEach, Relation, Step};
use crate::expr::Expr;
use crate::location::Location;
use serde_saphyr::Spanned;
use std::path::PathBuf;
use std::sync::Arc;

/// Most steps in one flow.
pub const MAX_FLOW_STEPS: usize = 32;
/// Most attempts of one flow.
pub const MAX_FLOW_ATTEMPTS: u32 = 10;
/// Longest pause between attempts, in milliseconds.
pub const MAX_FLOW_DELAY_MS: u64 = 60_000;

/// Names every flow expression can read besides steps and captures.
const ROOT_NAMES: [&str; 3] = ["consts", "options", "vars"];

/// The key of a request field computed when the step is sent.
const EXPR_KEY: &str = "$expr";

/// Compile the flow case `rc`. `req` and `exp` are the folder's defaults,
/// applied to steps of the suite's own contract.
pub(crate) fn compile_flow(
    suite: &str,
    name: String,
    file: &Arc<PathBuf>,
    rc: &RawCase,
    raw: &RawFlow,
    (req, exp): (&RawRequest, &RawExpect),
    cx: &CaseContext,
) -> Result<Case, LoadError> {
    let c = Compiler {
        file,
        vars: &cx.vars,
    };
    let source = Location::from_yaml(file, &rc.name.referenced);
    if !is_empty_request(&rc.request) || !is_empty_expect(&rc.expect) || rc.generate.is_some() {
        return Err(LoadError::new(
            source,
            "a flow case has no `request`, `expect` or `generate` of its own",
        )
        .label("move them under one of `flow.steps`"));
    }
    if raw.steps.is_empty() || raw.steps.len() > MAX_FLOW_STEPS {
        return Err(LoadError::new(
            source,
            format!(
                "a flow has 1 to {MAX_FLOW_STEPS} steps, not {}",
                raw.steps.len()
            ),
        )
        .label("list the requests under `flow.steps`"));
    }
    let attempts = match &raw.attempts {
        None => 1,
        Some(a) if (1..=MAX_FLOW_ATTEMPTS).contains(&a.value) => a.value,
        Some(a) => {
            return Err(LoadError::new(
                c.loc(&a.referenced),
                format!("`attempts: {}` is out of range", a.value),
            )
            .label(format!("from 1 to {MAX_FLOW_ATTEMPTS}")))
        }
    };
    let delay_ms = match &raw.delay_ms {
        None => 0,
        Some(d) if d.value <= MAX_FLOW_DELAY_MS => d.value,
        Some(d) => {
            return Err(
                LoadError::new(c.loc(&d.referenced), "`delay_ms` is too long")
                    .label(format!("at most {MAX_FLOW_DELAY_MS}")),
            )
        }
    };
    // Names readable so far: the roots, then each step and capture in turn.
    let mut known: Vec<String> = ROOT_NAMES.iter().map(|s| s.to_string()).collect();
    let mut steps = Vec::new();
    for rs in &raw.steps {
        let step = compile_step(suite, &name, file, rc, rs, req, exp, cx, &known)?;
        known.push(step.id.clone());
        known.extend(step.captures.iter().map(|k| k.name.clone()));
        steps.push(step);
    }
    let releases: Vec<String> = cx
        .contract
        .as_ref()
        .map(|k| k.releases.iter().map(|r| r.name.clone()).collect())
        .unwrap_or_default();
    let mut relations = Vec::new();
    for ri in &raw.relations {
        let mut ri = ri.clone();
        let for_each = match ri.for_each.len() {
            0 => None,
            1 => {
                let list = ri.for_each.remove(0);
                Some(for_each(&c, &list, ri.binding.as_ref(), &known)?)
            }
            _ => {
                return Err(LoadError::new(
                    c.loc(&ri.for_each[1].referenced),
                    "a relation's `for_each` is one CEL list",
                )
                .label("combine the lists in one expression, e.g. a + b"))
            }
        };
        ri.binding = None;
        let invariant = crate::contract::invariant(&ri, file, &releases)?;
        let mut names = known.clone();
        names.extend(for_each.as_ref().map(|f| f.binding.clone()));
        let written = std::iter::once((&invariant.expr, &ri.expr))
            .chain(invariant.when.as_ref().zip(ri.when.as_ref()))
            .chain(invariant.show.iter().zip(&ri.show));
        for (e, text) in written {
            check_names(&c, e, text, &names)?;
        }
        relations.push(Relation {
            invariant: Arc::new(invariant),
            for_each,
        });
    }
    let first = &steps[0].case;
    let skip = cx
        .skip
        .clone()
        .or_else(|| steps.iter().find_map(|s| s.case.skip.clone()));
    Ok(Case {
        suite: suite.to_owned(),
        name,
        description: first.description.clone(),
        tags: rc.tags.iter().map(|t| t.value.clone()).collect(),
        source,
        contract: cx.contract.clone(),
        release: cx.release.clone(),
        skip,
        request: first.request.clone(),
        expect: first.expect.clone(),
        flow: Some(Arc::new(Flow {
            steps,
            relations,
            attempts,
            delay: std::time::Duration::from_millis(delay_ms),
            vars: cx.vars.to_json(),
        })),
    })
}

#[allow(clippy::too_many_arguments)]
fn compile_step(
    suite: &str,
    case_name: &str,
    file: &Arc<PathBuf>,
    rc: &RawCase,
    rs: &RawStep,
    req: &RawRequest,
    exp: &RawExpect,
    cx: &CaseContext,
    known: &[String],
) -> Result<Step, LoadError> {
    let c = Compiler {
        file,
        vars: &cx.vars,
    };
    let id = &rs.id;
    if !valid_id(&id.value) || ROOT_NAMES.contains(&id.value.as_str()) {
        return Err(LoadError::new(
            c.loc(&id.referenced),
            format!("`{}` cannot name a step", id.value),
        )
        .label("a step id is a CEL name: a letter or `_`, then letters, digits, `_`; not consts, options or vars"));
    }
    if known.contains(&id.value) {
        return Err(LoadError::new(
            c.loc(&id.referenced),
            format!("`{}` is already a step or capture of this flow", id.value),
        )
        .label("give each step its own id"));
    }
    // The step's contract (default: the suite's) and release (default: the run's).
    let contract = match &rs.contract {
        Some(n) => find_contract(&c, cx.catalog.as_deref(), n)?,
        None => cx.contract.clone().ok_or_else(|| {
            LoadError::new(c.loc(&id.referenced), "this step has no contract")
                .label("name it here (`contract: NAME`) or in the suite's _defaults.yaml")
        })?,
    };
    let own = cx
        .contract
        .as_ref()
        .is_some_and(|k| k.name == contract.name);
    let (release, skip) = resolve_release(
        &c,
        &contract,
        rs.release.as_ref(),
        cx.run_release.as_deref(),
    )?;
    let mut scx = cx.clone();
    scx.vars.set("release", &release.name, "step release");
    scx.vars.set("endpoint", &release.path, "step release");
    scx.skip = skip;
    scx.contract = Some(contract.clone());
    scx.release = Some(Arc::new(release));
    // Folder defaults are for the suite's own contract.
    let (base_req, base_exp) = if own {
        (req.clone(), exp.clone())
    } else {
        (RawRequest::default(), RawExpect::default())
    };
    let request = merge_request(&base_req, &rs.request);
    let mut expect = merge_expect(&base_exp, &rs.expect);
    // A step expects a success by default: JSON, and the contract's
    // success schema.
    if expect.json.is_none() && expect.rejected.is_none() {
        expect.json = Some(Spanned {
            value: true,
            referenced: id.referenced,
            defined: id.defined,
        });
    }
    if expect.schema.is_none() && expect.rejected.is_none() {
        if let Some(s) = contract
            .boundaries
            .as_ref()
            .and_then(|b| b.accepted_schema.clone())
        {
            expect.schema = Some(Spanned {
                value: s,
                referenced: id.referenced,
                defined: id.defined,
            });
        }
    }
    let step_rc = RawCase {
        name: id.clone(),
        description: rc.description.clone(),
        tags: vec![],
        request: RawRequest::default(),
        expect: RawExpect::default(),
        generate: None,
        each: None,
        release: None,
        releases: None,
        flow: None,
    };
    let each = rs
        .for_each
        .as_ref()
        .map(|l| for_each(&c, l, rs.binding.as_ref(), known))
        .transpose()?;
    if rs.binding.is_some() && each.is_none() {
        return Err(LoadError::new(
            c.loc(&rs.binding.as_ref().map_or(id.referenced, |b| b.referenced)),
            "`as` names the element of a `for_each`",
        )
        .label("add `for_each: LIST` or remove `as`"));
    }
    let mut names = known.to_vec();
    names.extend(each.as_ref().map(|f| f.binding.clone()));
    let fields = computed_fields(&c, request.query.as_ref(), &names)?;
    let mut case = compile(
        suite,
        format!("{case_name}::{}", id.value),
        file,
        &step_rc,
        &request,
        &expect,
        &scx,
    )?;
    if !fields.is_empty() {
        let Body::Query(map) = &mut case.request.body else {
            return Err(LoadError::new(
                c.loc(&id.referenced),
                "computed fields need `request.query`",
            ));
        };
        for f in &fields {
            map.remove(&f.name);
        }
    }
    // Captures read this step's reply by its id.
    let mut names_after = known.to_vec();
    names_after.push(id.value.clone());
    let mut captures = Vec::new();
    for (name, text) in &rs.capture {
        if !valid_id(name) || names_after.contains(name) || ROOT_NAMES.contains(&name.as_str()) {
            return Err(LoadError::new(
                c.loc(&text.referenced),
                format!("`{name}` cannot name a capture"),
            )
            .label("a new CEL name: not a step, another capture, consts, options or vars"));
        }
        let expr = compile_expr(&c, text)?;
        check_names(&c, &expr, text, &names_after)?;
        captures.push(Computed {
            name: name.clone(),
            expr: Arc::new(expr),
            source: c.loc(&text.referenced),
        });
        names_after.push(name.clone());
    }
    Ok(Step {
        id: id.value.clone(),
        case,
        for_each: each,
        fields,
        captures,
    })
}

/// `for_each: LIST` with `as: NAME` (default `item`).
fn for_each(
    c: &Compiler,
    list: &Spanned<String>,
    binding: Option<&Spanned<String>>,
    known: &[String],
) -> Result<ForEach, LoadError> {
    let expr = compile_expr(c, list)?;
    check_names(c, &expr, list, known)?;
    let binding_name = binding.map_or("item", |b| b.value.as_str());
    if !valid_id(binding_name)
        || known.iter().any(|k| k == binding_name)
        || ROOT_NAMES.contains(&binding_name)
    {
        let at = binding.map_or(list.referenced, |b| b.referenced);
        return Err(LoadError::new(
            c.loc(&at),
            format!("`{binding_name}` cannot name the element of a `for_each`"),
        )
        .label("a new CEL name: not a step, capture, consts, options or vars"));
    }
    Ok(ForEach {
        list: Arc::new(expr),
        binding: binding_name.to_owned(),
        source: c.loc(&list.referenced),
    })
}

/// The request fields written `{$expr: CEL}`.
fn computed_fields(
    c: &Compiler,
    query: Option<&Node>,
    known: &[String],
) -> Result<Vec<Computed>, LoadError> {
    let Some(Node {
        value: NodeValue::Map(entries),
        ..
    }) = query
    else {
        return Ok(vec![]);
    };
    let mut out = Vec::new();
    for (k, v) in entries {
        let NodeValue::Map(inner) = &v.value else {
            continue;
        };
        let Some((key, text)) = inner.iter().find(|(key, _)| key.value == EXPR_KEY) else {
            continue;
        };
        let (NodeValue::Str(s), 1) = (&text.value, inner.len()) else {
            return Err(LoadError::new(
                c.loc(&key.referenced),
                "`$expr` takes one CEL expression, as a string",
            )
            .label("e.g. agentId: {$expr: item.agentId}"));
        };
        let spanned = Spanned {
            value: s.clone(),
            referenced: text.loc,
            defined: text.loc,
        };
        let expr = compile_expr(c, &spanned)?;
        check_names(c, &expr, &spanned, known)?;
        out.push(Computed {
            name: k.value.clone(),
            expr: Arc::new(expr),
            source: c.loc(&text.loc),
        });
    }
    Ok(out)
}

fn compile_expr(c: &Compiler, text: &Spanned<String>) -> Result<Expr, LoadError> {
    Expr::compile(&text.value).map_err(|e| {
        LoadError::new(
            c.loc(&text.referenced),
            format!("invalid CEL expression: {e}"),
        )
        .label("fix the expression")
    })
}

/// Every name `expr` reads is a step, a capture, a binding or a root.
fn check_names(
    c: &Compiler,
    expr: &Expr,
    at: &Spanned<String>,
    known: &[String],
) -> Result<(), LoadError> {
    for v in expr.variables() {
        if known.contains(&v) {
            continue;
        }
        let e = LoadError::new(
            c.loc(&at.referenced),
            format!("`{v}` is not a step, capture or name known here"),
        );
        let e = match did_you_mean(&v, known.iter().map(String::as_str)) {
            Some(m) => e.label(format!("did you mean `{m}`?")),
            None => e.label("a step can read the steps before it"),
        };
        return Err(e.help(format!("known here: {}", known.join(", "))));
    }
    Ok(())
}

fn valid_id(s: &str) -> bool {
    let mut chars = s.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

fn is_empty_request(r: &RawRequest) -> bool {
    r.method.is_none()
        && r.path.is_none()
        && r.headers.is_none()
        && r.auth.is_none()
        && r.query.is_none()
        && r.body.is_none()
        && r.raw_body.is_none()
}

fn is_empty_expect(e: &RawExpect) -> bool {
    e.status.is_none()
        && e.json.is_none()
        && e.schema.is_none()
        && e.body.is_none()
        && e.match_mode.is_none()
        && e.rules.is_none()
        && e.invariants.is_none()
        && e.rejected.is_none()
}
