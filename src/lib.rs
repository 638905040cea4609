//! cms-contract: declarative contract tests for the Huawei CC-CMS open API.
//!
//! Layers, one way: [`case`] (YAML → [`case::Case`]) → [`run`] (cases →
//! [`run::CaseResult`], using [`check`], [`schema`], [`auth`]) → [`report`].
//! [`setup`] picks the target, [`sim`] is the embedded reference CMS,
//! [`harness`] is the `cargo test` glue, [`sanitize`] the ordered clean-up
//! of reply text (scrub secrets, cut, escape for terminals). The README
//! follows.
#![doc = include_str!("../README.md")]
#![warn(missing_docs)]

pub use cms_auth_v2 as auth;
pub mod bless;
pub mod case;
pub mod check;
pub mod compare;
pub mod contract;
pub mod harness;
pub mod location;
pub mod profile;
pub mod report;
pub mod run;
pub mod sanitize;
pub mod schema;
pub mod setup;
pub mod sim;
pub mod target;
