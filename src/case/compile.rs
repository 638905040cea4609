//! Building one [`Case`] from its written form: folder defaults merged,
//! `${vars}` expanded, the contract's defaults (method, path of the
//! release, Content-Type) filled in, every value located.

use super::error::{did_you_mean, LoadError};
use super::matcher::Compiler;
use super::node::{Node, NodeValue};
use super::raw::{RawCase, RawExpect, RawRequest};
use super::vars::{Expanded, Vars};
use super::{check_request_path, word_value, AuthMode, Body, Case, Expect, Request};
use crate::contract::{Contract, Release};
use crate::location::Location;
use crate::schema::SchemaCatalog;
use serde_saphyr::Spanned;
use std::path::PathBuf;
use std::sync::Arc;

/// What a case is compiled against besides its text.
#[derive(Debug, Clone)]
pub(crate) struct CaseContext {
    /// Variables for `${name}` (the case's `each` value included).
    pub vars: Vars,
    /// The suite's contract.
    pub contract: Option<Arc<Contract>>,
    /// The contract release the case expects.
    pub release: Option<Arc<Release>>,
    /// Why the case does not apply to the run, if it does not.
    pub skip: Option<String>,
    /// Every contract, for flow steps that name another.
    pub catalog: Option<Arc<SchemaCatalog>>,
    /// The release the run expects (`--release`).
    pub run_release: Option<String>,
}

