//! Walks through a contract's schema documents that turn a path into the
//! spec row it cites: an evaluation path (from a validation error) or an
//! instance pointer (from a body matcher, a snapshot or a wire check) into
//! the `title` of the subschema that governs it. Titles are the only place
//! citations live, so no second table maps pointers to rows in Rust.

use serde_json::Value;
use std::cell::Cell;
use std::collections::BTreeMap;

/// The documents of one schema set and the base URI their `$id`s share.
pub(crate) struct Docs<'a> {
    pub documents: &'a BTreeMap<String, Value>,
    pub base: &'a str,
}

/// What the evaluation-path walk is looking at.
#[derive(Clone, Copy)]
enum Position {
    /// A schema: its members are keywords.
    Schema,
    /// A map from names to schemas (`properties`, `$defs`, …).
    Map,
    /// A list of schemas (`allOf`, `oneOf`, …).
    List,
}

impl<'a> Docs<'a> {
    /// The `title` of the deepest titled subschema on `evaluation_path`,
    /// walking from the root of `documents[start]` and following each `$ref`
    /// into the referenced file and fragment. Only schema positions count, so
    /// a property named `title` is not mistaken for one. The walk stops,
    /// keeping what it found, at a leaf keyword or a step it cannot follow.
    pub fn rule_for(&self, start: &str, evaluation_path: &str) -> Option<String> {
        let (mut doc_name, mut node) = self.documents.get_key_value(start)?;
        let mut rule = title_of(node);
        let mut position = Position::Schema;
        for raw in evaluation_path.split('/').skip(1) {
            let segment = raw.replace("~1", "/").replace("~0", "~");
            let next = match position {
                Position::Schema if segment == "$ref" || segment == "$dynamicRef" => {
                    let Some((name, target)) = node
                        .get(&segment)
                        .and_then(Value::as_str)
                        .and_then(|reference| self.resolve_ref(doc_name, reference))
                    else {
                        break;
                    };
                    doc_name = name;
                    Some((target, Position::Schema))
                }
                Position::Schema => node.get(&segment).and_then(|child| {
                    let position = match segment.as_str() {
                        "properties" | "patternProperties" | "$defs" | "definitions"
                        | "dependentSchemas" => Position::Map,
                        "allOf" | "anyOf" | "oneOf" | "prefixItems" => Position::List,
                        "not"
                        | "if"
                        | "then"
                        | "else"
                        | "items"
                        | "additionalItems"
                        | "contains"
                        | "additionalProperties"
                        | "propertyNames"
                        | "unevaluatedItems"
                        | "unevaluatedProperties"
                        | "contentSchema" => Position::Schema,
                        // A leaf keyword (`const`, `type`, `required`, …): nothing deeper.
                        _ => return None,
                    };
                    Some((child, position))
                }),
                Position::Map => node.get(&segment).map(|child| (child, Position::Schema)),
                Position::List => segment
                    .parse::<usize>()
                    .ok()
                    .and_then(|index| node.get(index))
                    .map(|child| (child, Position::Schema)),
            };
            let Some((child, child_position)) = next else {
                break;
            };
            node = child;
            position = child_position;
            if matches!(position, Position::Schema) {
                if let Some(title) = title_of(node) {
                    rule = Some(title);
                }
            }
        }
        rule
    }

    /// The file and subschema a `$ref` inside `current` points to: a relative
    /// file name or the base URI plus one, and a `#/...` fragment.
    pub fn resolve_ref(&self, current: &str, reference: &str) -> Option<(&'a String, &'a Value)> {
        let (file, fragment) = reference.split_once('#').unwrap_or((reference, ""));
        let file = file.strip_prefix(self.base).unwrap_or(file);
        let file = file.strip_prefix("./").unwrap_or(file);
        let file = if file.is_empty() { current } else { file };
        let (name, doc) = self.documents.get_key_value(file)?;
        let target = if fragment.is_empty() {
            doc
        } else if fragment.starts_with('/') {
            doc.pointer(fragment)?
        } else {
            // An `$anchor` name: not used by our files, so not followed.
            return None;
        };
        Some((name, target))
    }

    /// The citation for the value at instance `pointer` under schema `name`:
    /// the title of the deepest titled subschema that governs it, along the
    /// first branch (of `$ref`, `allOf`/`anyOf`/`oneOf`, `then`/`else`) that
    /// reaches it.
    pub fn title_at(&self, name: &str, pointer: &str) -> Option<String> {
        self.walk(name, pointer, &|_| true).flatten()
    }

