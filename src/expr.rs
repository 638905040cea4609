//! CEL expressions: compiled once, evaluated per reply against JSON values.
//!
//! Contract invariants, flow relations and run-time request values are
//! [CEL](https://cel.dev) expressions, as in Kubernetes'
//! `x-kubernetes-validations`: typed, side-effect free, and bounded (no loops
//! but comprehensions over finite values). This module is the engine's only
//! contact with the `cel` crate.
//!
//! - [`Expr`]: one compiled expression, with the member paths it reads
//!   (`agent.status`, `request.query.agentId`) so a false result can be
//!   explained by the values it saw.
//! - [`Root`]: the standard library, this project's few extra functions
//!   ([`Root::new`] lists them) and the constants of a contract, built once
//!   and shared by every evaluation.
//! - [`Scope`]: one evaluation's variables (`response`, `request`, …), bound
//!   from `serde_json` values.

mod fast;

use std::fmt;
use std::sync::Arc;

use cel::common::ast::{EntryExpr, Expr as Node};
use cel::common::types::{
    CelBool, CelDouble, CelInt, CelList, CelMap, CelMapKey, CelNull, CelString, CelUInt,
};
use cel::common::value::Val;
use cel::objects::Value;
use cel::{Context, ExecutionError, IdedExpr, Program};
use serde_json::Value as Json;

/// The longest expression text accepted, in bytes: expressions come from case
/// files, which are untrusted input.
pub const MAX_EXPR_BYTES: usize = 4096;

/// The longest list `seq()` makes.
pub const MAX_SEQ: i64 = 100_000;

/// The most characters of one value shown when explaining a result.
const SHOWN_CHARS: usize = 160;

/// A compiled CEL expression.
pub struct Expr {
    text: String,
    program: Program,
    /// The same expression for [`fast`]'s evaluator, when it is in its subset.
    fast: Option<fast::Node>,
    /// Member paths read by the expression, outermost first, each with its
    /// sub-expression: what [`Expr::explain`] shows.
    paths: Vec<(String, IdedExpr)>,
}

impl fmt::Debug for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Expr").field(&self.text).finish()
    }
}

impl Clone for Expr {
    fn clone(&self) -> Self {
        // Recompiling valid text cannot fail.
        Expr::compile(&self.text).expect("an expression that compiled once compiles again")
    }
}

/// Why an expression could not be compiled or evaluated: a one-line message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError(pub String);

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ExprError {}

impl Expr {
    /// Compile `text`. The error says where the text is wrong, in one line.
    pub fn compile(text: &str) -> Result<Expr, ExprError> {
        if text.len() > MAX_EXPR_BYTES {
            return Err(ExprError(format!(
                "the expression is {} bytes long; at most {MAX_EXPR_BYTES} are accepted",
                text.len()
            )));
        }
        if text.trim().is_empty() {
            return Err(ExprError("the expression is empty".into()));
        }
        let program = Program::compile(text).map_err(|e| ExprError(one_line(&e.to_string())))?;
        let mut paths = Vec::new();
        collect_paths(program.expression(), &mut paths);
        let fast = fast::compile(program.expression());
        Ok(Expr {
            text: text.to_owned(),
            program,
            fast,
            paths,
        })
    }

    /// The expression as written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The names the expression reads from its scope: identifiers that are
    /// neither functions nor the variables of its own comprehensions
    /// (`i` in `items.filter(i, i.state == 0)`).
    pub fn variables(&self) -> Vec<String> {
        let mut out = Vec::new();
        free_variables(self.program.expression(), &mut Vec::new(), &mut out);
        out
    }

