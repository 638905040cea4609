//! A YAML value tree in which every node keeps its `line:col`.
//!
//! serde-saphyr gives spans through `Spanned<T>`; this type applies it at every
//! level, so a matcher deep inside `expect.body` still knows where it was written.

use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_saphyr::Spanned;
use std::fmt;

/// One YAML node and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    /// The value.
    pub value: NodeValue,
    /// Where it was written.
    pub loc: serde_saphyr::Location,
}

/// The shape of a [`Node`].
#[derive(Debug, Clone, PartialEq)]
pub enum NodeValue {
    /// `~`, `null` or nothing.
    Null,
    /// `true` / `false` (YAML 1.2 spellings only).
    Bool(bool),
    /// An integer that fits `i64`.
    Int(i64),
    /// An integer above `i64::MAX` that fits `u64`, kept exact.
    UInt(u64),
    /// Any other number.
    Float(f64),
    /// A string scalar.
    Str(String),
    /// A sequence.
    Seq(Vec<Node>),
    /// A mapping, in document order.
    Map(Vec<(Spanned<String>, Node)>),
}

impl NodeValue {
    /// A short name for error messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::Null => "null",
            Self::Bool(_) => "a boolean",
            Self::Int(_) | Self::UInt(_) => "an integer",
            Self::Float(_) => "a number",
            Self::Str(_) => "a string",
            Self::Seq(_) => "a list",
            Self::Map(_) => "a mapping",
        }
    }
}

impl Node {
    /// The node as JSON, as written (no variable expansion).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value;
        match &self.value {
            NodeValue::Null => Value::Null,
            NodeValue::Bool(b) => Value::Bool(*b),
            NodeValue::Int(i) => Value::from(*i),
            NodeValue::UInt(u) => Value::from(*u),
            NodeValue::Float(f) => {
                serde_json::Number::from_f64(*f).map_or(Value::Null, Value::Number)
            }
            NodeValue::Str(s) => Value::String(s.clone()),
            NodeValue::Seq(items) => Value::Array(items.iter().map(Node::to_json).collect()),
            NodeValue::Map(entries) => Value::Object(
                entries
                    .iter()
                    .map(|(k, v)| (k.value.clone(), v.to_json()))
                    .collect(),
            ),
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<NodeValue>::deserialize(d)?;
        Ok(Node {
            value: spanned.value,
            loc: spanned.referenced,
        })
    }
}

impl<'de> Deserialize<'de> for NodeValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

/// `v` as an exact integer node, if it fits `i64` or `u64`.
fn integer(v: i128) -> Option<NodeValue> {
    i64::try_from(v)
        .map(NodeValue::Int)
        .or_else(|_| u64::try_from(v).map(NodeValue::UInt))
        .ok()
}

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = NodeValue;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_unit<E: de::Error>(self) -> Result<NodeValue, E> {
        Ok(NodeValue::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<NodeValue, E> {
        Ok(NodeValue::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<NodeValue, D::Error> {
        d.deserialize_any(NodeVisitor)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<NodeValue, E> {
        Ok(NodeValue::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<NodeValue, E> {
        Ok(NodeValue::Int(v))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<NodeValue, E> {
        Ok(i64::try_from(v).map_or(NodeValue::UInt(v), NodeValue::Int))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<NodeValue, E> {
        Ok(integer(v).unwrap_or(NodeValue::Float(v as f64)))
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<NodeValue, E> {
        Ok(i128::try_from(v)
            .ok()
            .and_then(integer)
            .unwrap_or(NodeValue::Float(v as f64)))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<NodeValue, E> {
        Ok(NodeValue::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<NodeValue, E> {
        Ok(NodeValue::Str(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<NodeValue, E> {
        Ok(NodeValue::Str(v))
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<NodeValue, A::Error> {
        let mut items = Vec::new();
        while let Some(n) = seq.next_element::<Node>()? {
            items.push(n);
        }
        Ok(NodeValue::Seq(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<NodeValue, A::Error> {
        let mut entries: Vec<(Spanned<String>, Node)> = Vec::new();
        while let Some(k) = map.next_key::<Spanned<String>>()? {
            let v = map.next_value::<Node>()?;
            entries.push((k, v));
        }
        Ok(NodeValue::Map(entries))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_nodes_keep_their_lines() {
        let yaml = "a: 1\nb:\n  c: [x, 2.5]\n  d: ~\n";
        let n: Node = serde_saphyr::from_str(yaml).unwrap();
        let NodeValue::Map(m) = &n.value else {
            panic!("map expected")
        };
        assert_eq!(m[0].0.value, "a");
        assert_eq!(m[0].1.value, NodeValue::Int(1));
        let NodeValue::Map(inner) = &m[1].1.value else {
            panic!("inner map expected")
        };
        assert_eq!(inner[0].0.referenced.line(), 3);
        let NodeValue::Seq(s) = &inner[0].1.value else {
            panic!("seq expected")
        };
        assert_eq!(s[1].value, NodeValue::Float(2.5));
        assert_eq!(inner[1].1.value, NodeValue::Null);
        assert_eq!(inner[1].1.loc.line(), 4);
    }

    #[test]
    fn integers_up_to_u64_max_stay_exact() {
        let yaml = "[9007199254740993, 9223372036854775807, 9223372036854775808, 18446744073709551615, -9223372036854775808]";
        let n: Node = serde_saphyr::from_str(yaml).unwrap();
        let NodeValue::Seq(s) = &n.value else {
            panic!("seq expected")
        };
        let values: Vec<&NodeValue> = s.iter().map(|n| &n.value).collect();
        assert_eq!(
            values,
            [
                &NodeValue::Int(9_007_199_254_740_993),
                &NodeValue::Int(i64::MAX),
                &NodeValue::UInt(9_223_372_036_854_775_808),
                &NodeValue::UInt(u64::MAX),
                &NodeValue::Int(i64::MIN),
            ]
        );
        assert_eq!(s[3].to_json(), serde_json::json!(u64::MAX));
    }
}
