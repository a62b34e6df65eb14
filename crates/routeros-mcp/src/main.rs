//! `routeros-mcp`: the server and its operator CLI.
//!
//! This file only parses the command line, sets up logging on stderr, runs the command and maps
//! the outcome to an exit status. Everything else lives in the library crates (the server's
//! lifecycle in `server`) and in `commands/`.

mod cli;
mod commands;
mod context;
mod logging;
mod output;
mod secrets;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::Cli;

/// jemalloc, with background threads purging freed pages: after a fleet-wide call the resident
/// size falls back as connections close, where glibc's per-thread arenas kept it at the peak.
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Exit statuses (documented in `--help`).
mod status {
    pub const FAILURE: u8 = 1;
    pub const USAGE: u8 = 2;
    pub const VERIFICATION: u8 = 3;
}

/// An error the operator caused (bad value, bad combination): exit status 2.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// A verification that completed and found a problem: exit status 3.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct VerificationFailed(pub String);

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(status::FAILURE);
        }
    };
    let outcome = runtime.block_on(commands::run(cli));
    // The command is done (a server has drained its calls and written its audit records). What
    // may be left is a blocking read of stdin by the stdio transport, which only the client's
    // next line or EOF would end: do not wait for it, or a SIGTERM'd stdio server never exits.
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            // An error can quote a router (its error text): made visible, never drawn.
            let text = domain::text::escape_lines(&format!("{err:#}"));
            if logging::json_active() {
                tracing::error!(target: server::NOTICE, "{text}");
            } else {
                eprintln!("error: {text}");
            }
            ExitCode::from(exit_status(&err))
        }
    }
}

fn exit_status(err: &anyhow::Error) -> u8 {
    if err.downcast_ref::<VerificationFailed>().is_some() {
        status::VERIFICATION
    } else if err.downcast_ref::<UsageError>().is_some()
        || err.downcast_ref::<settings::SettingsError>().is_some()
    {
        status::USAGE
    } else {
        status::FAILURE
    }
}
