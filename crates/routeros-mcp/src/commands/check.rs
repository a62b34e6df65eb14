//! `routeros-mcp check` and `routeros-mcp preflight`: the startup validation, run on demand,
//! changing nothing.
//!
//! Each check reports ok, warn or FAIL with one line saying what it found and, on failure, what
//! to do. Checks that depend on an earlier failed one are reported as skipped. Both run the
//! same checks — configuration, tool catalog, database, migrations, master key, the transport's
//! bind and authentication, devices — and differ where the moment differs:
//! - `check` is run beside a server that may be running: a port in use is a warning, and it
//!   walks the whole audit chain.
//! - `preflight` is run just before the server starts (`ExecStartPre=`): a port in use fails, as
//!   the server would; the audit chain is left to `check` and `audit verify`, so a long log does
//!   not slow every start.
//!
//! A new database (nothing migrated yet) is not a problem: the server migrates it at start, it
//! holds no credentials to open and its audit chain is empty.

use std::time::Duration;

use anyhow::Result;
use serde_json::json;
use settings::Transport;
use store::Store;
use vault::{KeyRequest, LoadedKey, VaultError};

use crate::VerificationFailed;
use crate::cli::{Output, OutputArgs};
use crate::context::Context;
use crate::output;

/// Which command runs the checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Check,
    Preflight,
}

/// Devices probed, and how long each may take to answer (as `/ready` does).
const DEVICES_PROBED: usize = 5;
const DEVICE_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum Level {
    Ok,
    Warn,
    Fail,
    Skipped,
}

impl Level {
    fn label(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
            Level::Skipped => "skipped",
        }
    }
}

#[derive(Debug, serde::Serialize)]
struct Finding {
    check: &'static str,
    level: Level,
    detail: String,
}

#[derive(Debug, Default)]
struct Findings(Vec<Finding>);

impl Findings {
    fn add(&mut self, check: &'static str, level: Level, detail: impl Into<String>) {
        self.0.push(Finding {
            check,
            level,
            detail: detail.into(),
        });
    }
}

pub async fn run(
    ctx: &Context,
    args: OutputArgs,
    mode: Mode,
    transport: Option<Transport>,
) -> Result<()> {
    let mut f = Findings::default();
    let s = ctx.settings();
    f.add(
        "configuration",
        Level::Ok,
        format!(
            "environment {}, {}",
            s.environment,
            ctx.loaded.config_file.as_ref().map_or(
                "no configuration file".to_owned(),
                |p| format!("file {}", p.display())
            )
        ),
    );
    for w in &ctx.loaded.warnings {
        f.add("configuration", Level::Warn, w.clone());
    }
    check_catalog(ctx, &mut f);
    check_runbooks(ctx, &mut f);
    check_transport(ctx, transport.unwrap_or(s.transport), mode, &mut f).await;
    check_webhook(ctx, &mut f);

    let store = match ctx.open_store().await {
        Ok(store) => {
            f.add(
                "database",
                Level::Ok,
                format!("{} reachable", s.database.redacted()),
            );
            Some(store)
        }
        Err(e) => {
            f.add("database", Level::Fail, format!("{e:#}"));
            None
        }
    };
    match &store {
        Some(store) => {
            let new = check_migrations(store, &mut f).await;
            let key = check_key(ctx, store, new, &mut f).await;
            match key {
                _ if new => f.add("devices", Level::Warn, "none registered (a new database)"),
                Some(key) => check_devices(ctx, store, key, &mut f).await,
                None => f.add("devices", Level::Skipped, "needs the master key"),
            }
            match store.verify_audit_chain().await {
                _ if mode == Mode::Preflight => f.add(
                    "audit chain",
                    Level::Skipped,
                    "not walked before every start; `routeros-mcp check` or `audit verify` does",
                ),
                _ if new => f.add("audit chain", Level::Ok, "empty (a new database)"),
                Ok(r) if r.is_intact() => f.add(
                    "audit chain",
                    Level::Ok,
                    format!("{} events intact", r.events_checked),
                ),
                Ok(r) => {
                    let b = r.first_break.unwrap_or(store::ChainBreak {
                        seq: 0,
                        reason: String::new(),
                    });
                    f.add(
                        "audit chain",
                        Level::Fail,
                        format!("broken at event #{}: {}", b.seq, b.reason),
                    );
                }
                Err(e) => f.add("audit chain", Level::Fail, e.to_string()),
            }
        }
        None => {
            for check in ["migrations", "master key", "devices", "audit chain"] {
                f.add(check, Level::Skipped, "needs the database");
            }
        }
    }
    if let Some(store) = store {
        store.close().await;
    }

    match args.output {
        Output::Json => output::print_record(Output::Json, vec![], &json!(f.0))?,
        Output::Table => {
            for finding in &f.0 {
                println!(
                    "{:>7}  {:<14} {}",
                    finding.level.label(),
                    finding.check,
                    finding.detail
                );
            }
        }
    }
    let failures = f.0.iter().filter(|x| x.level == Level::Fail).count();
    if failures > 0 {
        return Err(VerificationFailed(format!("{failures} check(s) failed")).into());
    }
    Ok(())
}

