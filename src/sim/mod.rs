//! Embedded reference CC-CMS simulator (placeholder, being written).
