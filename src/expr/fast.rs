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

use std::rc::Rc;

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
        /// `pred` with the parts that do not read `var` (`consts.keys` in
        /// `k in consts.keys`) taken out: evaluated once before the loop
        /// and bound as `@0`, `@1`, … (names no expression can spell).
        hoisted: Option<Hoisted>,
    },
    /// A part of a quantifier's predicate worked out before its loop.
    Let(usize),
}

/// A quantifier's loop-invariant parts, and its predicate reading them.
#[derive(Debug, Clone)]
pub(crate) struct Hoisted {
    lets: Vec<Node>,
    pred: Box<Node>,
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
    let pred = compile(pred)?;
    let mut lets = Vec::new();
    let lifted = hoist(&pred, &c.iter_var, &mut lets);
    Some(Node::Quantifier {
        range: Box::new(compile(&c.iter_range)?),
        var: c.iter_var.clone(),
        hoisted: (!lets.is_empty()).then(|| Hoisted {
            lets,
            pred: Box::new(lifted),
        }),
        pred: Box::new(pred),
        every,
    })
}

/// `node` with each largest part that does not read `var` and costs a
/// lookup (a selection, an index, a call) moved into `lets` and read back
/// as [`Node::Let`]. A nested quantifier is left whole (its own parts are
/// its to hoist); so are literals and names, which cost nothing to read.
fn hoist(node: &Node, var: &str, lets: &mut Vec<Node>) -> Node {
    if !node.reads(var) && node.costs() {
        lets.push(node.clone());
        return Node::Let(lets.len() - 1);
    }
    let mut h = |n: &Node| Box::new(hoist(n, var, lets));
    match node {
        Node::Select(x, f) => Node::Select(h(x), f.clone()),
        Node::Has(x, f) => Node::Has(h(x), f.clone()),
        Node::Index(x, y) => Node::Index(h(x), h(y)),
        Node::Not(x) => Node::Not(h(x)),
        Node::Neg(x) => Node::Neg(h(x)),
        Node::And(x, y) => Node::And(h(x), h(y)),
        Node::Or(x, y) => Node::Or(h(x), h(y)),
        Node::Cond(x, y, z) => Node::Cond(h(x), h(y), h(z)),
        Node::Eq(x, y) => Node::Eq(h(x), h(y)),
        Node::Ne(x, y) => Node::Ne(h(x), h(y)),
        Node::Cmp(x, y, o) => Node::Cmp(h(x), h(y), *o),
        Node::Add(x, y) => Node::Add(h(x), h(y)),
        Node::Sub(x, y) => Node::Sub(h(x), h(y)),
        Node::In(x, y) => Node::In(h(x), h(y)),
        Node::Type(x) => Node::Type(h(x)),
        Node::String(x) => Node::String(h(x)),
        Node::Size(x) => Node::Size(h(x)),
        Node::List(items) => Node::List(items.iter().map(|i| hoist(i, var, lets)).collect()),
        other => other.clone(),
    }
}

impl Node {
    /// Whether the value of `name` is read anywhere in the node (a nested
    /// quantifier over the same name hides it in its predicate).
    fn reads(&self, name: &str) -> bool {
        match self {
            Node::Null | Node::Bool(_) | Node::Int(_) | Node::Str(_) | Node::Let(_) => false,
            Node::Ident(n) => n == name,
            Node::List(items) => items.iter().any(|i| i.reads(name)),
            Node::Select(x, _)
            | Node::Has(x, _)
            | Node::Not(x)
            | Node::Neg(x)
            | Node::Type(x)
            | Node::String(x)
            | Node::Size(x) => x.reads(name),
            Node::Index(x, y)
            | Node::And(x, y)
            | Node::Or(x, y)
            | Node::Eq(x, y)
            | Node::Ne(x, y)
            | Node::Cmp(x, y, _)
            | Node::Add(x, y)
            | Node::Sub(x, y)
            | Node::In(x, y) => x.reads(name) || y.reads(name),
            Node::Cond(x, y, z) => x.reads(name) || y.reads(name) || z.reads(name),
            Node::Quantifier {
                range, var, pred, ..
            } => range.reads(name) || (var != name && pred.reads(name)),
        }
    }