/// Reports the migrations; returns whether the database is new (nothing applied yet).
async fn check_migrations(store: &Store, f: &mut Findings) -> bool {
    let known = store.known_migrations();
    match store.applied_migrations().await {
        Ok(applied) if applied.is_empty() => {
            f.add(
                "migrations",
                Level::Warn,
                format!(
                    "a new database: {} migrations to apply, at startup or by `routeros-mcp migrate`",
                    known.len()
                ),
            );
            true
        }
        Ok(applied) => {
            let unknown: Vec<_> = applied.iter().filter(|m| !known.contains(m)).collect();
            let pending = known.iter().filter(|m| !applied.contains(m)).count();
            if !unknown.is_empty() {
                f.add(
                    "migrations",
                    Level::Fail,
                    format!(
                        "the database has migration {} that this release does not know: it was \
                         migrated by a newer release",
                        unknown[0].0
                    ),
                );
            } else if pending > 0 {
                f.add(
                    "migrations",
                    Level::Warn,
                    format!("{pending} pending; applied at startup or by `routeros-mcp migrate`"),
                );
            } else {
                f.add(
                    "migrations",
                    Level::Ok,
                    format!("up to date at {}", applied.last().map_or(0, |m| m.0)),
                );
            }
            false
        }
        Err(e) => {
            f.add("migrations", Level::Fail, e.to_string());
            false
        }
    }
}

/// Reports the master key; returns it when it loads (and opens what the database holds).
async fn check_key(
    ctx: &Context,
    store: &Store,
    new_database: bool,
    f: &mut Findings,
) -> Option<LoadedKey> {
    let s = ctx.settings();
    let request = KeyRequest {
        inline: s.vault.master_key.as_ref(),
        file: s.vault.master_key_file.as_deref(),
        data_dir: &s.data_dir,
        generate_if_missing: false,
    };
    let lab_file = s.data_dir.join(vault::GENERATED_KEY_FILE);
    let loaded = match request.load() {
        Ok(k) => Ok(k),
        // In lab the generated key lives in the data dir; check reads it without creating one.
        Err(VaultError::Missing) if s.may_generate_master_key() && lab_file.exists() => {
            vault::MasterKey::read_file(&lab_file).map(|(key, file_status)| vault::LoadedKey {
                key,
                origin: vault::KeyOrigin::DataDir(lab_file.clone()),
                file_status,
            })
        }
        Err(e) => Err(e),
    };
    let verified = match &loaded {
        Ok(_) if new_database => Ok(0),
        Ok(key) => store.verify_master_key(&key.key).await,
        Err(_) => Ok(0),
    };
    match loaded {
        Ok(key) => match verified {
            Ok(n) => {
                f.add(
                    "master key",
                    Level::Ok,
                    format!(
                        "key {} from {} opens all {n} stored credentials",
                        key.key.id(),
                        key.origin
                    ),
                );
                if let Some(exposure) = key.exposure() {
                    match s.environment {
                        domain::Environment::Lab => f.add("master key", Level::Warn, exposure),
                        domain::Environment::Staging | domain::Environment::Prod => {
                            f.add(
                                "master key",
                                Level::Fail,
                                format!(
                                    "{exposure} (MCP_ENV={} refuses a master key others can read)",
                                    s.environment
                                ),
                            );
                            return None;
                        }
                    }
                }
                Some(key)
            }
            Err(e) => {
                f.add("master key", Level::Fail, e.to_string());
                None
            }
        },
        Err(VaultError::Missing) if s.may_generate_master_key() => {
            f.add(
                "master key",
                Level::Warn,
                "none yet; lab generates one on first use",
            );
            None
        }
        Err(e) => {
            f.add("master key", Level::Fail, e.to_string());
            None
        }
    }
}

/// The embedded tool catalog against the handlers, and the tool settings against the catalog.
/// `ROUTEROS_MCP_WEBHOOK_URL` as `serve` checks it (nothing is sent); only its host is shown.
fn check_webhook(ctx: &Context, f: &mut Findings) {
    match server::setup::webhook_endpoint(ctx.settings()) {
        Ok(None) => f.add(
            "webhook",
            Level::Ok,
            "off: ROUTEROS_MCP_WEBHOOK_URL is unset, nobody is notified",
        ),
        Ok(Some(endpoint)) => f.add(
            "webhook",
            Level::Ok,
            format!(
                "plans waiting for approval and their outcome are posted to {}",
                endpoint.host()
            ),
        ),
        Err(e) => f.add("webhook", Level::Fail, e.to_string()),
    }
}

