//! JSON Schema loading and validation (placeholder, being written).
