//! A fast path for the common, simple expressions: evaluated straight on the
//! reply's `serde_json` values, with no conversion into CEL's value tree.
//!
//! Contract invariants run on every reply, twice per object of a
//! `for_each`, and most of them read a few fields and compare them: through
//! the `cel` crate each evaluation first copies the whole reply into CEL
//! values and then resolves every name through a chain of hashed scopes,
//! which made CEL the largest cost of a case (see the README's
//! "Performance"). This module evaluates a subset of CEL directly:
//! literals (null, bool, int, string, lists), names, field selection and
//! `has()`, indexing, `! && || ?:`, `== !=` (with CEL's heterogeneous
//! equality: different kinds are unequal), `< <= > >=` and `+ -` on ints,
//! `in`, `type()`, `string()`, `size()`, and the `all` / `exists` macros.
//!
//! It only ever answers when its answer is CEL's: anything outside the
//! subset (an unknown function, a double or uint, a map compared with a map,
//! a missing key, an overflow, any error) gives `None`, and the caller
//! evaluates the expression with `cel` as before. Failure messages always
//! come from `cel`.

use std::borrow::Cow;

use cel::common::ast::{operators, Expr as Ast, LiteralValue};
use cel::IdedExpr;
use serde_json::Value as Json;

/// A compiled expression of the subset.
#[derive(Debug, Clone)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Str(String),
    List(Vec<Node>),
    Ident(String),
    Select(Box<Node>, String),
    Has(Box<Node>, String),
    Index(Box<Node>, Box<Node>),
    Not(Box<Node>),
    Neg(Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
    Cond(Box<Node>, Box<Node>, Box<Node>),
    Eq(Box<Node>, Box<Node>),
    Ne(Box<Node>, Box<Node>),
    Cmp(Box<Node>, Box<Node>, Order),
    Add(Box<Node>, Box<Node>),
    Sub(Box<Node>, Box<Node>),
    In(Box<Node>, Box<Node>),
    Type(Box<Node>),
    String(Box<Node>),
    Size(Box<Node>),
    /// `range.all(var, pred)` (`every`) or `range.exists(var, pred)`.
    Quantifier {
        range: Box<Node>,
        var: String,
        pred: Box<Node>,
        every: bool,
    },
}

/// Which comparison.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Order {
    Lt,
    Le,
    Gt,
    Ge,
}

/// `node` in the subset, or `None`.
pub(crate) fn compile(node: &IdedExpr) -> Option<Node> {
    let b = |n: &IdedExpr| compile(n).map(Box::new);
    Some(match &node.expr {
        Ast::Literal(l) => match l {
            LiteralValue::Null => Node::Null,
            LiteralValue::Boolean(v) => Node::Bool(*v.inner()),
            LiteralValue::Int(v) => Node::Int(*v.inner()),
            LiteralValue::String(v) => Node::Str(v.inner().to_string()),
            _ => return None,
        },
        Ast::Ident(name) if !name.starts_with('@') => Node::Ident(name.clone()),
        Ast::List(l) if l.optional_indices.is_empty() => {
            Node::List(l.elements.iter().map(compile).collect::<Option<_>>()?)
        }
        Ast::Select(s) if s.test => Node::Has(b(&s.operand)?, s.field.clone()),
        Ast::Select(s) => Node::Select(b(&s.operand)?, s.field.clone()),
        Ast::Call(c) => {
            let args = &c.args;
            let two = |f: fn(Box<Node>, Box<Node>) -> Node| -> Option<Node> {
                match (c.target.as_ref(), args.as_slice()) {
                    (None, [x, y]) => Some(f(b(x)?, b(y)?)),
                    _ => None,
                }
            };
            let one = |f: fn(Box<Node>) -> Node| -> Option<Node> {
                match (c.target.as_deref(), args.as_slice()) {
                    (None, [x]) => Some(f(b(x)?)),
                    _ => None,
                }
            };
            let cmp = |o: Order| match (c.target.as_ref(), args.as_slice()) {
                (None, [x, y]) => Some(Node::Cmp(b(x)?, b(y)?, o)),
                _ => None,
            };
            match c.func_name.as_str() {
                operators::LOGICAL_AND => two(Node::And)?,
                operators::LOGICAL_OR => two(Node::Or)?,
                operators::LOGICAL_NOT => one(Node::Not)?,
                operators::NEGATE => one(Node::Neg)?,
                operators::EQUALS => two(Node::Eq)?,
                operators::NOT_EQUALS => two(Node::Ne)?,
                operators::LESS => cmp(Order::Lt)?,
                operators::LESS_EQUALS => cmp(Order::Le)?,
                operators::GREATER => cmp(Order::Gt)?,
                operators::GREATER_EQUALS => cmp(Order::Ge)?,
                operators::ADD => two(Node::Add)?,
                operators::SUBSTRACT => two(Node::Sub)?,
                operators::INDEX => two(Node::Index)?,
                operators::IN => two(Node::In)?,
                operators::CONDITIONAL => match (c.target.as_ref(), args.as_slice()) {
                    (None, [x, y, z]) => Node::Cond(b(x)?, b(y)?, b(z)?),
                    _ => return None,
                },
                "type" => one(Node::Type)?,
                "string" => one(Node::String)?,
                "size" => match (c.target.as_deref(), args.as_slice()) {
                    (None, [x]) | (Some(x), []) => Node::Size(b(x)?),
                    _ => return None,
                },
                _ => return None,
            }
        }
        Ast::Comprehension(c) => quantifier(c)?,
        _ => return None,
    })
}