pub(crate) fn compile(
    suite: &str,
    name: String,
    file: &Arc<PathBuf>,
    rc: &RawCase,
    req: &RawRequest,
    exp: &RawExpect,
    cx: &CaseContext,
) -> Result<Case, LoadError> {
    if let Some(flow) = &rc.flow {
        return super::flow::compile_flow(suite, name, file, rc, flow, (req, exp), cx);
    }
    let vars = &cx.vars;
    let c = Compiler { file, vars };
    let source = Location::from_yaml(file, &rc.name.referenced);
    let text = |s: &Spanned<String>| -> Result<String, LoadError> {
        match vars.expand(&s.value, &c.loc(&s.referenced))? {
            Expanded::Typed(v) => Ok(v.to_string()),
            Expanded::Text(t) => Ok(t),
        }
    };
    let method = match (&req.method, &cx.contract) {
        (Some(m), _) => text(m)?.to_ascii_uppercase(),
        (None, Some(contract)) => contract.method.clone(),
        (None, None) => {
            return Err(LoadError::new(source, "the case has no `request.method`")
                .label("set `method:` here or in the folder's _defaults.yaml"))
        }
    };
    let path = match &req.path {
        Some(p) => {
            let path = text(p)?;
            // Checked after expansion: a variable can carry `@host` as well.
            check_request_path(&path).map_err(|e| {
                LoadError::new(c.loc(&p.referenced), e.message)
                    .label(e.fix)
                    .help("a request path is an absolute path below the target's base URL, e.g. /rest/cmsapp/v1/openapi/agent/agentbyworkno")
            })?;
            path
        }
        None => match &cx.release {
            Some(release) => release.path.clone(),
            None => {
                return Err(LoadError::new(source, "the case has no `request.path`")
                    .label("set `path:` here or in the folder's _defaults.yaml, or name the suite's `contract:`"))
            }
        },
    };
    let mut headers = Vec::new();
    // The contract's Content-Type unless the case sets or removes (`~`) it.
    let names_content_type = req.headers.as_ref().is_some_and(|h| match &h.value {
        NodeValue::Map(entries) => entries
            .iter()
            .any(|(k, _)| k.value.eq_ignore_ascii_case("content-type")),
        _ => false,
    });
    if let (Some(contract), false) = (&cx.contract, names_content_type) {
        headers.push(("Content-Type".to_owned(), contract.content_type.clone()));
    }
    if let Some(h) = &req.headers {
        let NodeValue::Map(entries) = &h.value else {
            return Err(c.expected(h, "a mapping of header names to values"));
        };
        for (k, v) in entries {
            if k.value.eq_ignore_ascii_case("authorization") {
                return Err(LoadError::new(
                    c.loc(&k.referenced),
                    "Authorization cannot be set in a case file",
                )
                .label(
                    "use `auth:` (signed, none, blank, garbled, ...); keys come from CMS_AK/CMS_SK",
                ));
            }
            match &v.value {
                NodeValue::Null => {}
                NodeValue::Str(_) | NodeValue::Int(_) | NodeValue::UInt(_) => {
                    let val = match c.value(v)? {
                        serde_json::Value::String(s) => s,
                        other => other.to_string(),
                    };
                    headers.push((k.value.clone(), val));
                }
                _ => return Err(c.expected(v, "a header value (string) or `~` to remove it")),
            }
        }
    }
    let kinds = [
        req.query.is_some(),
        req.body.is_some(),
        req.raw_body.is_some(),
    ];
    if kinds.iter().filter(|k| **k).count() > 1 {
        return Err(
            LoadError::new(source, "a request has one of `query`, `body` or `raw_body`")
                .label("keep only one"),
        );
    }
    let body = if let Some(q) = &req.query {
        match c.value(q)? {
            serde_json::Value::Object(m) => Body::Query(m),
            _ => return Err(c.expected(q, "a mapping of the contract's request fields")),
        }
    } else if let Some(b) = &req.body {
        Body::Json(c.value(b)?)
    } else if let Some(r) = &req.raw_body {
        Body::Raw(text(r)?)
    } else {
        Body::Empty
    };
    let auth = match &req.auth {
        None => AuthMode::Signed,
        Some(a) => word_value(&AuthMode::ALL, &a.value).ok_or_else(|| {
            unknown_word(&c, a, "auth mode", AuthMode::ALL.iter().map(|(n, _)| *n))
        })?,
    };
    let status_source = exp
        .status
        .as_ref()
        .map_or(source.clone(), |n| c.loc(&n.loc));
    let status = match &exp.status {
        None => vec![200],
        Some(n) => status_list(&c, n)?,
    };
    let exact = match &exp.match_mode {
        None => false,
        Some(m) if m.value == "subset" => false,
        Some(m) if m.value == "exact" => true,
        Some(m) => return Err(unknown_word(&c, m, "match mode", ["subset", "exact"])),
    };
    let body_matcher = exp.body.as_ref().map(|b| c.matcher(b, exact)).transpose()?;
    if let Some(r) = &exp.rules {
        return Err(
            LoadError::new(c.loc(&r.loc), "`rules` are the contract's invariants now")
                .label("remove `rules:`; every invariant of the contract is checked on every reply")
                .help(
                    "a case adds its own relations under `expect.invariants` (name, cites, expr)",
                ),
        );
    }
    if let (Some(s), Some(contract), Some(release), Some(catalog)) =
        (&exp.schema, &cx.contract, &cx.release, &cx.catalog)
    {
        if s.value != "none" {
            check_schema_name(&c, s, catalog, contract, release)?;
        }
    }
    let releases: Vec<String> = cx
        .contract
        .as_ref()
        .map(|k| k.releases.iter().map(|r| r.name.clone()).collect())
        .unwrap_or_default();
    let mut invariants = Vec::new();
    for ri in exp.invariants.iter().flatten() {
        invariants.push(Arc::new(crate::contract::invariant(ri, file, &releases)?));
    }
    let tags = rc.tags.iter().map(|t| t.value.clone()).collect();
    // Descriptions may name variables too (`agent ${agent}`).
    let description = rc
        .description
        .as_ref()
        .map(|d| match vars.expand(d, &source)? {
            Expanded::Typed(v) => Ok::<_, LoadError>(v.to_string()),
            Expanded::Text(t) => Ok(t),
        })
        .transpose()?;
    Ok(Case {
        suite: suite.to_string(),
        name,
        description,
        tags,
        source,
        contract: cx.contract.clone(),
        release: cx.release.clone(),
        skip: cx.skip.clone(),
        request: Request {
            method,
            path,
            headers,
            body,
            auth,
        },
        expect: Expect {
            status,
            status_source,
            json: exp.json.as_ref().is_some_and(|j| j.value),
            // `schema: none` switches off a folder default.
            schema: exp
                .schema
                .as_ref()
                .filter(|s| s.value != "none")
                .map(|s| (s.value.clone(), c.loc(&s.referenced))),
            body: body_matcher,
            invariants,
            snapshot: None,
            rejected: exp
                .rejected
                .as_ref()
                .filter(|r| r.value)
                .map(|r| c.loc(&r.referenced)),
            inconclusive: None,
        },
        flow: None,
    })
}