    /// Evaluate to a boolean on JSON values directly, when the expression is
    /// in the fast path's subset and its answer is certain (see [`fast`]):
    /// `Some` is exactly what [`Expr::eval_bool`] would give as `Ok`; `None`
    /// says "ask CEL".
    pub(crate) fn fast_bool<'a>(&'a self, vars: &mut FastVars<'a>) -> Option<bool> {
        fast::truth(self.fast.as_ref()?, vars)
    }

    /// Evaluate to a value.
    pub fn eval(&self, scope: &Scope) -> Result<Value, ExprError> {
        self.program
            .execute(&scope.ctx)
            .map_err(|e| ExprError(execution_error(&e)))
    }

    /// Evaluate to JSON (maps with non-string keys get string keys).
    pub fn eval_json(&self, scope: &Scope) -> Result<Json, ExprError> {
        self.eval(scope).map(|v| to_json(&v))
    }

    /// Evaluate to a boolean; any other type is an error.
    pub fn eval_bool(&self, scope: &Scope) -> Result<bool, ExprError> {
        match self.eval(scope)? {
            Value::Bool(b) => Ok(b),
            other => Err(ExprError(format!(
                "the expression gave {}, not a boolean",
                short(&to_json(&other).to_string())
            ))),
        }
    }

    /// The member paths the expression reads, with the value each has in
    /// `scope` (paths that do not evaluate, such as a comprehension's own
    /// variable, are left out): `[("agent.status", "4"), …]`.
    pub fn explain(&self, scope: &Scope) -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = Vec::new();
        for (path, node) in &self.paths {
            if out.iter().any(|(p, _)| p == path) {
                continue;
            }
            if let Ok(v) = scope.ctx.resolve(node) {
                out.push((path.clone(), short(&to_json(&v).to_string())));
            }
        }
        out
    }
}

/// The standard library plus this project's functions and a contract's
/// constants: built once, shared by every [`Scope`].
pub struct Root {
    ctx: Context<'static, 'static>,
    /// The constants as JSON, for the fast path.
    constants: Vec<(String, Json)>,
}

/// The names an evaluation on the fast path sees, innermost last: a
/// root's constants, then a reply's variables, then bindings.
pub(crate) type FastVars<'a> = fast::Vars<'a>;

/// A JSON value as the fast path binds it.
pub(crate) fn fast_value(j: &Json) -> fast::V<'_> {
    fast::V::of(j)
}

/// An integer as the fast path binds it.
pub(crate) fn fast_value_int(i: i64) -> fast::V<'static> {
    fast::V::Int(i)
}

/// A boolean as the fast path binds it.
pub(crate) fn fast_value_bool(b: bool) -> fast::V<'static> {
    fast::V::Bool(b)
}

/// A string as the fast path binds it.
pub(crate) fn fast_value_str(s: &String) -> fast::V<'_> {
    fast::V::Str(s)
}

impl fmt::Debug for Root {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Root")
    }
}

impl Root {
    /// A root with `constants` bound by name (e.g. `consts`, `options`).
    ///
    /// Functions beyond CEL's standard library, for relations between
    /// replies that plain CEL cannot say:
    /// - `flatten(list)`: a list of lists as one list;
    /// - `sum(list)`: the sum of a list of integers;
    /// - `distinct(list)`: the list without repeated values, first kept;
    /// - `seq(start, stop, step)`: the integers from `start` below `stop`,
    ///   `step` apart (`seq(0, 25, 10)` is `[0, 10, 20]`), at most
    ///   [`MAX_SEQ`] of them: offsets of a paged walk;
    /// - `numbers(text)`: the integers a list like `"101..=105, 2001"` names
    ///   (the `each:` spelling of the variables), at most [`MAX_SEQ`];
    /// - `missing(a, b)`: the elements of `a` that are not in `b`, and
    ///   `common(a, b)` those that are, in `a`'s order: set relations of
    ///   long lists (6000 agent ids) in linear time, where `a.filter(x, x in
    ///   b)` would be quadratic.
    pub fn new<'a>(constants: impl IntoIterator<Item = (&'a str, &'a Json)>) -> Self {
        let mut ctx = Context::default();
        // The names are not stdlib overloads, so adding them cannot conflict.
        let _ = ctx.add_function("flatten", flatten);
        let _ = ctx.add_function("sum", sum);
        let _ = ctx.add_function("distinct", distinct);
        let _ = ctx.add_function("seq", seq);
        let _ = ctx.add_function("numbers", numbers);
        let _ = ctx.add_function("missing", missing);
        let _ = ctx.add_function("common", common);
        let mut json = Vec::new();
        for (name, value) in constants {
            ctx.add_variable_as_val(name, to_val(value));
            json.push((name.to_owned(), value.clone()));
        }
        Root {
            ctx,
            constants: json,
        }
    }

    /// The constants, as the first names of a fast-path evaluation, with
    /// room for `more` (the caller's and an evaluation's own, bound without
    /// growing the list).
    pub(crate) fn fast_vars(&self, more: usize) -> FastVars<'_> {
        let mut vars = Vec::with_capacity(self.constants.len() + more);
        vars.extend(
            self.constants
                .iter()
                .map(|(n, v)| (n.as_str(), fast::V::of(v))),
        );
        vars
    }

    /// A new evaluation scope below this root.
    pub fn scope(&self) -> Scope<'_> {
        Scope {
            ctx: self.ctx.new_inner_scope(),
        }
    }
}