    /// Whether working the node out costs more than reading a name.
    fn costs(&self) -> bool {
        !matches!(
            self,
            Node::Null
                | Node::Bool(_)
                | Node::Int(_)
                | Node::Str(_)
                | Node::Ident(_)
                | Node::Let(_)
        )
    }
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
        Ast::Literal(_) => false,
        // Maps and structs are outside the subset anyway.
        _ => true,
    }
}

/// A value during evaluation: borrowed from the bound JSON where possible.
///
/// Sixteen bytes (a tag and one word), so that an evaluation's result comes
/// back in two registers: at 32 bytes it came back through memory, and
/// reading it back after each call was a third of the evaluator's own
/// samples (see the README's "Performance").
#[derive(Debug, Clone)]
pub(crate) enum V<'a> {
    Null,
    Bool(bool),
    Int(i64),
    Str(&'a String),
    /// `string(i)` of an int: the decimal text of `i`, spelt out only
    /// where it is compared or looked up.
    Decimal(i64),
    /// A JSON list, object or number CEL holds as `uint` or `double`.
    Json(&'a Json),
    List(Rc<Vec<V<'a>>>),
    Type(Ty),
}

/// The CEL types the subset tells apart, as `type()` gives them (their
/// names are CEL's).
#[derive(Debug, Clone, Copy, PartialEq, Eq, strum::IntoStaticStr)]
#[strum(serialize_all = "snake_case")]
pub(crate) enum Ty {
    #[strum(serialize = "null_type")]
    Null,
    Bool,
    Int,
    Uint,
    Double,
    String,
    Bytes,
    List,
    Map,
    Dyn,
    Type,
}

impl Ty {
    /// The types a name resolves to when no variable has it.
    const NAMED: [Ty; 9] = [
        Ty::Int,
        Ty::Uint,
        Ty::Double,
        Ty::Bool,
        Ty::String,
        Ty::Bytes,
        Ty::List,
        Ty::Map,
        Ty::Null,
    ];

    /// The CEL name of the type.
    pub(crate) fn name(self) -> &'static str {
        self.into()
    }
}

impl<'a> V<'a> {
    /// A bound JSON value as CEL sees it (`Root`/`Scope` binding rules:
    /// integers that fit `i64` are `int`).
    pub(crate) fn of(j: &'a Json) -> V<'a> {
        match j {
            Json::Null => V::Null,
            Json::Bool(b) => V::Bool(*b),
            Json::Number(n) => n.as_i64().map_or(V::Json(j), V::Int),
            Json::String(s) => V::Str(s),
            Json::Array(_) | Json::Object(_) => V::Json(j),
        }
    }

    /// The CEL type of the value.
    fn ty(&self) -> Ty {
        match self {
            V::Null => Ty::Null,
            V::Bool(_) => Ty::Bool,
            V::Int(_) => Ty::Int,
            V::Str(_) | V::Decimal(_) => Ty::String,
            V::List(_) | V::Json(Json::Array(_)) => Ty::List,
            V::Json(Json::Object(_)) => Ty::Map,
            V::Json(Json::Number(n)) if n.as_u64().is_some() => Ty::Uint,
            V::Json(Json::Number(_)) => Ty::Double,
            // `of` never wraps these.
            V::Json(_) => Ty::Dyn,
            V::Type(_) => Ty::Type,
        }
    }

    fn is_number(&self) -> bool {
        matches!(self, V::Int(_) | V::Json(Json::Number(_)))
    }

    /// The text of a string value (a decimal written into `buf`).
    fn text<'s>(&'s self, buf: &'s mut itoa::Buffer) -> Option<&'s str> {
        match self {
            V::Str(s) => Some(s),
            V::Decimal(i) => Some(buf.format(*i)),
            _ => None,
        }
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
            Items::Keys(k) => k.next().map(V::Str),
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
        (V::Int(x), V::Int(y)) | (V::Decimal(x), V::Decimal(y)) => x == y,
        (V::Str(x), V::Str(y)) => crate::value::same(x, y),
        (V::Str(s), V::Decimal(i)) | (V::Decimal(i), V::Str(s)) => {
            crate::value::same(s, itoa::Buffer::new().format(*i))
        }
        (V::Type(x), V::Type(y)) => x == y,
        (x, y) if x.is_number() && y.is_number() => return None,
        (x, y) if x.ty() == Ty::List && y.ty() == Ty::List => {
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

/// `name`'s value: the innermost variable of that name, else the type it
/// names.
fn lookup<'a>(vars: &Vars<'a>, name: &str) -> Option<V<'a>> {
    bound(vars, name).or_else(|| {
        Ty::NAMED
            .into_iter()
            .find(|t| crate::value::same(t.name(), name))
            .map(V::Type)
    })
}

/// The innermost variable named `name`, if any.
fn bound<'a>(vars: &Vars<'a>, name: &str) -> Option<V<'a>> {
    vars.iter()
        .rev()
        .find(|(n, _)| crate::value::same(n, name))
        .map(|(_, v)| v.clone())
}

/// `key`'s value in the object `m`, for a string key.
fn member<'a>(m: &'a serde_json::Map<String, Json>, key: &V) -> Option<&'a Json> {
    let mut buf = itoa::Buffer::new();
    crate::value::field(m, key.text(&mut buf)?)
}

