//! Test helpers: the shipped contracts, loaded once per test binary.

use crate::contract::{load_all, Contract, ContractSet, OptionValues};
use crate::schema::{SchemaCatalog, SchemaSet};
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// A temporary folder, removed when dropped; reads as a [`Path`].
pub struct TempDir(tempfile::TempDir);

impl std::ops::Deref for TempDir {
    type Target = Path;
    fn deref(&self) -> &Path {
        self.0.path()
    }
}

impl AsRef<Path> for TempDir {
    fn as_ref(&self) -> &Path {
        self.0.path()
    }
}

/// A fresh temporary folder.
pub fn tmp() -> TempDir {
    TempDir(
        tempfile::Builder::new()
            .prefix("cms-contract-")
            .tempdir()
            .expect("a temporary folder"),
    )
}

/// The shipped `schemas/` folder.
pub fn schemas_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas")
}

/// Every shipped contract.
pub fn contracts() -> Arc<ContractSet> {
    static SET: OnceLock<Arc<ContractSet>> = OnceLock::new();
    SET.get_or_init(|| {
        Arc::new(ContractSet::new(
            load_all(&schemas_dir()).expect("shipped contracts load"),
        ))
    })
    .clone()
}

/// The shipped contract `name`.
pub fn contract(name: &str) -> Arc<Contract> {
    contracts().get(name).expect("a shipped contract").clone()
}

/// A catalog with every option at its default, plus `options`.
pub fn catalog(options: &[(&str, &str)]) -> Arc<SchemaCatalog> {
    let given: Vec<(String, String)> = options
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    let values = OptionValues::resolve(&contracts(), &given).expect("valid options");
    Arc::new(SchemaCatalog::new(contracts(), values))
}

/// agentbyworkno's schema set of `release`, options at their defaults.
pub fn agentbyworkno(release: &str) -> Arc<SchemaSet> {
    let c = contract("agentbyworkno");
    let r = c.release(release).expect("a release").clone();
    catalog(&[]).get(&c, &r).expect("schemas compile")
}