/// The variables of one evaluation.
pub struct Scope<'r> {
    ctx: Context<'r, 'static>,
}

impl Scope<'_> {
    /// Bind `name` to a JSON value (copied into CEL's representation).
    pub fn bind(&mut self, name: &str, value: &Json) -> &mut Self {
        self.ctx.add_variable_as_val(name, to_val(value));
        self
    }

    /// Bind `name` to a CEL value.
    pub fn bind_value(&mut self, name: &str, value: Value) -> &mut Self {
        self.ctx.add_variable_from_value(name, value);
        self
    }

    /// A child scope that sees these variables and may add its own
    /// (`agent` for each object of a `for_each`).
    pub fn child(&self) -> Scope<'_> {
        Scope {
            ctx: self.ctx.new_inner_scope(),
        }
    }
}

/// JSON as CEL's value tree. Integers that fit `i64` are `int` (so `x == 5`
/// compares like with like), larger ones `uint`; other numbers `double`.
fn to_val(v: &Json) -> Box<dyn Val> {
    match v {
        Json::Null => Box::new(CelNull),
        Json::Bool(b) => Box::new(CelBool::from(*b)),
        Json::Number(n) => match (n.as_i64(), n.as_u64()) {
            (Some(i), _) => Box::new(CelInt::from(i)),
            (None, Some(u)) => Box::new(CelUInt::from(u)),
            _ => Box::new(CelDouble::from(n.as_f64().unwrap_or(f64::NAN))),
        },
        Json::String(s) => Box::new(CelString::from(s.clone())),
        Json::Array(items) => Box::new(CelList::from(items.iter().map(to_val).collect::<Vec<_>>())),
        Json::Object(m) => Box::new(CelMap::from(
            m.iter()
                .map(|(k, v)| (CelMapKey::from(k.clone()), to_val(v)))
                .collect::<std::collections::HashMap<_, _>>(),
        )),
    }
}

/// A CEL value as JSON, for display and for request values computed at run
/// time. Map keys become strings; bytes and other non-JSON values become text.
pub fn to_json(v: &Value) -> Json {
    match v {
        Value::Null => Json::Null,
        Value::Bool(b) => Json::Bool(*b),
        Value::Int(i) => Json::from(*i),
        Value::UInt(u) => Json::from(*u),
        Value::Float(f) => serde_json::Number::from_f64(*f).map_or(Json::Null, Json::Number),
        Value::String(s) => Json::String(s.to_string()),
        Value::List(items) => Json::Array(items.iter().map(to_json).collect()),
        Value::Map(m) => {
            let mut entries: Vec<(String, Json)> = m
                .map
                .iter()
                .map(|(k, v)| {
                    let key = match k {
                        cel::objects::Key::String(s) => s.to_string(),
                        cel::objects::Key::Int(i) => i.to_string(),
                        cel::objects::Key::Uint(u) => u.to_string(),
                        cel::objects::Key::Bool(b) => b.to_string(),
                    };
                    (key, to_json(v))
                })
                .collect();
            // CEL maps are unordered; sort for a stable display.
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Object(entries.into_iter().collect())
        }
        other => Json::String(format!("{other:?}")),
    }
}