fn check_catalog(ctx: &Context, f: &mut Findings) {
    let catalog = match catalog::Catalog::embedded() {
        Ok(c) => c,
        Err(e) => {
            f.add("tool catalog", Level::Fail, e.to_string());
            return;
        }
    };
    let handlers = tools::handlers().into_iter().map(|h| (h.name, h)).collect();
    if let Err(e) = mcp_server::check_one_to_one(&catalog, &handlers) {
        f.add("tool catalog", Level::Fail, e);
        return;
    }
    let policy = server::setup::policy(ctx.settings(), false);
    match policy.check(&catalog) {
        Ok(()) => f.add(
            "tool catalog",
            Level::Ok,
            format!(
                "{} tools, {} offered with these settings",
                catalog.len(),
                policy.visible(&catalog).len()
            ),
        ),
        Err(e) => f.add("tool catalog", Level::Fail, e),
    }
}

/// The runbooks the server would offer: the built-ins and the operator's folder (a file that
/// does not load is a warning: the others load), and `env.yaml`, which must load.
fn check_runbooks(ctx: &Context, f: &mut Findings) {
    let catalog = match catalog::Catalog::embedded() {
        Ok(c) => std::sync::Arc::new(c),
        Err(_) => {
            f.add("runbooks", Level::Skipped, "needs the tool catalog");
            return;
        }
    };
    match server::setup::runbooks(ctx.settings(), catalog, None) {
        Ok(runbooks) => runbooks.with(|index| {
            let loaded = index.len();
            match index.problems() {
                [] => f.add("runbooks", Level::Ok, format!("{loaded} loaded")),
                problems => {
                    // The first problem of each file (up to three files).
                    let mut files: Vec<&str> = Vec::new();
                    let mut shown = Vec::new();
                    for p in problems {
                        if !files.contains(&p.file.as_str()) {
                            files.push(&p.file);
                            if shown.len() < 3 {
                                shown.push(p.to_string());
                            }
                        }
                    }
                    f.add(
                        "runbooks",
                        Level::Warn,
                        format!(
                            "{loaded} loaded; {} file(s) not loaded ({} problem(s); runbook.list shows each): {}",
                            files.len(),
                            problems.len(),
                            shown.join("; ")
                        ),
                    );
                }
            }
        }),
        Err(e) => f.add("runbooks", Level::Fail, format!("{e:#}")),
    }
}

/// The HTTP transport's bind and authentication, when the transport serves HTTP.
async fn check_transport(ctx: &Context, transport: Transport, mode: Mode, f: &mut Findings) {
    let s = ctx.settings();
    if transport == Transport::Stdio {
        f.add("transport", Level::Ok, "stdio");
        return;
    }
    let addr = format!("{}:{}", s.http.host, s.http.port);
    match tokio::net::TcpListener::bind(&addr).await {
        Ok(listener) => {
            drop(listener);
            f.add(
                "transport",
                Level::Ok,
                format!("HTTP on {addr}{} can be bound", s.http.base_path),
            );
        }
        Err(e) => {
            let level = match mode {
                Mode::Check if e.kind() == std::io::ErrorKind::AddrInUse => Level::Warn,
                Mode::Check | Mode::Preflight => Level::Fail,
            };
            let hint = match level {
                Level::Warn => " (a running server holds it?)",
                Level::Ok | Level::Fail | Level::Skipped => " (MCP_HTTP_HOST/MCP_HTTP_PORT)",
            };
            f.add(
                "transport",
                level,
                format!("cannot bind HTTP on {addr}: {e}{hint}"),
            );
        }
    }
    match server::check_http_authentication(s).await {
        Ok(found) => f.add("authentication", Level::Ok, found),
        Err(e) => f.add("authentication", Level::Fail, format!("{e:#}")),
    }
}

/// Up to five active devices asked for their identity, as `/ready` does; none answering is a
/// warning (the server starts and serves what answers later).
async fn check_devices(ctx: &Context, store: &Store, key: LoadedKey, f: &mut Findings) {
    let devices = match store
        .list_devices(&store::DeviceFilter {
            status: Some(domain::DeviceStatus::Active),
            ..store::DeviceFilter::default()
        })
        .await
    {
        Ok(d) => d,
        Err(e) => {
            f.add("devices", Level::Fail, e.to_string());
            return;
        }
    };
    if devices.is_empty() {
        f.add("devices", Level::Warn, "none registered");
        return;
    }
    let fleet = ctx.fleet_with(store.clone(), key.key, None);
    let answered = fleet
        .answering(
            &devices[..devices.len().min(DEVICES_PROBED)],
            DEVICE_TIMEOUT,
        )
        .await;
    let asked = devices.len().min(DEVICES_PROBED);
    let level = if answered == 0 {
        Level::Warn
    } else {
        Level::Ok
    };
    f.add(
        "devices",
        level,
        format!(
            "{answered} of the {asked} asked answered ({} active registered)",
            devices.len()
        ),
    );
}
