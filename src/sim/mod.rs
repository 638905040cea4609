//! The embedded reference CC-CMS simulator: the `cms-sim` crate
//! (`crates/sim`), re-exported so `cms_contract::sim::...` paths (including
//! `sim::tls::...`) keep working. The simulator never depends on this
//! crate, so a mistake in the engine's contract data cannot hide in it.

pub use cms_sim::*;