/// Collect the maximal member paths (`a.b.c`) of `node`, outermost first.
/// Identifiers read by `node` that `bound` (comprehension variables in
/// scope) does not hold, each once, in order.
fn free_variables(node: &IdedExpr, bound: &mut Vec<String>, out: &mut Vec<String>) {
    let mut walk = |n: &IdedExpr, bound: &mut Vec<String>| free_variables(n, bound, out);
    match &node.expr {
        Node::Ident(name) => {
            // `@result`, `@it`: the macros' own accumulators.
            if !name.starts_with('@') && !bound.contains(name) && !out.contains(name) {
                out.push(name.clone());
            }
        }
        Node::Call(call) => {
            if let Some(t) = &call.target {
                walk(t, bound);
            }
            for a in &call.args {
                walk(a, bound);
            }
        }
        Node::Select(s) => walk(&s.operand, bound),
        Node::List(l) => l.elements.iter().for_each(|e| walk(e, bound)),
        Node::Map(m) => m.entries.iter().for_each(|e| match &e.expr {
            EntryExpr::MapEntry(me) => {
                walk(&me.key, bound);
                walk(&me.value, bound);
            }
            EntryExpr::StructField(f) => walk(&f.value, bound),
        }),
        Node::Struct(s) => s.entries.iter().for_each(|e| {
            if let EntryExpr::StructField(f) = &e.expr {
                walk(&f.value, bound);
            }
        }),
        Node::Comprehension(c) => {
            walk(&c.iter_range, bound);
            walk(&c.accu_init, bound);
            let before = bound.len();
            bound.push(c.iter_var.clone());
            bound.extend(c.iter_var2.clone());
            bound.push(c.accu_var.clone());
            walk(&c.loop_cond, bound);
            walk(&c.loop_step, bound);
            walk(&c.result, bound);
            bound.truncate(before);
        }
        Node::Literal(_) | Node::Unspecified => {}
    }
}

fn collect_paths(node: &IdedExpr, out: &mut Vec<(String, IdedExpr)>) {
    if let Some(path) = member_path(node) {
        out.push((path, node.clone()));
        return;
    }
    match &node.expr {
        Node::Call(call) => {
            if let Some(t) = &call.target {
                collect_paths(t, out);
            }
            for a in &call.args {
                collect_paths(a, out);
            }
        }
        Node::Select(s) => collect_paths(&s.operand, out),
        Node::List(l) => l.elements.iter().for_each(|e| collect_paths(e, out)),
        Node::Map(m) => m.entries.iter().for_each(|e| match &e.expr {
            EntryExpr::MapEntry(me) => {
                collect_paths(&me.key, out);
                collect_paths(&me.value, out);
            }
            EntryExpr::StructField(f) => collect_paths(&f.value, out),
        }),
        Node::Struct(s) => s.entries.iter().for_each(|e| {
            if let EntryExpr::StructField(f) = &e.expr {
                collect_paths(&f.value, out);
            }
        }),
        Node::Comprehension(c) => {
            collect_paths(&c.iter_range, out);
            collect_paths(&c.loop_step, out);
            collect_paths(&c.result, out);
        }
        _ => {}
    }
}

/// `a.b.c` when `node` is a chain of field selections on an identifier.
fn member_path(node: &IdedExpr) -> Option<String> {
    match &node.expr {
        Node::Ident(name) if !name.starts_with('@') => Some(name.clone()),
        Node::Select(s) if !s.test => member_path(&s.operand).map(|p| format!("{p}.{}", s.field)),
        _ => None,
    }
}

/// An execution error in the words of a case author.
fn execution_error(e: &ExecutionError) -> String {
    match e {
        ExecutionError::NoSuchKey(k) => format!("no such key: {k}"),
        ExecutionError::UndeclaredReference(r) => format!("unknown name `{r}`"),
        ExecutionError::FunctionError { function, message } => {
            format!("{function}: {}", one_line(message))
        }
        other => one_line(&other.to_string()),
    }
}