/// Evaluate `node` with `vars`; `None` when CEL must decide.
pub(crate) fn eval<'a>(node: &'a Node, vars: &mut Vars<'a>) -> Option<V<'a>> {
    Some(match node {
        Node::Null => V::Null,
        Node::Int(i) => V::Int(*i),
        Node::Str(s) => V::Str(s),
        Node::List(items) => V::List(Rc::new(
            items.iter().map(|i| eval(i, vars)).collect::<Option<_>>()?,
        )),
        Node::Ident(name) => lookup(vars, name)?,
        Node::Select(operand, field) => match eval(operand, vars)? {
            V::Json(Json::Object(m)) => V::of(crate::value::field(m, field)?),
            _ => return None,
        },
        Node::Index(operand, key) => match (eval(operand, vars)?, eval(key, vars)?) {
            (V::Json(Json::Object(m)), k) => V::of(member(m, &k)?),
            (V::Json(Json::Array(a)), V::Int(i)) => V::of(a.get(usize::try_from(i).ok()?)?),
            (V::List(l), V::Int(i)) => l.get(usize::try_from(i).ok()?)?.clone(),
            _ => return None,
        },
        Node::Neg(x) => match eval(x, vars)? {
            V::Int(i) => V::Int(i.checked_neg()?),
            _ => return None,
        },
        Node::Cond(c, t, f) => {
            if truth(c, vars)? {
                eval(t, vars)?
            } else {
                eval(f, vars)?
            }
        }
        Node::Add(x, y) => match (eval(x, vars)?, eval(y, vars)?) {
            (V::Int(a), V::Int(b)) => V::Int(a.checked_add(b)?),
            _ => return None,
        },
        Node::Sub(x, y) => match (eval(x, vars)?, eval(y, vars)?) {
            (V::Int(a), V::Int(b)) => V::Int(a.checked_sub(b)?),
            _ => return None,
        },
        Node::Type(x) => V::Type(eval(x, vars)?.ty()),
        Node::String(x) => match eval(x, vars)? {
            V::Int(i) => V::Decimal(i),
            s @ (V::Str(_) | V::Decimal(_)) => s,
            _ => return None,
        },
        Node::Size(x) => {
            let n = match eval(x, vars)? {
                V::Str(s) => s.chars().count(),
                V::Decimal(i) => itoa::Buffer::new().format(i).len(),
                V::List(l) => l.len(),
                V::Json(Json::Array(a)) => a.len(),
                V::Json(Json::Object(m)) => m.len(),
                _ => return None,
            };
            V::Int(i64::try_from(n).ok()?)
        }
        Node::Let(i) => bound(vars, LETS.get(*i)?)?,
        Node::Bool(_)
        | Node::Has(..)
        | Node::Not(_)
        | Node::And(..)
        | Node::Or(..)
        | Node::Eq(..)
        | Node::Ne(..)
        | Node::Cmp(..)
        | Node::In(..)
        | Node::Quantifier { .. } => V::Bool(truth(node, vars)?),
    })
}

