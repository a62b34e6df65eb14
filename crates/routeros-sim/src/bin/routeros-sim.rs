//! `routeros-sim`: serve a fleet of simulated RouterOS 7 routers until interrupted.
//!
//! Starts every device (REST over HTTP and HTTPS, SSH, the API plain and over TLS, control
//! API), writes the manifest once all of them listen, and shuts down cleanly on Ctrl-C or SIGTERM.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{Context, Result, bail};
use clap::Parser;
use routeros_sim::profiles::Profile;
use routeros_sim::{Faults, Fleet, FleetOptions, Manifest};

/// Serve N simulated RouterOS 7 routers, each on its own loopback address.
#[derive(Debug, Parser)]
#[command(name = "routeros-sim", version, about)]
struct Cli {
    /// Number of devices.
    #[arg(long, default_value_t = 1)]
    count: usize,
    /// Profile(s), comma-separated and cycled over the devices: home, switch48, edge.
    #[arg(long, default_value = "home", value_delimiter = ',')]
    profile: Vec<Profile>,
    /// Seed of every generated configuration (same seed, same state).
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Where to write the manifest (JSON) once every device is listening.
    #[arg(long)]
    manifest: Option<PathBuf>,
    /// Address of the first device; the next ones follow (skipping .0, .254, .255).
    #[arg(long, default_value = "127.0.1.1")]
    base_address: Ipv4Addr,
    /// HTTP port on every device address (0 = ephemeral per device).
    #[arg(long, default_value_t = 8080)]
    http_port: u16,
    /// HTTPS port on every device address (0 = ephemeral per device).
    #[arg(long, default_value_t = 8443)]
    https_port: u16,
    /// SSH port on every device address (0 = ephemeral per device).
    #[arg(long, default_value_t = 2222)]
    ssh_port: u16,
    /// RouterOS API port on every device address (0 = ephemeral per device).
    #[arg(long, default_value_t = 8728)]
    api_port: u16,
    /// RouterOS API-SSL (TLS) port on every device address (0 = ephemeral per device).
    #[arg(long, default_value_t = 8729)]
    api_ssl_port: u16,
    /// Control API port on 127.0.0.1 (0 = ephemeral; the manifest has the URL).
    #[arg(long, default_value_t = 0)]
    control_port: u16,
    /// Simulated seconds per real second (60 = a minute passes every second).
    #[arg(long, default_value_t = 1.0)]
    time_scale: f64,
    /// Administrator login on every device.
    #[arg(long, default_value = "admin")]
    username: String,
    /// Administrator password on every device (default: one derived per device from the seed).
    #[arg(long, env = "ROUTEROS_SIM_PASSWORD", hide_env_values = true)]
    password: Option<String>,
    /// Derive HTTPS certificates and SSH host keys from this seed, so a restart presents the
    /// same fingerprints (default: random keys).
    #[arg(long)]
    key_seed: Option<u64>,
    /// Fault: added latency per request, milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Fault: probability in [0, 1] that a request fails (HTTP 500 / CLI failure).
    #[arg(long, default_value_t = 0.0)]
    error_rate: f64,
    /// Fault: serve K requests, then close the connection of the next one (once).
    #[arg(long)]
    drop_after: Option<u64>,
    /// Fault: the K-th write fails without being applied (once).
    #[arg(long)]
    fail_write: Option<u64>,
    /// Fault: accept connections but never answer.
    #[arg(long)]
    hang: bool,
    /// Fault: serve K requests, then stop answering.
    #[arg(long)]
    hang_after: Option<u64>,
    /// Fault: refuse every login.
    #[arg(long)]
    reject_auth: bool,
    /// Fault: serve K requests, then reboot (once).
    #[arg(long)]
    reboot_after: Option<u64>,
    /// Fault: how long a triggered reboot lasts, seconds.
    #[arg(long)]
    reboot_seconds: Option<u64>,
    /// Log filter (RUST_LOG syntax), logs go to stderr.
    #[arg(long, default_value = "warn")]
    log_level: String,
}

fn write_manifest(path: &Path, manifest: &Manifest) -> Result<()> {
    let text = serde_json::to_string_pretty(manifest).context("serialising the manifest")?;
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(d) = dir {
        std::fs::create_dir_all(d)
            .with_context(|| format!("creating the manifest directory {}", d.display()))?;
    }
    // Write then rename, so a reader never sees a half-written manifest.
    let tmp = path.with_extension("json.tmp");
    std::fs::write(&tmp, text).with_context(|| format!("writing {}", tmp.display()))?;
    std::fs::rename(&tmp, path)
        .with_context(|| format!("moving the manifest into place at {}", path.display()))?;
    Ok(())
}

async fn wait_for_signal() -> Result<()> {
    #[cfg(unix)]
    {
        let mut term = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
            .context("installing the SIGTERM handler")?;
        tokio::select! {
            r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    tokio::signal::ctrl_c()
        .await
        .context("waiting for Ctrl-C")?;
    Ok(())
}

#[tokio::main]
async fn main() -> Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_new(&cli.log_level)
                .with_context(|| format!("invalid --log-level `{}`", cli.log_level))?,
        )
        .with_writer(std::io::stderr)
        .init();
    if cli.profile.is_empty() {
        bail!("--profile needs at least one of: home, switch48, edge");
    }
    let faults = Faults {
        latency_ms: cli.latency_ms,
        error_rate: cli.error_rate,
        drop_after: cli.drop_after,
        fail_write: cli.fail_write,
        hang: cli.hang,
        hang_after: cli.hang_after,
        reject_auth: cli.reject_auth,
        reboot_after: cli.reboot_after,
        reboot_seconds: cli.reboot_seconds,
    };
    let opts = FleetOptions {
        count: cli.count,
        profiles: cli.profile.clone(),
        seed: cli.seed,
        base_address: cli.base_address,
        http_port: cli.http_port,
        https_port: cli.https_port,
        ssh_port: cli.ssh_port,
        api_port: cli.api_port,
        api_ssl_port: cli.api_ssl_port,
        api_limits: routeros_sim::api::ApiLimits::default(),
        control_address: SocketAddr::from((Ipv4Addr::LOCALHOST, cli.control_port)),
        time_scale: cli.time_scale,
        faults,
        username: cli.username.clone(),
        password: cli.password.clone(),
        key_seed: cli.key_seed,
    };
    let started = Instant::now();
    let fleet = Fleet::start(opts).await.context("starting the fleet")?;
    let elapsed = started.elapsed();
    let manifest = fleet.manifest();
    if let Some(path) = &cli.manifest {
        write_manifest(path, &manifest)?;
    }
    eprintln!(
        "routeros-sim: {} device(s) listening (started in {:.2?}); control API at {}{}",
        manifest.devices.len(),
        elapsed,
        manifest.control_url,
        cli.manifest
            .as_ref()
            .map(|p| format!("; manifest at {}", p.display()))
            .unwrap_or_default()
    );
    wait_for_signal().await?;
    fleet.shutdown().await;
    Ok(())
}