fn one_line(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn short(s: &str) -> String {
    if s.chars().count() <= SHOWN_CHARS {
        s.to_owned()
    } else {
        let cut: String = s.chars().take(SHOWN_CHARS).collect();
        format!("{cut}…")
    }
}

fn flatten(list: Arc<Vec<Value>>) -> Value {
    let mut out = Vec::new();
    for item in list.iter() {
        match item {
            Value::List(inner) => out.extend(inner.iter().cloned()),
            other => out.push(other.clone()),
        }
    }
    Value::List(Arc::new(out))
}

fn sum(list: Arc<Vec<Value>>) -> Result<Value, ExecutionError> {
    let mut total: i64 = 0;
    for item in list.iter() {
        let n = match item {
            Value::Int(i) => *i,
            Value::UInt(u) => {
                i64::try_from(*u).map_err(|_| ExecutionError::function_error("sum", "overflow"))?
            }
            other => {
                return Err(ExecutionError::function_error(
                    "sum",
                    format!("not an integer: {}", to_json(other)),
                ))
            }
        };
        total = total
            .checked_add(n)
            .ok_or_else(|| ExecutionError::function_error("sum", "overflow"))?;
    }
    Ok(Value::Int(total))
}

fn seq(start: i64, stop: i64, step: i64) -> Result<Value, ExecutionError> {
    if step <= 0 {
        return Err(ExecutionError::function_error(
            "seq",
            format!("the step is {step}; it must be positive"),
        ));
    }
    let len = if stop > start {
        (i128::from(stop) - i128::from(start) + i128::from(step) - 1) / i128::from(step)
    } else {
        0
    };
    if len > i128::from(MAX_SEQ) {
        return Err(ExecutionError::function_error(
            "seq",
            format!("it would make {len} values; at most {MAX_SEQ}"),
        ));
    }
    let out = (0..len as i64)
        .map(|i| Value::Int(start + i * step))
        .collect();
    Ok(Value::List(Arc::new(out)))
}

fn numbers(text: Arc<String>) -> Result<Value, ExecutionError> {
    let fail = |m: String| ExecutionError::function_error("numbers", m);
    let mut out = Vec::new();
    for item in text
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
    {
        let (a, b) = match item.split_once("..=") {
            Some((a, b)) => (a.trim(), b.trim()),
            None => (item, item),
        };
        let (Ok(a), Ok(b)) = (a.parse::<i64>(), b.parse::<i64>()) else {
            return Err(fail(format!(
                "`{item}` is not a number or a range like 101..=110"
            )));
        };
        let len = if b >= a {
            i128::from(b) - i128::from(a) + 1
        } else {
            0
        };
        if out.len() as i128 + len > i128::from(MAX_SEQ) {
            return Err(fail(format!("more than {MAX_SEQ} values")));
        }
        out.extend((a..=b).map(Value::Int));
    }
    Ok(Value::List(Arc::new(out)))
}

/// The JSON text of each element of `list`, for set relations.
fn keys(list: &[Value]) -> std::collections::HashSet<String> {
    list.iter().map(|v| to_json(v).to_string()).collect()
}

fn missing(a: Arc<Vec<Value>>, b: Arc<Vec<Value>>) -> Value {
    let b = keys(&b);
    let out = a
        .iter()
        .filter(|v| !b.contains(&to_json(v).to_string()))
        .cloned()
        .collect();
    Value::List(Arc::new(out))
}

fn common(a: Arc<Vec<Value>>, b: Arc<Vec<Value>>) -> Value {
    let b = keys(&b);
    let out = a
        .iter()
        .filter(|v| b.contains(&to_json(v).to_string()))
        .cloned()
        .collect();
    Value::List(Arc::new(out))
}

fn distinct(list: Arc<Vec<Value>>) -> Value {
    // Keyed by the JSON text, so a long list costs linear time.
    let mut seen = std::collections::HashSet::new();
    let out = list
        .iter()
        .filter(|item| seen.insert(to_json(item).to_string()))
        .cloned()
        .collect();
    Value::List(Arc::new(out))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn agent(status: i64, cti: i64, login: i64) -> Json {
        json!({"workNo": 101, "vdnId": 1, "citStatus": cti, "name": "HW35154101",
               "phoneNumber": null, "loginDate": login, "currentStateTime": 436879,
               "mediaType": 0, "status": status})
    }

    #[test]
    fn evaluates_against_bound_json_and_explains() {
        let consts = json!({"sentinel": 4294967295000_i64});
        let root = Root::new([("consts", &consts)]);
        let e = Expr::compile(
            "agent.status == 0 || (agent.status == 2 ? agent.loginDate == consts.sentinel \
             : agent.loginDate != consts.sentinel && agent.loginDate >= 946684800000)",
        )
        .unwrap();
        let mut s = root.scope();
        s.bind("agent", &agent(2, 0, 4294967295000));
        assert_eq!(e.eval_bool(&s), Ok(true));
        let mut s = root.scope();
        s.bind("agent", &agent(4, 1, 4294967295000));
        assert_eq!(e.eval_bool(&s), Ok(false));
        assert_eq!(
            e.explain(&s),
            [
                ("agent.status".to_string(), "4".to_string()),
                ("agent.loginDate".to_string(), "4294967295000".to_string()),
                ("consts.sentinel".to_string(), "4294967295000".to_string()),
            ]
        );
    }

    #[test]
    fn integers_compare_exactly_and_across_int_and_uint() {
        let root = Root::new([]);
        let mut s = root.scope();
        s.bind("a", &json!(9007199254740993_u64))
            .bind("b", &json!(9007199254740992_u64))
            .bind("big", &json!(u64::MAX));
        assert_eq!(Expr::compile("a == b").unwrap().eval_bool(&s), Ok(false));
        assert_eq!(
            Expr::compile("a == 9007199254740993")
                .unwrap()
                .eval_bool(&s),
            Ok(true)
        );
        assert_eq!(
            Expr::compile("big == 18446744073709551615u")
                .unwrap()
                .eval_bool(&s),
            Ok(true)
        );
    }

    #[test]
    fn errors_are_one_line_and_name_the_problem() {
        let e = Expr::compile("a.b ==").unwrap_err();
        assert!(!e.0.contains('\n'), "{e}");
        let root = Root::new([]);
        let mut s = root.scope();
        s.bind("a", &json!({}));
        assert_eq!(
            Expr::compile("a.b == 1").unwrap().eval_bool(&s),
            Err(ExprError("no such key: b".into()))
        );
        assert_eq!(
            Expr::compile("zz == 1").unwrap().eval_bool(&s),
            Err(ExprError("unknown name `zz`".into()))
        );
        assert!(Expr::compile("1 + 1")
            .unwrap()
            .eval_bool(&s)
            .unwrap_err()
            .0
            .contains("not a boolean"));
        assert!(Expr::compile(&"a".repeat(MAX_EXPR_BYTES + 1)).is_err());
    }

    #[test]
    fn project_functions() {
        let root = Root::new([]);
        let mut s = root.scope();
        s.bind("pages", &json!([[1, 2], [3], []]));
        let v = |t: &str| Expr::compile(t).unwrap().eval_json(&s).unwrap();
        assert_eq!(v("flatten(pages)"), json!([1, 2, 3]));
        assert_eq!(v("sum(flatten(pages))"), json!(6));
        assert_eq!(v("distinct([1, 2, 1, 3, 2])"), json!([1, 2, 3]));
        assert_eq!(
            v("size(distinct(flatten(pages))) == size(flatten(pages))"),
            json!(true)
        );
    }

    #[test]
    fn child_scopes_see_their_parents() {
        let root = Root::new([]);
        let mut s = root.scope();
        s.bind("response", &json!({"items": [1, 2]}));
        let mut c = s.child();
        c.bind("item", &json!(2));
        assert_eq!(
            Expr::compile("item in response.items")
                .unwrap()
                .eval_bool(&c),
            Ok(true)
        );
    }

    #[test]
    fn seq_makes_bounded_offsets_and_distinct_is_linear() {
        let root = Root::new([]);
        let scope = root.scope();
        let eval = |t: &str| Expr::compile(t).unwrap().eval_json(&scope);
        assert_eq!(eval("seq(0, 25, 10)"), Ok(json!([0, 10, 20])));
        assert_eq!(eval("seq(5, 5, 1)"), Ok(json!([])));
        assert_eq!(eval("seq(5, 0, 1)"), Ok(json!([])));
        assert_eq!(
            eval("seq(0, 10, 0)"),
            Err(ExprError("seq: the step is 0; it must be positive".into()))
        );
        assert_eq!(
            eval("seq(0, 9223372036854775807, 1)"),
            Err(ExprError(
                "seq: it would make 9223372036854775807 values; at most 100000".into()
            ))
        );
        assert_eq!(eval("distinct([3, 1, 3, 2, 1])"), Ok(json!([3, 1, 2])));
        let vars = Expr::compile("a.filter(i, i.x == b).map(j, [j, c].exists(k, k == i2))")
            .unwrap()
            .variables();
        assert_eq!(vars, ["a", "b", "c", "i2"]);
        assert_eq!(
            eval("numbers('101..=103, 2001 7')"),
            Ok(json!([101, 102, 103, 2001, 7]))
        );
        assert_eq!(
            eval("numbers('1..=200000')"),
            Err(ExprError("numbers: more than 100000 values".into()))
        );
        assert_eq!(
            eval("numbers('1..x')"),
            Err(ExprError(
                "numbers: `1..x` is not a number or a range like 101..=110".into()
            ))
        );
        assert_eq!(eval("size(distinct(seq(0, 100000, 1)))"), Ok(json!(100000)));
    }
}
