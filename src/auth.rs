//! C2 "auth-v2" AK/SK request signing (placeholder, being written).
