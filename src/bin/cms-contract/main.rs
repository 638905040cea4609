//! `cms-contract`: the command-line edge. Parses flags into a settings
//! layer, prepares a [`Session`](cms_contract::session::Session), prints
//! what the runner decided. Exit codes: 0 all pass, 1 a case failed, 2
//! usage, configuration or load error. A reader that goes away (`| head`)
//! ends the output quietly, never with a panic; the exit code stays the
//! command's own.

mod args;
mod cmd_compare;
mod cmd_init;
mod cmd_list;
mod cmd_run;
mod cmd_serve;
mod cmd_sign;
mod output;
mod shipped;

use clap::{Parser, Subcommand};
use output::{note, stdout};
use std::io::Write;
use std::process::ExitCode;

/// mimalloc rather than glibc's malloc: a case allocates and frees many
/// small values across the runtime's threads, which glibc's arenas serve
/// slowly (README "Performance": malloc and free were a fifth of all
/// samples; CPU per case fell about a quarter).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(
    name = "cms-contract",
    version,
    about = "Contract tests for the Huawei CC-CMS open API (agent monitoring family)",
    long_about = "Contract tests for the Huawei CC-CMS open API. Each endpoint is a contract \
                  folder under schemas/ (manifest, JSON Schemas); each suite under cases/ checks one. \
                  With no target, runs against the embedded reference simulator."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run case files against a CMS (default: the embedded reference simulator).
    Run(Box<cmd_run::RunArgs>),
    /// List the cases that would run (--tags: their tags, with counts).
    List(cmd_list::ListArgs),
    /// Validate case files, contracts, schemas and the profile without sending anything.
    Check(cmd_list::CheckArgs),
    /// Serve the embedded reference simulator.
    Serve(cmd_serve::ServeArgs),
    /// Print the auth-v2 Authorization header for a request (AK/SK from CMS_AK/CMS_SK).
    Sign(cmd_sign::SignArgs),
    /// Send each case to a baseline and a candidate and classify every difference.
    Compare(Box<cmd_compare::CompareArgs>),
    /// Print the JSON Schema of the case-file format (for YAML language servers).
    Schema,
    /// Write a starter target profile (and, with --with-cases, a copy of the shipped suites) to DIR.
    Init(cmd_init::InitArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Run(a) => cmd_run::run(*a),
        Command::List(a) => cmd_list::list(a, None),
        Command::Check(a) => cmd_list::check(a),
        Command::Serve(a) => cmd_serve::serve(a),
        Command::Sign(a) => cmd_sign::sign(a),
        Command::Compare(a) => cmd_compare::compare(*a),
        Command::Init(a) => cmd_init::init(a),
        Command::Schema => writeln!(stdout(), "{}", cms_contract::case::case_file_schema())
            .map(|()| ExitCode::SUCCESS)
            .map_err(anyhow::Error::from),
    };
    shipped::cleanup();
    match result {
        Ok(code) => code,
        Err(e) => {
            // Library errors render themselves (rustc style); anyhow adds context.
            note!("{e:#}");
            ExitCode::from(2)
        }
    }
}
