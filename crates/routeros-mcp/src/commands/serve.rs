//! `routeros-mcp serve`: validate everything, then serve MCP until told to stop.
//!
//! Shutdown sequence (SIGTERM, SIGINT, or the stdio client closing): cancel the root token (the
//! HTTP listener stops accepting, sessions end), wait up to 30 s for tool calls in flight, wait
//! up to 30 s for the queued audit records (tool calls) to be committed, close the database
//! pool, exit 0.

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context as _, Result, bail};
use catalog::Catalog;
use mcp_server::{App, AppConfig};
use settings::{AuthMode, Transport};
use store::AuditContext;
use tokio::net::TcpListener;

use crate::UsageError;
use crate::cli::{ServeArgs, TransportArg};
use crate::commands::catalog::policy;
use crate::context::Context;

/// Grace period for calls in flight at shutdown.
const DRAIN: Duration = Duration::from_secs(30);

/// What `serve --demo` says in a build without the simulator.
pub const NO_DEMO: &str = "this build has no simulator: rebuild with the default `demo` feature \
     (cargo build -p routeros-mcp --features demo) to use `serve --demo`";

pub async fn run(ctx: &Context, args: ServeArgs) -> Result<()> {
    if args.demo && !cfg!(feature = "demo") {
        return Err(UsageError(NO_DEMO.into()).into());
    }
    let s = ctx.settings();
    let transport = match args.transport {
        Some(TransportArg::Stdio) => Transport::Stdio,
        Some(TransportArg::Http) => Transport::Http,
        Some(TransportArg::Both) => Transport::Both,
        None => s.transport,
    };
    let serves_http = matches!(transport, Transport::Http | Transport::Both);
    // Configuration checks this for MCP_TRANSPORT; `--transport` must not slip past it.
    let loopback = s
        .http
        .host
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
        || s.http.host == "localhost";
    if serves_http && s.auth_mode == AuthMode::None && !loopback {
        return Err(UsageError(format!(
            "MCP_AUTH_MODE=none is only allowed when the HTTP transport binds a loopback address, \
             but MCP_HTTP_HOST is {}; bind 127.0.0.1 (or use the stdio transport)",
            s.http.host
        ))
        .into());
    }

    // Bind before anything else so a busy port is reported first and plainly.
    let listener = if serves_http {
        let addr = format!("{}:{}", s.http.host, s.http.port);
        Some(TcpListener::bind(&addr).await.map_err(|e| {
            UsageError(format!(
                "cannot bind the HTTP transport on {addr} (MCP_HTTP_HOST/MCP_HTTP_PORT): {e}"
            ))
        })?)
    } else {
        None
    };

    let catalog = Arc::new(Catalog::embedded()?);
    let registry = prometheus::Registry::new();
    let driver_metrics = routeros::Metrics::register(&registry)?;

    let mut demo = None;
    let fleet = if args.demo {
        let (fleet, running) = demo::start(ctx, driver_metrics).await?;
        demo = Some(running);
        fleet
    } else {
        let store = ctx.store().await?;
        let key = ctx.master_key()?;
        ctx.fleet_with(store, key.key, Some(driver_metrics))
    };

    let config = AppConfig {
        name: s.server.name.clone(),
        version: s.server.version.clone(),
        description: s.server.description.clone(),
        policy: policy(ctx, args.read_only),
        budget: tools::Budget {
            warning: s.token_budget.warning_threshold,
            error: s.token_budget.error_threshold,
        },
        resources: s.features.resources,
        prompts: s.features.prompts,
        tools: s.features.tools,
        stdio_role: role(s.auth.stdio_role),
    };
    let workflow = ctx.workflow(&fleet, Some(workflow::Metrics::register(&registry)?));
    // Plans an earlier process left half-applied are resolved before any call is taken.
    let recovered = workflow
        .recover(&store::AuditContext::new("server:recovery"))
        .await
        .context("recovering interrupted plan applies")?;
    for r in &recovered {
        let what = if r.status == workflow::PlanStatus::Applying {
            "did not recover plan"
        } else {
            "recovered plan"
        };
        eprintln!(
            "{what} {}: {} — {}",
            r.plan_id,
            r.status,
            domain::text::escape(&r.message)
        );
    }
    // Each call gets this context with its caller's access; as built it reaches nothing.
    let tool_ctx = Arc::new(tools::ToolContext::new(fleet.clone(), workflow, 32));
    let reconciling = tool_ctx.workflow.clone();
    let app = App::new(config, catalog, tool_ctx, registry).context("building the MCP server")?;
    spawn_signal_handler(Arc::clone(&app));
    spawn_reconciler(reconciling, app.shutdown.clone());

    let http_task = match listener {
        Some(listener) => {
            let addr: SocketAddr = listener.local_addr()?;
            eprintln!(
                "serving MCP over Streamable HTTP at http://{addr}{} (health /health, readiness /ready, metrics /metrics)",
                s.http.base_path
            );
            let resource = s.http.public_url.clone().unwrap_or_else(|| {
                format!("http://{addr}{}", s.http.base_path.trim_end_matches('/'))
            });
            let auth = authenticator(s, &app, fleet.store().clone(), resource).await?;
            let app = Arc::clone(&app);
            let options = mcp_server::http::HttpOptions {
                base_path: s.http.base_path.clone(),
                allowed_origins: s.http.allowed_origins.clone(),
                max_sessions: s.http.max_sessions,
                session_idle: s.http.session_idle,
                header_timeout: s.http.header_timeout,
                public_url: s.http.public_url.clone(),
                auth: Arc::new(auth),
            };
            Some(tokio::spawn(async move {
                mcp_server::http::serve(app, listener, options).await
            }))
        }
        None => None,
    };
    if matches!(transport, Transport::Stdio | Transport::Both) {
        if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
            eprintln!(
                "serving MCP on stdio: an MCP client starts this command and speaks JSON-RPC on \
                 its stdin (see docs/mcp.md). To try it by hand, run `routeros-mcp serve --demo \
                 --transport http` and open the MCP Inspector. Ctrl-C stops."
            );
        }
        if let Err(e) = mcp_server::stdio::serve(Arc::clone(&app)).await {
            tracing::warn!(error = %e, "stdio session ended with an error");
        }
        // The stdio client left; with HTTP also running, keep serving it until a signal.
        if transport == Transport::Stdio {
            app.shutdown.cancel();
        }
    }
    if let Some(task) = http_task {
        match task.await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => bail!("HTTP transport failed: {e}"),
            Err(e) => bail!("HTTP transport task failed: {e}"),
        }
    }
    app.calls.close();
    if tokio::time::timeout(DRAIN, app.calls.wait()).await.is_err() {
        tracing::warn!(
            "tool calls still running after {} s; exiting anyway",
            DRAIN.as_secs()
        );
    }
    // Tool-call records are group-committed: write what is still queued before the pool closes.
    match tokio::time::timeout(DRAIN, fleet.store().audit_queue().flush()).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => tracing::error!(error = %e, "queued audit records were not written"),
        Err(_) => tracing::error!(
            "queued audit records still not written after {} s (is the database reachable?); exiting anyway",
            DRAIN.as_secs()
        ),
    }
    fleet.store().close().await;
    if let Some(running) = demo {
        running.shutdown().await;
    }
    Ok(())
}

