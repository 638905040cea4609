//! cms-contract: declarative contract tests for the Huawei CC-CMS open API.
//!
//! Layers, one way:
//!
//! ```text
//!   settings ─┐
//!   contract ─┼─> session ─> case ─> run ─> check ─> result ─> report
//!   schema ───┘          (YAML)  (HTTP)  (pure)            (text, JUnit, JSON, HTML)
//!                  embedded simulator (crates/sim), beside, behind `session::Embedded`
//! ```
//!
//! [`contract`] reads each endpoint's manifest (an endpoint is a folder of
//! data: the engine names none); [`settings`] merges profile < environment
//! < flags; [`session`] turns them into a [`run::Runner`]; [`case`] turns
//! YAML into [`case::Case`]s; [`run`] sends and calls [`check`], whose
//! failures and the runner's results are [`result`] values; [`report`]
//! prints them. `expr` (crate-private) is the CEL used by invariants and
//! flows, [`sanitize`] the ordered clean-up of reply text, [`harness`] the
//! `cargo test` glue.
//!
//! The facade most front ends need is re-exported at the top: prepare a
//! [`Session`] from [`SessionOptions`] and the environment, load its
//! [`Case`]s, start it, run them into [`CaseResult`]s, and render those with
//! [`report`]. The README follows.
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub use cms_auth_v2 as auth;
pub mod bless;
pub mod case;
pub mod check;
pub mod compare;
pub mod contract;
#[cfg(feature = "simulator")]
pub mod embedded;
pub(crate) mod expr;
pub mod harness;
pub mod location;
pub mod report;
pub mod result;
pub mod run;
pub mod sanitize;
pub mod schema;
pub mod session;
pub mod settings;

pub mod target;
#[cfg(test)]
mod testing;
pub(crate) mod value;

pub use case::Case;
pub use result::{CaseResult, Outcome};
pub use session::{Session, SessionOptions};