    /// Whether schema `name` requires an integer at instance `pointer`, and if
    /// so the title that says it (or `schema <name>` when none does).
    pub fn integer_at(&self, name: &str, pointer: &str) -> Option<String> {
        self.walk(name, pointer, &is_integer_schema)
            .map(|title| title.unwrap_or_else(|| format!("schema {name}")))
    }

    /// Walk from `documents[name]` down instance `pointer`; at the end, the
    /// first subschema for which `leaf` holds gives `Some(title so far)`.
    fn walk(
        &self,
        name: &str,
        pointer: &str,
        leaf: &dyn Fn(&Value) -> bool,
    ) -> Option<Option<String>> {
        let (doc_name, doc) = self.documents.get_key_value(name)?;
        let tokens: Vec<String> = pointer
            .split('/')
            .skip(1)
            .map(|t| t.replace("~1", "/").replace("~0", "~"))
            .collect();
        let w = Walk {
            docs: self,
            leaf,
            steps: Cell::new(0),
        };
        w.find(doc_name, doc, &tokens, None, 0)
    }
}

/// One walk down an instance pointer.
struct Walk<'d, 'a> {
    docs: &'d Docs<'a>,
    leaf: &'d dyn Fn(&Value) -> bool,
    /// Subschemas visited so far: a `$ref` cycle or a huge schema ends the walk.
    steps: Cell<usize>,
}

impl<'a> Walk<'_, 'a> {
    /// More than any of our schema files needs.
    const MAX_STEPS: usize = 10_000;
    /// Nesting of subschemas: a JSON pointer of a reply is at most 128 deep
    /// (serde_json's limit), plus `$ref`s and branches on the way.
    const MAX_DEPTH: usize = 192;

    fn find(
        &self,
        doc_name: &'a str,
        node: &'a Value,
        tokens: &[String],
        title: Option<String>,
        depth: usize,
    ) -> Option<Option<String>> {
        self.steps.set(self.steps.get() + 1);
        if self.steps.get() > Self::MAX_STEPS || depth > Self::MAX_DEPTH {
            return None;
        }
        let schema = node.as_object()?;
        let title = title_of(node).or(title);
        // Subschemas that apply to the same instance.
        let refs = ["$ref", "$dynamicRef"].into_iter().filter_map(|k| {
            let reference = schema.get(k)?.as_str()?;
            self.docs
                .resolve_ref(doc_name, reference)
                .map(|(n, t)| (n.as_str(), t))
        });
        let branches = ["allOf", "anyOf", "oneOf"]
            .into_iter()
            .filter_map(|k| schema.get(k)?.as_array())
            .flatten()
            .chain(["then", "else"].into_iter().filter_map(|k| schema.get(k)))
            .map(|b| (doc_name, b));
        let Some((first, rest)) = tokens.split_first() else {
            if (self.leaf)(node) {
                return Some(title);
            }
            for (name, sub) in refs.chain(branches) {
                if let Some(hit) = self.find(name, sub, tokens, title.clone(), depth + 1) {
                    return Some(hit);
                }
            }
            return None;
        };
        for (name, sub) in refs.chain(branches) {
            if let Some(hit) = self.find(name, sub, tokens, title.clone(), depth + 1) {
                return Some(hit);
            }
        }
        let index = first.parse::<usize>().ok();
        let child = schema
            .get("properties")
            .and_then(|p| p.get(first))
            .or_else(|| {
                let i = index?;
                schema
                    .get("prefixItems")
                    .and_then(|p| p.get(i))
                    .or_else(|| schema.get("items"))
            })
            .or_else(|| schema.get("additionalProperties").filter(|a| a.is_object()))?;
        self.find(doc_name, child, rest, title, depth + 1)
    }
}

/// `"type": "integer"`, or a type list with integer and not number.
fn is_integer_schema(node: &Value) -> bool {
    match node.get("type") {
        Some(Value::String(t)) => t == "integer",
        // ["integer", "null"]: a number there must be an integer.
        Some(Value::Array(ts)) => {
            ts.iter().any(|t| t == "integer") && !ts.iter().any(|t| t == "number")
        }
        _ => false,
    }
}

/// A schema's `title`, if it is an object schema with a string title.
pub(crate) fn title_of(schema: &Value) -> Option<String> {
    schema
        .get("title")
        .and_then(Value::as_str)
        .map(str::to_owned)
}