/// The role a settings value names.
fn role(local: settings::LocalRole) -> auth::Role {
    match local {
        settings::LocalRole::Viewer => auth::Role::Viewer,
        settings::LocalRole::Operator => auth::Role::Operator,
        settings::LocalRole::Approver => auth::Role::Approver,
        settings::LocalRole::Admin => auth::Role::Admin,
    }
}

/// The HTTP transport's authentication, as configured. With `oidc`, the identity provider is
/// discovered now: a provider that cannot be reached or does not check out stops startup.
async fn authenticator(
    s: &settings::Settings,
    app: &App,
    store: store::Store,
    resource: String,
) -> Result<mcp_server::http::authn::Authenticator> {
    use mcp_server::http::authn::{Authenticator, Mode};
    let mode = match s.auth_mode {
        AuthMode::None => Mode::None,
        AuthMode::Token => Mode::Token,
        AuthMode::Oidc => {
            let issuer = s
                .oidc
                .issuer
                .as_deref()
                .ok_or_else(|| UsageError("MCP_AUTH_MODE=oidc needs OIDC_ISSUER".into()))?;
            let issuer = auth::Url::parse(issuer)
                .map_err(|e| UsageError(format!("OIDC_ISSUER is not a URL: {e}")))?;
            let audience = s.oidc.audience.clone().unwrap_or_else(|| resource.clone());
            let mut config = auth::OidcConfig::new(issuer, audience);
            config.roles_claim = s.oidc.roles_claim.clone();
            let validator = auth::OidcValidator::discover(config)
                .await
                .context("OIDC_ISSUER: discovering the identity provider")?;
            Mode::Oidc {
                validator: Box::new(validator),
                allow_api_tokens: s.auth.allow_api_tokens,
            }
        }
    };
    let cf_access = match &s.auth.cf_access {
        Some((team, aud)) => Some(
            auth::CfAccessValidator::new(team.clone(), aud.clone())
                .context("CF_ACCESS_TEAM_DOMAIN/CF_ACCESS_AUD")?
                .with_roles_claim(s.oidc.roles_claim.clone()),
        ),
        None => None,
    };
    Ok(Authenticator::new(
        mode,
        cf_access,
        role(s.auth.stdio_role),
        store,
        app.metrics.auth_failures.clone(),
        resource,
    ))
}

/// How often plans left `failed` by a silent router are looked at again.
const RECONCILE_EVERY: Duration = Duration::from_secs(60);

/// Records the final state of routers that stopped answering during a rollback, once they
/// answer again (their auto-revert restored them meanwhile): at start, then every minute.
fn spawn_reconciler(workflow: workflow::Workflow, shutdown: tokio_util::sync::CancellationToken) {
    tokio::spawn(async move {
        let ctx = AuditContext::new("server:reconcile");
        loop {
            match workflow.reconcile(&ctx).await {
                Ok(reports) => {
                    for r in reports {
                        tracing::info!(plan = %r.plan_id, status = %r.status, devices = ?r.devices, "plan reconciled");
                    }
                }
                Err(e) => tracing::warn!(error = %e, "reconciling failed plans"),
            }
            tokio::select! {
                () = shutdown.cancelled() => break,
                () = tokio::time::sleep(RECONCILE_EVERY) => {}
            }
        }
    });
}