/// The `all` and `exists` macros, recognised by their expansion:
/// `@result` starts `true` (`false`), the loop goes on while
/// `@not_strictly_false(@result)` (`(!@result)`), and each step is
/// `@result && pred` (`@result || pred`).
fn quantifier(c: &cel::common::ast::ComprehensionExpr) -> Option<Node> {
    if c.iter_var2.is_some() || c.iter_var.starts_with('@') {
        return None;
    }
    let accu = |e: &IdedExpr| matches!(&e.expr, Ast::Ident(n) if *n == c.accu_var);
    let every = match &c.accu_init.expr {
        Ast::Literal(LiteralValue::Boolean(v)) => *v.inner(),
        _ => return None,
    };
    if !accu(&c.result) {
        return None;
    }
    let Ast::Call(cond) = &c.loop_cond.expr else {
        return None;
    };
    let cond_ok = cond.func_name == operators::NOT_STRICTLY_FALSE
        && cond.target.is_none()
        && match (every, cond.args.as_slice()) {
            (true, [a]) => accu(a),
            (false, [not]) => matches!(&not.expr, Ast::Call(n)
                if n.func_name == operators::LOGICAL_NOT && n.target.is_none()
                    && matches!(n.args.as_slice(), [a] if accu(a))),
            _ => false,
        };
    let Ast::Call(step) = &c.loop_step.expr else {
        return None;
    };
    let op = if every {
        operators::LOGICAL_AND
    } else {
        operators::LOGICAL_OR
    };
    let pred = match step.args.as_slice() {
        [a, pred] if cond_ok && step.func_name == op && step.target.is_none() && accu(a) => pred,
        _ => return None,
    };
    if mentions(pred, &c.accu_var) {
        return None;
    }
    Some(Node::Quantifier {
        range: Box::new(compile(&c.iter_range)?),
        var: c.iter_var.clone(),
        pred: Box::new(compile(pred)?),
        every,
    })
}

/// Whether `name` is read anywhere in `e` (then `e` is not a plain predicate).
fn mentions(e: &IdedExpr, name: &str) -> bool {
    match &e.expr {
        Ast::Ident(n) => n == name,
        Ast::Select(s) => mentions(&s.operand, name),
        Ast::Call(c) => {
            c.target.as_deref().is_some_and(|t| mentions(t, name))
                || c.args.iter().any(|a| mentions(a, name))
        }
        Ast::List(l) => l.elements.iter().any(|x| mentions(x, name)),
        Ast::Comprehension(c) => {
            mentions(&c.iter_range, name)
                || mentions(&c.accu_init, name)
                || mentions(&c.loop_cond, name)
                || mentions(&c.loop_step, name)
                || mentions(&c.result, name)
        }
        // Maps and structs are outside the subset anyway.
        _ => true,
    }
}

