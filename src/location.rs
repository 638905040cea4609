//! `file:line:col` of a value a user wrote; carried by every case, matcher and result.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Where a user-written value lives. Lines and columns are 1-based; 0 means unknown.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Location {
    /// The file, as given on the command line (relative paths stay relative).
    pub file: Arc<PathBuf>,
    /// 1-based line, 0 when unknown.
    pub line: u32,
    /// 1-based column, 0 when unknown.
    pub column: u32,
}

impl Location {
    /// A location in `file`.
    pub fn new(file: Arc<PathBuf>, line: u32, column: u32) -> Self {
        Self { file, line, column }
    }

    /// The start of `file` (for file-level errors).
    pub fn file_only(file: &Path) -> Self {
        Self::new(Arc::new(file.to_path_buf()), 0, 0)
    }

    /// Convert a serde-saphyr location into ours.
    pub fn from_yaml(file: &Arc<PathBuf>, loc: &serde_saphyr::Location) -> Self {
        Self::new(
            file.clone(),
            u32::try_from(loc.line()).unwrap_or(0),
            u32::try_from(loc.column()).unwrap_or(0),
        )
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let file = self.file.display();
        match (self.line, self.column) {
            (0, _) => write!(f, "{file}"),
            (l, 0) => write!(f, "{file}:{l}"),
            (l, c) => write!(f, "{file}:{l}:{c}"),
        }
    }
}