fn spawn_signal_handler(app: Arc<App>) {
    tokio::spawn(async move {
        let terminate = async {
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(mut s) => {
                    s.recv().await;
                }
                Err(_) => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {},
            () = terminate => {},
            () = app.shutdown.cancelled() => return,
        }
        eprintln!(
            "shutting down: no new requests; waiting up to {} s for calls in flight",
            DRAIN.as_secs()
        );
        app.shutdown.cancel();
    });
}

/// `serve --demo`: three simulated routers in-process (builds with the `demo` feature, the
/// default; the simulator is linked only then).
#[cfg(feature = "demo")]
mod demo {
    use anyhow::{Context as _, Result};
    use domain::{DeviceId, DriverPreference, Environment, ProjectRef};
    use store::{AuditContext, NewDevice, Store, Target};
    use vault::{MasterKey, SecretString};

    use crate::context::Context;

    /// What the demo keeps alive while serving.
    pub(super) struct Demo {
        fleet: routeros_sim::Fleet,
        _dir: tempfile::TempDir,
    }

    impl Demo {
        pub(super) async fn shutdown(self) {
            self.fleet.shutdown().await;
        }
    }

    /// Three simulated routers registered in a temporary database.
    pub(super) async fn start(
        ctx: &Context,
        metrics: routeros::Metrics,
    ) -> Result<(fleet::Fleet, Demo)> {
        use routeros_sim::profiles::Profile;
        let sims = routeros_sim::Fleet::start(routeros_sim::FleetOptions {
            count: 3,
            profiles: vec![Profile::Home, Profile::Switch48, Profile::Edge],
            seed: 1,
            base_address: std::net::Ipv4Addr::new(127, 77, 0, 1),
            ..routeros_sim::FleetOptions::default()
        })
        .await
        .context("starting the simulated routers")?;
        let dir = tempfile::Builder::new()
            .prefix("routeros-mcp-demo-")
            .tempdir()?;
        let store =
            Store::open_and_migrate(&Target::Sqlite(dir.path().join("demo.sqlite")), 4).await?;
        let fleet = ctx.fleet_with(store, MasterKey::generate()?, Some(metrics));
        let audit = AuditContext::new("demo");
        let names = ["home-router", "core-switch", "edge-firewall"];
        for (m, name) in sims.manifest().devices.iter().zip(names) {
            let new = NewDevice {
                id: DeviceId::new(),
                project: ProjectRef::default(),
                name: name.parse()?,
                address: m.address.parse()?,
                rest_port: i64::from(m.https_port).try_into()?,
                ssh_port: i64::from(m.ssh_port).try_into()?,
                http_port: None,
                insecure_http: false,
                driver: DriverPreference::Auto,
                environment: Environment::Lab,
                tags: vec![format!("profile={}", m.profile).parse()?],
                username: m.username.clone(),
                password: SecretString::from(m.password.clone()),
                tls_cert_sha256: Some(
                    routeros::Fingerprint::parse(&m.tls_sha256)
                        .map_err(anyhow::Error::msg)?
                        .hex(),
                ),
                ssh_host_key_sha256: Some(
                    routeros::Fingerprint::parse(&m.ssh_host_key_sha256)
                        .map_err(anyhow::Error::msg)?
                        .hex(),
                ),
                facts: None,
            };
            fleet
                .onboard(new, fleet::TrustMode::Registry, &audit)
                .await
                .map_err(|e| {
                    anyhow::anyhow!("registering the simulated router {name}: {}", e.reason)
                })?;
            eprintln!("demo: {name} ({} profile) at {}", m.profile, m.address);
        }
        eprintln!(
            "demo: three simulated routers registered in a temporary database ({}); it is deleted on exit",
            dir.path().display()
        );
        Ok((
            fleet,
            Demo {
                fleet: sims,
                _dir: dir,
            },
        ))
    }
}

/// A build without the simulator: `serve --demo` is refused before anything starts.
#[cfg(not(feature = "demo"))]
mod demo {
    use anyhow::Result;

    use crate::UsageError;
    use crate::context::Context;

    /// Never exists in this build.
    pub(super) enum Demo {}

    impl Demo {
        pub(super) async fn shutdown(self) {
            match self {}
        }
    }

    pub(super) async fn start(
        _ctx: &Context,
        _metrics: routeros::Metrics,
    ) -> Result<(fleet::Fleet, Demo)> {
        Err(UsageError(super::NO_DEMO.into()).into())
    }
}

#[cfg(all(test, not(feature = "demo")))]
mod tests {
    #[test]
    fn a_build_without_the_simulator_says_how_to_get_the_demo() {
        assert!(super::NO_DEMO.contains("this build has no simulator"));
        assert!(super::NO_DEMO.contains("`demo` feature"));
    }
}