/// Evaluate `node` to a boolean: `None` when it is not one or CEL must
/// decide. The logical operators, comparisons, membership and quantifiers
/// are worked out here, as a `bool` rather than a value.
pub(crate) fn truth<'a>(node: &'a Node, vars: &mut Vars<'a>) -> Option<bool> {
    Some(match node {
        Node::Bool(b) => *b,
        Node::Has(operand, field) => match eval(operand, vars)? {
            V::Json(Json::Object(m)) => crate::value::field(m, field).is_some(),
            _ => return None,
        },
        Node::Not(x) => !truth(x, vars)?,
        // CEL's `&&` and `||` are commutative: `false && error` is false
        // either way round; only a definite answer is given here.
        Node::And(x, y) => match truth(x, vars) {
            Some(false) => false,
            left => match (left, truth(y, vars)) {
                (Some(true), Some(r)) => r,
                (None, Some(false)) => false,
                _ => return None,
            },
        },
        Node::Or(x, y) => match truth(x, vars) {
            Some(true) => true,
            left => match (left, truth(y, vars)) {
                (Some(false), Some(r)) => r,
                (None, Some(true)) => true,
                _ => return None,
            },
        },
        Node::Cond(c, t, f) => {
            if truth(c, vars)? {
                truth(t, vars)?
            } else {
                truth(f, vars)?
            }
        }
        Node::Eq(x, y) => equal(&eval(x, vars)?, &eval(y, vars)?)?,
        Node::Ne(x, y) => !equal(&eval(x, vars)?, &eval(y, vars)?)?,
        Node::Cmp(x, y, o) => match (eval(x, vars)?, eval(y, vars)?) {
            (V::Int(a), V::Int(b)) => match o {
                Order::Lt => a < b,
                Order::Le => a <= b,
                Order::Gt => a > b,
                Order::Ge => a >= b,
            },
            _ => return None,
        },
        Node::In(x, container) => {
            let x = eval(x, vars)?;
            match eval(container, vars)? {
                V::Json(Json::Object(m)) => match x {
                    V::Str(_) | V::Decimal(_) => member(m, &x).is_some(),
                    _ => return None,
                },
                // A string equals only a string (`equal`): compared in place,
                // without making a value of each item (`k in consts.keys`
                // runs for every key of every reply).
                V::Json(Json::Array(a)) if x.ty() == Ty::String => {
                    let mut buf = itoa::Buffer::new();
                    let k = x.text(&mut buf)?;
                    a.iter()
                        .any(|i| matches!(i, Json::String(s) if crate::value::same(s, k)))
                }
                c => {
                    let mut found = false;
                    for item in c.items()? {
                        if equal(&item, &x)? {
                            found = true;
                            break;
                        }
                    }
                    found
                }
            }
        }
        Node::Quantifier {
            range,
            var,
            pred,
            every,
            hoisted,
        } => {
            let range = eval(range, vars)?;
            let items = match &range {
                V::Json(Json::Object(m)) => Items::Keys(m.keys()),
                other => other.items()?,
            };
            // The loop-invariant parts once, bound under their slot names
            // (innermost last, so a nested quantifier's shadow an outer
            // one's); when one of them cannot be told here (it may sit in a
            // branch the loop never takes), the predicate as written.
            let depth = vars.len();
            let mut pred = pred.as_ref();
            if let Some(h) = hoisted.as_ref().filter(|h| h.lets.len() <= LETS.len()) {
                let mut bound = true;
                for (name, node) in LETS.iter().zip(&h.lets) {
                    match eval(node, vars) {
                        Some(v) => vars.push((name, v)),
                        None => {
                            bound = false;
                            break;
                        }
                    }
                }
                if bound {
                    pred = &h.pred;
                } else {
                    vars.truncate(depth);
                }
            }
            // An element that errs is left to CEL (it may be absorbed by a
            // later one, or not).
            let mut answer = Some(*every);
            for item in items {
                vars.push((var.as_str(), item));
                let p = truth(pred, vars);
                vars.pop();
                match p {
                    Some(b) if b != *every => {
                        answer = Some(b);
                        break;
                    }
                    Some(_) => {}
                    None => {
                        answer = None;
                        break;
                    }
                }
            }
            vars.truncate(depth);
            answer?
        }
        _ => match eval(node, vars)? {
            V::Bool(b) => b,
            _ => return None,
        },
    })
}