pub(crate) fn status_list(c: &Compiler, n: &Node) -> Result<Vec<u16>, LoadError> {
    let one = |n: &Node| match &n.value {
        NodeValue::Int(i) if (100..=599).contains(i) => Ok(*i as u16),
        _ => Err(c.expected(n, "an HTTP status code (100-599)")),
    };
    match &n.value {
        NodeValue::Seq(items) if !items.is_empty() => items.iter().map(one).collect(),
        _ => Ok(vec![one(n)?]),
    }
}

pub(crate) fn unknown_word<'a>(
    c: &Compiler,
    s: &Spanned<String>,
    what: &str,
    choices: impl IntoIterator<Item = &'a str> + Clone,
) -> LoadError {
    let all: Vec<&str> = choices.clone().into_iter().collect();
    let e = LoadError::new(
        c.loc(&s.referenced),
        format!("unknown {what} `{}`", s.value),
    );
    match did_you_mean(&s.value, choices) {
        Some(m) => e.label(format!("did you mean `{m}`?")),
        None => e.label(format!("not a {what}")),
    }
    .help(format!("{what}s: {}", all.join(", ")))
}

pub(crate) fn merge_request(base: &RawRequest, over: &RawRequest) -> RawRequest {
    let headers = match (&base.headers, &over.headers) {
        (
            Some(Node {
                value: NodeValue::Map(a),
                loc,
            }),
            Some(Node {
                value: NodeValue::Map(b),
                ..
            }),
        ) => {
            let mut merged: Vec<(Spanned<String>, Node)> = a
                .iter()
                .filter(|(k, _)| {
                    !b.iter()
                        .any(|(k2, _)| k2.value.eq_ignore_ascii_case(&k.value))
                })
                .cloned()
                .collect();
            merged.extend(b.iter().cloned());
            Some(Node {
                value: NodeValue::Map(merged),
                loc: *loc,
            })
        }
        (a, b) => b.clone().or_else(|| a.clone()),
    };
    // A case that gives any body kind replaces the default body entirely.
    let case_has_body = over.query.is_some() || over.body.is_some() || over.raw_body.is_some();
    let pick =
        |a: &Option<Node>, b: &Option<Node>| if case_has_body { b.clone() } else { a.clone() };
    RawRequest {
        method: over.method.clone().or_else(|| base.method.clone()),
        path: over.path.clone().or_else(|| base.path.clone()),
        headers,
        auth: over.auth.clone().or_else(|| base.auth.clone()),
        query: pick(&base.query, &over.query),
        body: pick(&base.body, &over.body),
        raw_body: if case_has_body {
            over.raw_body.clone()
        } else {
            base.raw_body.clone()
        },
    }
}

pub(crate) fn merge_expect(base: &RawExpect, over: &RawExpect) -> RawExpect {
    RawExpect {
        status: over.status.clone().or_else(|| base.status.clone()),
        json: over.json.clone().or_else(|| base.json.clone()),
        schema: over.schema.clone().or_else(|| base.schema.clone()),
        body: over.body.clone().or_else(|| base.body.clone()),
        match_mode: over.match_mode.clone().or_else(|| base.match_mode.clone()),
        rules: over.rules.clone().or_else(|| base.rules.clone()),
        invariants: match (&base.invariants, &over.invariants) {
            (Some(a), Some(b)) => Some(a.iter().chain(b).cloned().collect()),
            (a, b) => b.clone().or_else(|| a.clone()),
        },
        rejected: over.rejected.clone().or_else(|| base.rejected.clone()),
    }
}

/// `schema:` names a schema of the contract (release): a typo is a load
/// error with a "did you mean", not a failure of every case at run time.
fn check_schema_name(
    c: &Compiler,
    s: &Spanned<String>,
    catalog: &SchemaCatalog,
    contract: &Contract,
    release: &Release,
) -> Result<(), LoadError> {
    let Ok(set) = catalog.get(contract, release) else {
        // The run reports a contract whose schemas do not compile.
        return Ok(());
    };
    if set.has(&s.value) {
        return Ok(());
    }
    let names = set.names();
    let e = LoadError::new(
        c.loc(&s.referenced),
        format!(
            "contract {} (release {}) has no schema `{}`",
            contract.name, release.name, s.value
        ),
    );
    let e = match did_you_mean(&s.value, names.iter().map(String::as_str)) {
        Some(m) => e.label(format!("did you mean `{m}`?")),
        None => e.label("not a schema of the contract"),
    };
    Err(e.help(format!("schemas: {}", names.join(", "))))
}
