//! The shipped contract suites as `cargo test` trials, one per case
//! (`<suite>::<case>`). With no `CMS_BASE_URL`/`CMS_PROFILE` they run against
//! the embedded reference simulator.

fn main() -> std::process::ExitCode {
    cms_contract::harness::main(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")),
        Some(cms_contract::embedded::simulator()),
    )
}
