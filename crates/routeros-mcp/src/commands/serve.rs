//! `routeros-mcp serve`: the service ([`server::App`]) driven by the process's signals.
//!
//! SIGTERM or SIGINT: shut down (stop accepting, let calls in flight finish for up to
//! `MCP_SHUTDOWN_GRACE_SECONDS`, write the queued audit records, close the database, exit 0; the
//! sequence is written down in the `server` crate). SIGHUP: read the configuration again from the
//! same file and the process environment and apply what can change live (the log level among
//! it); a configuration that does not load is reported and the one in force kept.

use std::sync::Arc;

use anyhow::{Context as _, Result};
use tokio::signal::unix::{Signal, SignalKind, signal};

use crate::cli::ServeArgs;
use crate::context::{Context, server_error};

pub async fn run(ctx: Context, args: ServeArgs) -> Result<()> {
    // Handlers first: a SIGHUP during startup is applied once serving, not fatal.
    let mut hangup = signal(SignalKind::hangup()).context("listening for SIGHUP")?;
    let terminate = signal(SignalKind::terminate()).context("listening for SIGTERM")?;
    let interrupt = signal(SignalKind::interrupt()).context("listening for SIGINT")?;

    let options = server::Options {
        transport: args.transport.map(Into::into),
        read_only: args.read_only,
        demo: args.demo,
    };
    let Context {
        loaded,
        config_path,
        logging,
        ..
    } = ctx;
    let app = server::App::build(loaded, options)
        .await
        .map_err(server_error)?;
    let reloader = app.reloader();
    if let Some(level) = logging.reloadable() {
        reloader.register(Arc::new(level));
    }
    let reloads = tokio::spawn(async move {
        while hangup.recv().await.is_some() {
            tracing::info!(target: server::NOTICE, "SIGHUP: reloading the configuration");
            let loaded = settings::Loader::from_process(config_path.clone()).load();
            reloader.reload(loaded).await;
        }
    });
    let outcome = app.run_until(stop_signal(terminate, interrupt)).await;
    reloads.abort();
    outcome.map_err(server_error)
}

/// Completes at the first SIGTERM or SIGINT.
async fn stop_signal(mut terminate: Signal, mut interrupt: Signal) {
    tokio::select! {
        _ = terminate.recv() => {}
        _ = interrupt.recv() => {}
    }
}

#[cfg(all(test, not(feature = "demo")))]
mod tests {
    #[test]
    fn a_build_without_the_simulator_says_how_to_get_the_demo() {
        assert!(server::NO_DEMO.contains("this build has no simulator"));
        assert!(server::NO_DEMO.contains("`demo` feature"));
    }
}
