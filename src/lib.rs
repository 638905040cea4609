//! cms-contract: declarative contract tests for the Huawei CC-CMS open API.
#![warn(missing_docs)]

pub mod auth;
pub mod case;
pub mod contract;
pub mod location;
pub mod schema;
pub mod sim;