/// A value during evaluation: borrowed from the bound JSON where possible.
#[derive(Debug, Clone)]
pub(crate) enum V<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Str(Cow<'a, str>),
    /// A JSON list, object or number CEL holds as `uint` or `double`.
    Json(&'a Json),
    List(Vec<V<'a>>),
    Type(&'static str),
}

impl<'a> V<'a> {
    /// A bound JSON value as CEL sees it (`Root`/`Scope` binding rules:
    /// integers that fit `i64` are `int`).
    pub(crate) fn of(j: &'a Json) -> V<'a> {
        match j {
            Json::Null => V::Null,
            Json::Bool(b) => V::Bool(*b),
            Json::Number(n) => n.as_i64().map_or(V::Json(j), V::Int),
            Json::String(s) => V::Str(Cow::Borrowed(s)),
            Json::Array(_) | Json::Object(_) => V::Json(j),
        }
    }

    /// The CEL type name of the value.
    fn type_name(&self) -> &'static str {
        match self {
            V::Null => "null_type",
            V::Bool(_) => "bool",
            V::Int(_) => "int",
            V::Str(_) => "string",
            V::List(_) | V::Json(Json::Array(_)) => "list",
            V::Json(Json::Object(_)) => "map",
            V::Json(Json::Number(n)) if n.as_u64().is_some() => "uint",
            V::Json(Json::Number(_)) => "double",
            // `of` never wraps these.
            V::Json(_) => "dyn",
            V::Type(_) => "type",
        }
    }

    fn is_number(&self) -> bool {
        matches!(self, V::Int(_) | V::Json(Json::Number(_)))
    }

    /// The items of a list, as values, one at a time (no list is copied:
    /// `x in consts.list` runs for every key of every reply).
    fn items(&self) -> Option<Items<'_, 'a>> {
        match self {
            V::List(l) => Some(Items::List(l.iter())),
            V::Json(Json::Array(a)) => Some(Items::Json(a.iter())),
            _ => None,
        }
    }
}

/// The items of a list value, or the keys of a JSON object (a quantifier's
/// range), as values.
enum Items<'b, 'a> {
    List(std::slice::Iter<'b, V<'a>>),
    Json(std::slice::Iter<'a, Json>),
    Keys(serde_json::map::Keys<'a>),
}

impl<'a> Iterator for Items<'_, 'a> {
    type Item = V<'a>;

    fn next(&mut self) -> Option<V<'a>> {
        match self {
            Items::List(l) => l.next().cloned(),
            Items::Json(a) => a.next().map(V::of),
            Items::Keys(k) => k.next().map(|k| V::Str(Cow::Borrowed(k.as_str()))),
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match self {
            Items::List(l) => l.size_hint(),
            Items::Json(a) => a.size_hint(),
            Items::Keys(k) => k.size_hint(),
        }
    }
}

/// CEL's `==`: values of different kinds are unequal; `None` where this
/// module does not know CEL's answer (numbers other than int, maps).
fn equal(a: &V, b: &V) -> Option<bool> {
    Some(match (a, b) {
        (V::Null, V::Null) => true,
        (V::Bool(x), V::Bool(y)) => x == y,
        (V::Int(x), V::Int(y)) => x == y,
        (V::Str(x), V::Str(y)) => x == y,
        (V::Type(x), V::Type(y)) => x == y,
        (x, y) if x.is_number() && y.is_number() => return None,
        (x, y) if x.type_name() == "list" && y.type_name() == "list" => {
            let (x, y) = (x.items()?, y.items()?);
            if x.size_hint().0 != y.size_hint().0 {
                return Some(false);
            }
            for (p, q) in x.zip(y) {
                if !equal(&p, &q)? {
                    return Some(false);
                }
            }
            true
        }
        (V::Json(Json::Object(_)), V::Json(Json::Object(_))) => return None,
        _ => false,
    })
}

/// Names visible to an evaluation, innermost last.
pub(crate) type Vars<'a> = Vec<(&'a str, V<'a>)>;

/// The CEL type identifiers, which a name resolves to when no variable has it.
const TYPES: [&str; 9] = [
    "int",
    "uint",
    "double",
    "bool",
    "string",
    "bytes",
    "list",
    "map",
    "null_type",
];

/// Evaluate `node` with `vars`; `None` when CEL must decide.
pub(crate) fn eval<'a>(node: &'a Node, vars: &mut Vars<'a>) -> Option<V<'a>> {
    let bool_of = |v: V| match v {
        V::Bool(b) => Some(b),
        _ => None,
    };
    Some(match node {
        Node::Null => V::Null,
        Node::Bool(b) => V::Bool(*b),
        Node::Int(i) => V::Int(*i),
        Node::Str(s) => V::Str(Cow::Borrowed(s)),
        Node::List(items) => V::List(items.iter().map(|i| eval(i, vars)).collect::<Option<_>>()?),
        Node::Ident(name) => match vars.iter().rev().find(|(n, _)| n == name) {
            Some((_, v)) => v.clone(),
            None => V::Type(TYPES.into_iter().find(|t| t == name)?),
        },
        Node::Select(operand, field) => match eval(operand, vars)? {
            V::Json(Json::Object(m)) => V::of(m.get(field)?),
            _ => return None,
        },
        Node::Has(operand, field) => match eval(operand, vars)? {
            V::Json(Json::Object(m)) => V::Bool(m.contains_key(field)),
            _ => return None,
        },
        Node::Index(operand, key) => match (eval(operand, vars)?, eval(key, vars)?) {
            (V::Json(Json::Object(m)), V::Str(k)) => V::of(m.get(k.as_ref())?),
            (V::Json(Json::Array(a)), V::Int(i)) => V::of(a.get(usize::try_from(i).ok()?)?),
            (V::List(l), V::Int(i)) => l.get(usize::try_from(i).ok()?)?.clone(),
            _ => return None,
        },
        Node::Not(x) => V::Bool(!bool_of(eval(x, vars)?)?),
        Node::Neg(x) => match eval(x, vars)? {
            V::Int(i) => V::Int(i.checked_neg()?),
            _ => return None,
        },
        // CEL's `&&` and `||` are commutative: `false && error` is false
        // either way round; only a definite answer is given here.
        Node::And(x, y) => match eval(x, vars).and_then(bool_of) {
            Some(false) => V::Bool(false),
            left => match (left, eval(y, vars).and_then(bool_of)) {
                (Some(true), Some(r)) => V::Bool(r),
                (None, Some(false)) => V::Bool(false),
                _ => return None,
            },
        },
        Node::Or(x, y) => match eval(x, vars).and_then(bool_of) {
            Some(true) => V::Bool(true),
            left => match (left, eval(y, vars).and_then(bool_of)) {
                (Some(false), Some(r)) => V::Bool(r),
                (None, Some(true)) => V::Bool(true),
                _ => return None,
            },
        },
        Node::Cond(c, t, f) => {
            if bool_of(eval(c, vars)?)? {
                eval(t, vars)?
            } else {
                eval(f, vars)?
            }
        }
        Node::Eq(x, y) => V::Bool(equal(&eval(x, vars)?, &eval(y, vars)?)?),
        Node::Ne(x, y) => V::Bool(!equal(&eval(x, vars)?, &eval(y, vars)?)?),
        Node::Cmp(x, y, o) => match (eval(x, vars)?, eval(y, vars)?) {
            (V::Int(a), V::Int(b)) => V::Bool(match o {
                Order::Lt => a < b,
                Order::Le => a <= b,
                Order::Gt => a > b,
                Order::Ge => a >= b,
            }),
            _ => return None,
        },
        Node::Add(x, y) => match (eval(x, vars)?, eval(y, vars)?) {
            (V::Int(a), V::Int(b)) => V::Int(a.checked_add(b)?),
            _ => return None,
        },
        Node::Sub(x, y) => match (eval(x, vars)?, eval(y, vars)?) {
            (V::Int(a), V::Int(b)) => V::Int(a.checked_sub(b)?),
            _ => return None,
        },
        Node::In(x, container) => {
            let x = eval(x, vars)?;
            match eval(container, vars)? {
                V::Json(Json::Object(m)) => match x {
                    V::Str(k) => V::Bool(m.contains_key(k.as_ref())),
                    _ => return None,
                },
                c => {
                    let mut found = false;
                    for item in c.items()? {
                        if equal(&item, &x)? {
                            found = true;
                            break;
                        }
                    }
                    V::Bool(found)
                }
            }
        }
        Node::Type(x) => V::Type(eval(x, vars)?.type_name()),
        Node::String(x) => match eval(x, vars)? {
            V::Int(i) => V::Str(Cow::Owned(i.to_string())),
            V::Str(s) => V::Str(s),
            _ => return None,
        },
        Node::Size(x) => {
            let n = match eval(x, vars)? {
                V::Str(s) => s.chars().count(),
                V::List(l) => l.len(),
                V::Json(Json::Array(a)) => a.len(),
                V::Json(Json::Object(m)) => m.len(),
                _ => return None,
            };
            V::Int(i64::try_from(n).ok()?)
        }
        Node::Quantifier {
            range,
            var,
            pred,
            every,
        } => {
            let range = eval(range, vars)?;
            let items = match &range {
                V::Json(Json::Object(m)) => Items::Keys(m.keys()),
                other => other.items()?,
            };
            // An element that errs is left to CEL (it may be absorbed by a
            // later one, or not).
            let mut answer = *every;
            for item in items {
                vars.push((var.as_str(), item));
                let p = eval(pred, vars).and_then(bool_of);
                vars.pop();
                match p {
                    Some(b) if b != *every => {
                        answer = b;
                        break;
                    }
                    Some(_) => {}
                    None => return None,
                }
            }
            V::Bool(answer)
        }
    })
}
