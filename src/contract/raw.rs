//! The serde shape of a contract manifest (`contract.yaml`). Unknown keys
//! are errors; every value that can be wrong keeps its span.

use crate::case::Node;
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::collections::BTreeMap;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawManifest {
    pub(crate) contract: Spanned<String>,
    pub(crate) title: String,
    pub(crate) spec: String,
    pub(crate) method: Spanned<String>,
    pub(crate) content_type: String,
    pub(crate) releases: Vec<RawRelease>,
    pub(crate) envelopes: BTreeMap<String, RawEnvelope>,
    pub(crate) request: RawRequest,
    #[serde(default)]
    pub(crate) options: BTreeMap<String, RawOption>,
    #[serde(default)]
    pub(crate) probes: BTreeMap<String, RawProbe>,
    pub(crate) boundaries: Option<RawBoundaries>,
    #[serde(default)]
    pub(crate) volatile: Vec<RawVolatile>,
    #[serde(default)]
    pub(crate) compare: RawCompare,
    pub(crate) consts: Option<Node>,
    #[serde(default)]
    pub(crate) invariants: Vec<RawInvariant>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRelease {
    pub(crate) name: Spanned<String>,
    #[serde(default)]
    pub(crate) aliases: Vec<String>,
    pub(crate) cites: String,
    pub(crate) path: Spanned<String>,
    pub(crate) envelope: Spanned<String>,
    pub(crate) overlay: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawEnvelope {
    pub(crate) cites: String,
    pub(crate) outcome: Spanned<String>,
    pub(crate) success: String,
    pub(crate) invalid_parameter: String,
    pub(crate) payload: Spanned<String>,
    pub(crate) payload_copy: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawRequest {
    pub(crate) fields: Spanned<String>,
    pub(crate) shape_option: Option<Spanned<String>>,
    pub(crate) shapes: BTreeMap<String, RawShape>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawShape {
    pub(crate) wrap: Option<String>,
    pub(crate) schema: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawOption {
    pub(crate) cites: String,
    pub(crate) description: String,
    pub(crate) values: Option<Vec<String>>,
    pub(crate) pattern: Option<Spanned<String>>,
    pub(crate) default: Spanned<String>,
    #[serde(default)]
    pub(crate) patches: BTreeMap<String, BTreeMap<String, Spanned<String>>>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawProbe {
    pub(crate) cites: String,
    pub(crate) option: Option<Spanned<String>>,
    pub(crate) query: Node,
    pub(crate) value: Spanned<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBoundaries {
    pub(crate) accepted_schema: Option<Spanned<String>>,
    pub(crate) refused_schema: Option<Spanned<String>>,
    pub(crate) inconclusive: Option<RawInconclusive>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawInconclusive {
    pub(crate) when: Spanned<String>,
    pub(crate) reason: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVolatile {
    pub(crate) key: String,
    #[serde(default)]
    pub(crate) except: Vec<Node>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCompare {
    #[serde(default)]
    pub(crate) enums: Vec<String>,
    #[serde(default)]
    pub(crate) nullable: Vec<String>,
}

/// An invariant as written, in a manifest or a case file.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawInvariant {
    pub name: Spanned<String>,
    pub cites: String,
    pub releases: Option<Vec<String>>,
    #[serde(default)]
    pub for_each: Vec<Spanned<String>>,
    #[serde(rename = "as")]
    pub binding: Option<Spanned<String>>,
    pub when: Option<Spanned<String>>,
    pub expr: Spanned<String>,
    pub severity: Option<Spanned<String>>,
    pub message: Option<String>,
    #[serde(default)]
    pub show: Vec<Spanned<String>>,
}
