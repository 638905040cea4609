//! Tests of the schema layer against the shipped contracts.