/// The names of hoisted parts (see [`Hoisted`]); a quantifier with more
/// parts than this evaluates its predicate as written.
const LETS: [&str; 8] = ["@0", "@1", "@2", "@3", "@4", "@5", "@6", "@7"];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::expr::Expr;

    fn node(text: &str) -> Node {
        Expr::compile(text)
            .unwrap()
            .fast
            .unwrap_or_else(|| panic!("{text} is not in the subset"))
    }

    /// A value comes back from an evaluation in two registers: one tag and
    /// one word, with `None` in the tag's spare values.
    #[test]
    fn a_value_is_two_words() {
        assert_eq!(std::mem::size_of::<Option<V>>(), 16);
    }

    /// The type names are CEL's.
    #[test]
    fn type_names_are_cels() {
        let names: Vec<&str> = Ty::NAMED.iter().map(|t| t.name()).collect();
        assert_eq!(
            names,
            [
                "int",
                "uint",
                "double",
                "bool",
                "string",
                "bytes",
                "list",
                "map",
                "null_type"
            ]
        );
        assert_eq!((Ty::Dyn.name(), Ty::Type.name()), ("dyn", "type"));
    }

    /// `string()` of an int is compared, looked up and measured as its
    /// decimal text, which is only spelt out where it is read.
    #[test]
    fn decimals_read_as_their_text() {
        let consts = serde_json::json!({"t": {"7": [2, 3], "-12": [1]}, "l": ["7", "x"]});
        let vars: Vars = vec![("consts", V::of(&consts)), ("s", V::Int(7))];
        for (text, want) in [
            ("string(s) in consts.t", true),
            ("string(-12) in consts.t", true),
            ("string(12) in consts.t", false),
            ("consts.t[string(s)] == [2, 3]", true),
            ("string(s) in consts.l", true),
            (
                "string(s) == '7' && '7' == string(s) && string(s) != '07'",
                true,
            ),
            ("string(string(s)) == string(s)", true),
            ("size(string(-12)) == 3", true),
            ("type(string(s)) == string", true),
        ] {
            let n = node(text);
            assert_eq!(truth(&n, &mut vars.clone()), Some(want), "{text}");
        }
    }

    /// The parts of a predicate that do not read the loop's name are
    /// worked out once, before the loop; the rest stays in the loop.
    #[test]
    fn quantifiers_hoist_what_does_not_read_their_name() {
        let Node::Quantifier {
            hoisted: Some(h), ..
        } = node("a.all(k, (k in payload) == (k in response.copy) && k in consts.keys)")
        else {
            panic!("nothing hoisted");
        };
        let lets: Vec<String> = h.lets.iter().map(|l| format!("{l:?}")).collect();
        assert_eq!(lets.len(), 2, "{lets:?}");
        assert!(
            lets[0].contains("\"copy\"") && lets[1].contains("\"keys\""),
            "{lets:?}"
        );
        // Nothing to take out: names and literals cost nothing to read.
        assert!(matches!(
            node("a.all(k, k in payload && k != 'x')"),
            Node::Quantifier { hoisted: None, .. }
        ));
        // Evaluated, a hoisted part gives what it gave in the loop.
        let consts = serde_json::json!({"keys": ["a", "b"]});
        let obj = serde_json::json!({"a": 1, "b": 2});
        let e = node("o.all(k, k in consts.keys) && !o.exists(k, !(k in consts.keys))");
        let mut vars: Vars = vec![("consts", V::of(&consts)), ("o", V::of(&obj))];
        assert!(matches!(eval(&e, &mut vars), Some(V::Bool(true))));
        assert_eq!(vars.len(), 2, "the loop's names are gone after it");
    }
}
