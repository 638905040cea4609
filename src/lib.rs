//! cms-contract: declarative contract tests for the Huawei CC-CMS open API.
#![warn(missing_docs)]

pub mod auth;
pub mod contract;
pub mod schema;
pub mod sim;
