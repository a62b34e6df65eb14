//! The service as a value: [`App::build`] validates everything and binds, [`App::run_until`]
//! serves MCP (stdio, Streamable HTTP or both) with its background work until told to stop, then
//! drains. The binary only parses the command line, sets up logging, turns signals into the
//! futures and reloads this crate takes, and maps errors to exit statuses.
//!
//! Shutdown sequence, when the future given to [`App::run_until`] completes (the binary: SIGTERM
//! or SIGINT), or the stdio client closes its end when only stdio is served:
//!
//! 1. `STOPPING=1` to systemd; [`mcp_server::App::stopping`] is cancelled: the HTTP listener
//!    closes, every HTTP connection closes once its request in flight is answered, the fleet
//!    jobs (the plan reconciler) claim nothing more. Calls in flight go on, and their answers
//!    reach their clients (over stdio too: the session stays open meanwhile).
//! 2. Up to `MCP_SHUTDOWN_GRACE_SECONDS` (default 30) for the tool calls in flight to finish
//!    and their answers to be sent (admin API writes are waited for the same way). A
//!    plan being applied is one of them: it runs to its end (applied, or rolled back). If the
//!    grace period runs out first, the process exits with the apply where it is; its
//!    write-ahead journal is there, and the next start resolves the plan before taking a call.
//! 3. [`mcp_server::App::shutdown`] is cancelled: sessions end, the transports return. Fleet
//!    jobs had 10 s from step 1 to end; those still running are stopped and their leases given
//!    back, so another instance on the same database takes them at once.
//! 4. The queued webhook notifications are delivered (up to 10 s; what is left is given up and
//!    logged), the queued audit records (tool calls) are written (up to 30 s), the database
//!    pool is closed, the demo's simulated routers (if any) are stopped. `run_until` returns
//!    `Ok`.
//!
//! systemd: see [`notify`]. Configuration reload: see [`reload`].

pub mod backups;
pub mod notify;
pub mod reload;
pub mod setup;

mod demo;

use std::future::Future;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use catalog::Catalog;
use settings::{AuthMode, Loaded, Settings, Transport};
use store::AuditContext;
use tokio::net::TcpListener;

pub use notify::Notifier;
pub use reload::{Callback, ReloadOutcome, Reloadable, Reloader};

/// The `tracing` target of notices: lines an operator should see whatever the log level (the
/// address served, a migration applied, a plan recovered, a reload). Text logs print them as
/// plain lines; JSON logs as records like any other.
pub const NOTICE: &str = "notice";

/// What `serve --demo` says in a build without the simulator.
pub const NO_DEMO: &str = "this build has no simulator: rebuild with the default `demo` feature \
     (cargo build -p routeros-mcp --features demo) to use `serve --demo`";

/// How long queued audit records may take to be written at shutdown.
const AUDIT_FLUSH: Duration = Duration::from_secs(30);

/// How long queued webhook notifications may take to be delivered at shutdown (a receiver that
/// is down would otherwise hold the exit for every retry of every queued event).
pub const WEBHOOK_FLUSH: Duration = Duration::from_secs(10);

/// How often plans left `failed` by a silent router are looked at again.
const RECONCILE_EVERY: Duration = Duration::from_secs(60);

/// The fleet job kind of the plan reconciler (one job, `plans`, so one instance at a time).
pub const RECONCILE_JOB: &str = "reconcile";

/// Why the service cannot be built or did not stop cleanly.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServerError {
    /// What the operator asked for is not possible as asked (a setting, a flag, a busy port).
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Settings(#[from] settings::SettingsError),
    #[error("database {target}")]
    Database {
        target: String,
        #[source]
        source: store::StoreError,
    },
    #[error("applying database migrations")]
    Migrations(#[source] store::StoreError),
    #[error(transparent)]
    Store(store::StoreError),
    #[error("{0}")]
    MasterKey(String),
    #[error(transparent)]
    Vault(#[from] vault::VaultError),
    #[error(transparent)]
    Catalog(#[from] catalog::CatalogError),
    #[error("building the MCP server")]
    Mcp(#[from] mcp_server::AppError),
    #[error("recovering interrupted plan applies")]
    Recovery(#[source] workflow::WorkflowError),
    #[error("metrics")]
    Metrics(#[from] prometheus::Error),
    #[error(transparent)]
    Webhook(#[from] webhook::StartError),
    #[error("HTTP transport failed")]
    Http(#[source] std::io::Error),
    #[error("HTTP transport task failed: {0}")]
    Task(String),
    #[error("{0}")]
    Demo(String),
    /// HTTP authentication could not be set up (an identity provider that cannot be reached or
    /// does not check out, a Cloudflare Access setting that does not parse).
    #[error("{what}")]
    Auth {
        what: String,
        #[source]
        source: auth::AuthError,
    },
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
}

/// How to serve, beyond the settings (the `serve` command's flags).
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Transport instead of `MCP_TRANSPORT`.
    pub transport: Option<Transport>,
    /// Only read-only tools, whatever the settings say.
    pub read_only: bool,
    /// Three simulated routers in a temporary database instead of the registry.
    pub demo: bool,
}

/// The service, validated and bound, not yet serving.
pub struct App {
    transport: Transport,
    listener: Option<TcpListener>,
    /// With the listener: how the HTTP transport serves (authentication among it).
    http: Option<mcp_server::http::HttpOptions>,
    mcp: Arc<mcp_server::App>,
    demo: Option<demo::Demo>,
    grace: Arc<Mutex<Duration>>,
    notifier: Notifier,
    reloader: Reloader,
    /// Notifications to `ROUTEROS_MCP_WEBHOOK_URL`, delivered by a task of their own.
    webhook: Option<webhook::Delivery>,
    /// Background work shared with the other instances on the database (the reconciler).
    jobs: jobs::Runner,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("transport", &self.transport)
            .field("http", &self.http_addr())
            .field("mcp", &self.mcp)
            .field("notifier", &self.notifier)
            .finish_non_exhaustive()
    }
}

impl App {
    /// Validates the settings and the invocation, binds the HTTP transport (first, so a busy
    /// port is reported plainly), opens and migrates the store, loads the master key, builds the
    /// fleet, the workflow and the MCP layer, and resolves plans an earlier process left
    /// half-applied. Nothing is served yet.
    pub async fn build(loaded: Loaded, options: Options) -> Result<Self, ServerError> {
        Self::build_with(loaded, options, Notifier::from_env()).await
    }

    /// [`App::build`] with a given systemd notifier.
    pub async fn build_with(
        loaded: Loaded,
        options: Options,
        notifier: Notifier,
    ) -> Result<Self, ServerError> {
        if options.demo && !cfg!(feature = "demo") {
            return Err(ServerError::Usage(NO_DEMO.into()));
        }
        let s = &loaded.settings;
        let transport = options.transport.unwrap_or(s.transport);
        let serves_http = matches!(transport, Transport::Http | Transport::Both);
        check_http_auth(s, serves_http)?;
        setup::webhook_endpoint(s)?;

        let listener = if serves_http {
            let addr = format!("{}:{}", s.http.host, s.http.port);
            Some(TcpListener::bind(&addr).await.map_err(|e| {
                ServerError::Usage(format!(
                    "cannot bind the HTTP transport on {addr} (MCP_HTTP_HOST/MCP_HTTP_PORT): {e}"
                ))
            })?)
        } else {
            None
        };

        let catalog = Arc::new(Catalog::embedded()?);
        let registry = prometheus::Registry::new();
        let driver_metrics = routeros::Metrics::register(&registry)?;
        let connections = setup::connections(s, Some(driver_metrics));
        let webhook = setup::webhook(s, Some(&registry))?;
        if let Some((to, _)) = &webhook {
            tracing::info!(
                target: NOTICE,
                "notifying the webhook at {} when a plan waits for approval, is decided and ends",
                to.host()
            );
        }
        let (webhook_notifier, webhook) = webhook.unzip();
        let review_notice = webhook_notifier.clone();

        let (fleet, demo) = if options.demo {
            let (fleet, running) = demo::start(s, Arc::clone(&connections)).await?;
            (fleet, Some(running))
        } else {
            let store = setup::store(s).await?;
            let key = setup::master_key(s)?;
            (setup::fleet(store, key.key, Arc::clone(&connections)), None)
        };

        let backups =
            backup::Backups::new(fleet.clone(), backups::options(s)).with_metrics(&registry)?;
        let workflow = workflow::Workflow::new(
            fleet.clone(),
            fleet.master_key(),
            workflow::WorkflowConfig {
                notifier: webhook_notifier,
                after_apply: Some(backups::after_apply(backups.clone())),
                ..setup::workflow_config(s)
            },
            Some(workflow::Metrics::register(&registry)?),
        );
        // Plans an earlier process left half-applied are resolved before any call is taken.
        let recovered = workflow
            .recover(&AuditContext::new("server:recovery"))
            .await
            .map_err(ServerError::Recovery)?;
        for r in &recovered {
            let what = if r.status == workflow::PlanStatus::Applying {
                "did not recover plan"
            } else {
                "recovered plan"
            };
            tracing::info!(
                target: NOTICE,
                plan = %r.plan_id,
                "{what} {}: {} — {}",
                r.plan_id,
                r.status,
                domain::text::escape(&r.message)
            );
        }
        // Each call gets this context with its caller's access; as built it reaches nothing.
        let runbooks = setup::runbooks(s, Arc::clone(&catalog), Some(&registry))?;
        if let Some(notifier) = review_notice {
            runbooks.set_notice(Arc::new(ReviewsToWebhook(notifier)));
        }
        let log_store = fleet.store().clone();
        let jobs = fleet_jobs(
            log_store.clone(),
            workflow.clone(),
            backups.clone(),
            s.backup.interval,
            &registry,
        )?;
        let tool_ctx = Arc::new(
            tools::ToolContext::new(fleet, workflow.clone(), 32)
                .with_runbooks(runbooks)
                .with_backups(backups.clone()),
        );
        let mcp = mcp_server::App::new(
            mcp_config(s, options.read_only),
            catalog,
            tool_ctx,
            registry,
        )?;

        spawn_log_pruner(log_store, s.runbooks.log_retention, mcp.stopping.clone());
        // The drift gauge starts from what the last backups recorded, not from zero.
        tokio::spawn(async move {
            if let Err(e) = backups.refresh_gauge().await {
                tracing::warn!(error = %e, "reading configuration drift failed");
            }
        });
        let grace = Arc::new(Mutex::new(s.shutdown_grace));
        let reloader = Reloader::new(
            loaded.entries.clone(),
            notifier.clone(),
            Some(Arc::clone(&mcp)),
        );
        reloader.register(Arc::new(McpPart {
            mcp: Arc::clone(&mcp),
            read_only: options.read_only,
        }));
        reloader.register(Arc::new(DevicesPart { connections }));
        reloader.register(Arc::new(Callback::new(
            "shutdown grace period",
            &["shutdown.grace_seconds"],
            {
                let grace = Arc::clone(&grace);
                move |s: &Settings| {
                    *grace
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner) = s.shutdown_grace;
                }
            },
        )));

        let http = match &listener {
            Some(listener) => {
                let addr = listener.local_addr().map_err(ServerError::Http)?;
                let resource = s.http.public_url.clone().unwrap_or_else(|| {
                    format!("http://{addr}{}", s.http.base_path.trim_end_matches('/'))
                });
                let auth =
                    Arc::new(authenticator(s, &mcp, mcp.store().clone(), resource.clone()).await?);
                if auth.uses_provider_keys() {
                    // No keys: handed every reload. The settings of authentication itself need
                    // a restart (the reload names them).
                    let keys = Arc::clone(&auth);
                    reloader.register(Arc::new(Callback::new(
                        "the identity provider's signing keys are fetched anew on the next request",
                        &[],
                        move |_: &Settings| keys.expire_keys(),
                    )));
                }
                let console = console_config(s, &resource, &auth).await?;
                Some(mcp_server::http::HttpOptions {
                    base_path: s.http.base_path.clone(),
                    allowed_origins: s.http.allowed_origins.clone(),
                    max_sessions: s.http.max_sessions,
                    session_idle: s.http.session_idle,
                    header_timeout: s.http.header_timeout,
                    max_init_per_second: s.http.max_init_per_second,
                    public_url: s.http.public_url.clone(),
                    auth,
                    console: Some(console),
                })
            }
            None => None,
        };
        Ok(Self {
            transport,
            listener,
            http,
            mcp,
            demo,
            grace,
            notifier,
            reloader,
            webhook,
            jobs,
        })
    }

    /// The address the HTTP transport is bound to (a port of 0 was given a free one).
    pub fn http_addr(&self) -> Option<SocketAddr> {
        self.listener.as_ref().and_then(|l| l.local_addr().ok())
    }

    /// Hands reloaded configuration to the running server; also where other parts register
    /// what they can apply live.
    pub fn reloader(&self) -> Reloader {
        self.reloader.clone()
    }

    /// The MCP layer (for tests and for what wraps the server).
    pub fn mcp(&self) -> &Arc<mcp_server::App> {
        &self.mcp
    }

    /// Serves until `shutdown` completes (or the stdio client leaves when only stdio is served),
    /// then drains as the crate documentation says.
    pub async fn run_until(self, shutdown: impl Future<Output = ()>) -> Result<(), ServerError> {
        let Self {
            transport,
            listener,
            http,
            mcp,
            demo,
            grace,
            notifier,
            reloader: _,
            webhook,
            jobs,
        } = self;
        tracing::info!(
            target: NOTICE,
            "fleet jobs ({}) run here as instance {}",
            jobs.kinds().join(", "),
            jobs.instance()
        );
        let mut jobs_task = jobs.spawn(mcp.stopping.clone());

        let mut http_task = match listener.zip(http) {
            Some((listener, http)) => {
                let addr = listener.local_addr().map_err(ServerError::Http)?;
                tracing::info!(
                    target: NOTICE,
                    "serving MCP over Streamable HTTP at http://{addr}{} (health /health, readiness /ready, metrics /metrics)",
                    http.base_path
                );
                let mcp = Arc::clone(&mcp);
                Some(tokio::spawn(mcp_server::http::serve(mcp, listener, http)))
            }
            None => None,
        };
        let mut stdio_task = if matches!(transport, Transport::Stdio | Transport::Both) {
            if std::io::IsTerminal::is_terminal(&std::io::stdin()) {
                tracing::info!(
                    target: NOTICE,
                    "serving MCP on stdio: an MCP client starts this command and speaks JSON-RPC \
                     on its stdin (see docs/mcp.md). To try it by hand, run `routeros-mcp serve \
                     --demo --transport http` and open the MCP Inspector. Ctrl-C stops."
                );
            }
            Some(tokio::spawn(mcp_server::stdio::serve(Arc::clone(&mcp))))
        } else {
            None
        };
        notifier.ready();
        // After READY=1: systemd counts watchdog pings from readiness on.
        let watchdog = notifier.spawn_watchdog(mcp.shutdown.clone());

        // Serve until told to stop. The stdio client leaving ends a stdio-only server; with
        // HTTP beside it, HTTP goes on until a signal.
        let mut shutdown = std::pin::pin!(shutdown);
        let mut failure = None;
        loop {
            tokio::select! {
                () = &mut shutdown => {
                    tracing::info!(
                        target: NOTICE,
                        "shutting down: no new requests; waiting up to {} s for calls in flight",
                        current(&grace).as_secs()
                    );
                    break;
                }
                ended = wait(&mut stdio_task) => {
                    stdio_task = None;
                    if let Ok(Err(e)) = ended {
                        tracing::warn!(error = %e, "stdio session ended with an error");
                    }
                    if transport == Transport::Stdio {
                        break;
                    }
                }
                ended = wait(&mut http_task) => {
                    http_task = None;
                    failure = Some(match ended {
                        Ok(Ok(())) => ServerError::Task("the HTTP transport stopped by itself".into()),
                        Ok(Err(e)) => ServerError::Http(e),
                        Err(e) => ServerError::Task(e.to_string()),
                    });
                    break;
                }
            }
        }

        notifier.stopping();
        mcp.stopping.cancel();
        mcp.calls.close();
        let grace = current(&grace);
        if tokio::time::timeout(grace, mcp.calls.wait()).await.is_err() {
            tracing::warn!(
                target: NOTICE,
                calls = mcp.calls.len(),
                "tool calls still running after {} s (MCP_SHUTDOWN_GRACE_SECONDS); exiting anyway \
                 (a plan being applied is resolved from its journal at the next start)",
                grace.as_secs()
            );
        }
        mcp.shutdown.cancel();
        if let Some(task) = http_task {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => failure = failure.or(Some(ServerError::Http(e))),
                Err(e) => failure = failure.or(Some(ServerError::Task(e.to_string()))),
            }
        }
        if let Some(task) = stdio_task {
            // The session ends with the token; a read of stdin it was blocked in is left to the
            // runtime's shutdown.
            let _ = tokio::time::timeout(Duration::from_secs(5), task).await;
        }
        // The jobs drained while the calls did: what still runs 10 s after the stop began (a
        // reconciling pass talking to a slow router) is stopped and its lease given back. A
        // runner that does not return even then is left to the process's end, as it would be
        // by a restart: its leases expire.
        if tokio::time::timeout(JOBS_STOP, &mut jobs_task)
            .await
            .is_err()
        {
            jobs_task.abort();
        }
        if let Some(watchdog) = watchdog {
            let _ = watchdog.await;
        }
        // The calls are done, so every notification they made is queued.
        if let Some(delivery) = webhook {
            delivery.finish(WEBHOOK_FLUSH).await;
        }
        // Tool-call records are group-committed: write what is still queued before the pool
        // closes.
        let store = mcp.store().clone();
        match tokio::time::timeout(AUDIT_FLUSH, store.audit_queue().flush()).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::error!(error = %e, "queued audit records were not written"),
            Err(_) => tracing::error!(
                "queued audit records still not written after {} s (is the database reachable?); exiting anyway",
                AUDIT_FLUSH.as_secs()
            ),
        }
        store.close().await;
        if let Some(running) = demo {
            running.shutdown().await;
        }
        match failure {
            Some(e) => Err(e),
            None => Ok(()),
        }
    }
}

fn current(grace: &Mutex<Duration>) -> Duration {
    *grace
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Waits for a task that may not exist (then never completes).
async fn wait<T>(
    task: &mut Option<tokio::task::JoinHandle<T>>,
) -> Result<T, tokio::task::JoinError> {
    match task {
        Some(task) => task.await,
        None => std::future::pending().await,
    }
}

/// `MCP_AUTH_MODE` against the HTTP transport. Configuration checks this for `MCP_TRANSPORT`;
/// `--transport` must not slip past it.
pub fn check_http_auth(s: &Settings, serves_http: bool) -> Result<(), ServerError> {
    let loopback = s
        .http
        .host
        .parse::<std::net::IpAddr>()
        .is_ok_and(|ip| ip.is_loopback())
        || s.http.host == "localhost";
    if serves_http && s.auth_mode == AuthMode::None && !loopback {
        return Err(ServerError::Usage(format!(
            "MCP_AUTH_MODE=none is only allowed when the HTTP transport binds a loopback address, \
             but MCP_HTTP_HOST is {}; bind 127.0.0.1 (or use the stdio transport)",
            s.http.host
        )));
    }
    Ok(())
}

/// What the MCP layer announces and how it treats tools, from the settings.
fn mcp_config(s: &Settings, read_only: bool) -> mcp_server::AppConfig {
    mcp_server::AppConfig {
        name: s.server.name.clone(),
        version: s.server.version.clone(),
        description: s.server.description.clone(),
        policy: setup::policy(s, read_only),
        budget: tools::Budget {
            warning: s.token_budget.warning_threshold,
            error: s.token_budget.error_threshold,
        },
        resources: s.features.resources,
        prompts: s.features.prompts,
        tools: s.features.tools,
        stdio_role: role(s.auth.stdio_role),
        principal_rate_limit: s.clients.principal_rate_limit,
        log_unknown_capabilities: s.clients.log_unknown_capabilities,
        console_base: s.http.public_url.as_deref().map(origin),
    }
}

/// The scheme and authority of a public URL (`https://mcp.example.net/mcp` →
/// `https://mcp.example.net`): the console is served at `/console` on the listener's root,
/// whatever path the MCP endpoint has.
fn origin(url: &str) -> String {
    let authority = url.find("://").map_or(0, |i| i + 3);
    match url[authority..].find(['/', '?', '#']) {
        Some(end) => url[..authority + end].to_owned(),
        None => url.to_owned(),
    }
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
    s: &Settings,
    mcp: &mcp_server::App,
    store: store::Store,
    resource: String,
) -> Result<mcp_server::http::authn::Authenticator, ServerError> {
    use mcp_server::http::authn::{Authenticator, Mode};
    let mode = match s.auth_mode {
        AuthMode::None => Mode::None,
        AuthMode::Token => Mode::Token,
        AuthMode::Oidc => Mode::Oidc {
            validator: Box::new(oidc_validator(s, &resource).await?),
            allow_api_tokens: s.auth.allow_api_tokens,
        },
    };
    let cf_access = cf_access_validator(s)?;
    Ok(Authenticator::new(
        mode,
        cf_access,
        role(s.auth.stdio_role),
        store,
        mcp.metrics.auth_failures.clone(),
        resource,
    ))
}

/// The web console: its sign-in through the identity provider when `OIDC_ISSUER`,
/// `OIDC_CLIENT_ID` and `OIDC_CLIENT_SECRET` are set (discovered now, like the bearer-token
/// validator: a provider that does not check out stops startup), API tokens checked as the
/// bearer-token layer checks them, and its session limits. The redirect URI is the public
/// URL's origin followed by `/console/callback`.
async fn console_config(
    s: &Settings,
    resource: &str,
    auth: &Arc<mcp_server::http::authn::Authenticator>,
) -> Result<console::ConsoleConfig, ServerError> {
    let origin = {
        let after = resource.find("://").map_or(0, |i| i + 3);
        match resource[after..].find('/') {
            Some(i) => &resource[..after + i],
            None => resource,
        }
    };
    let login = match (&s.oidc.issuer, &s.oidc.client_id, &s.oidc.client_secret) {
        (Some(issuer), Some(client_id), Some(secret)) => {
            let issuer = auth::Url::parse(issuer)
                .map_err(|e| ServerError::Usage(format!("OIDC_ISSUER is not a URL: {e}")))?;
            let redirect =
                auth::Url::parse(&format!("{origin}/console/callback")).map_err(|e| {
                    ServerError::Usage(format!(
                        "the console's redirect URI cannot be formed from MCP_HTTP_PUBLIC_URL: {e}"
                    ))
                })?;
            let mut config = auth::OidcConfig::new(issuer, client_id.clone());
            config.roles_claim = s.oidc.roles_claim.clone();
            let login =
                auth::OidcLogin::discover(config, client_id.clone(), secret.clone(), redirect)
                    .await
                    .map_err(|source| ServerError::Auth {
                        what: "OIDC_ISSUER: discovering the identity provider for the web console"
                            .into(),
                        source,
                    })?;
            Some(Arc::new(login))
        }
        (_, None, None) => None,
        (None, _, _) => {
            return Err(ServerError::Usage(
                "OIDC_CLIENT_ID and OIDC_CLIENT_SECRET sign people in to the web console through the identity provider, which needs OIDC_ISSUER too".into(),
            ));
        }
        (Some(_), _, _) => {
            return Err(ServerError::Usage(
                "the web console's sign-in through the identity provider needs both OIDC_CLIENT_ID and OIDC_CLIENT_SECRET".into(),
            ));
        }
    };
    let credentials: Arc<dyn console::Credentials> = auth.clone();
    Ok(console::ConsoleConfig {
        login,
        credentials,
        secure_cookies: resource.starts_with("https://"),
        idle: s.console.session_idle,
        absolute: s.console.session_max,
        auto_revert_window: s.plans.confirm_timeout,
    })
}

/// The identity provider of `MCP_AUTH_MODE=oidc`, discovered and its keys loaded; the audience
/// defaults to the protected resource's URL.
async fn oidc_validator(s: &Settings, resource: &str) -> Result<auth::OidcValidator, ServerError> {
    let issuer = s
        .oidc
        .issuer
        .as_deref()
        .ok_or_else(|| ServerError::Usage("MCP_AUTH_MODE=oidc needs OIDC_ISSUER".into()))?;
    let issuer = auth::Url::parse(issuer)
        .map_err(|e| ServerError::Usage(format!("OIDC_ISSUER is not a URL: {e}")))?;
    let audience = s
        .oidc
        .audience
        .clone()
        .unwrap_or_else(|| resource.to_owned());
    let mut config = auth::OidcConfig::new(issuer, audience);
    config.roles_claim = s.oidc.roles_claim.clone();
    auth::OidcValidator::discover(config)
        .await
        .map_err(|source| ServerError::Auth {
            what: "OIDC_ISSUER: discovering the identity provider".into(),
            source,
        })
}

/// Cloudflare Access, when `CF_ACCESS_TEAM_DOMAIN` and `CF_ACCESS_AUD` are set.
fn cf_access_validator(s: &Settings) -> Result<Option<auth::CfAccessValidator>, ServerError> {
    let Some((team, aud)) = &s.auth.cf_access else {
        return Ok(None);
    };
    let validator = auth::CfAccessValidator::new(team.clone(), aud.clone()).map_err(|source| {
        ServerError::Auth {
            what: "CF_ACCESS_TEAM_DOMAIN/CF_ACCESS_AUD".into(),
            source,
        }
    })?;
    Ok(Some(validator.with_roles_claim(s.oidc.roles_claim.clone())))
}

/// What serving HTTP would check of authentication before taking a request: the mode against
/// the bind address, the identity provider discovered with its keys (`oidc`), Cloudflare
/// Access's settings. Returns what was found, for `check` and `preflight`.
pub async fn check_http_authentication(s: &Settings) -> Result<String, ServerError> {
    check_http_auth(s, true)?;
    let mode = match s.auth_mode {
        AuthMode::None => "no authentication (loopback bind)".to_owned(),
        AuthMode::Token => "API tokens".to_owned(),
        AuthMode::Oidc => {
            let v = oidc_validator(s, "https://preflight.invalid/").await?;
            format!(
                "OpenID Connect: issuer {} discovered, signing keys loaded",
                v.issuer()
            )
        }
    };
    Ok(match cf_access_validator(s)? {
        Some(_) => format!("{mode}, behind Cloudflare Access"),
        None => mode,
    })
}

/// The MCP layer's configuration, live: the tool policy, the budget, what is announced.
struct McpPart {
    mcp: Arc<mcp_server::App>,
    read_only: bool,
}

impl Reloadable for McpPart {
    fn name(&self) -> &str {
        "MCP tools"
    }

    fn keys(&self) -> &[&'static str] {
        &[
            "server.name",
            "server.version",
            "server.description",
            "features.tools",
            "features.resources",
            "features.prompts",
            "tools.tiers",
            "tools.default_tier",
            "tools.disabled",
            "tools.read_only",
            "token_budget.warning_threshold",
            "token_budget.error_threshold",
            "rate_limit.principal_per_second",
            "client.log_unknown_capabilities",
        ]
    }

    fn check(&self, new: &Settings) -> Result<(), String> {
        setup::policy(new, self.read_only).check(&self.mcp.catalog)
    }

    fn apply(&self, new: &Settings) {
        let mut config = mcp_config(new, self.read_only);
        // The stdio session took its role when it started: MCP_STDIO_ROLE needs a restart.
        config.stdio_role = self.mcp.config().stdio_role;
        if let Err(e) = self.mcp.reconfigure(config) {
            // Checked just before; only a catalog that changed under us could get here.
            tracing::error!(error = %e, "the new tool configuration was not applied");
        }
    }
}

/// The device rate ceiling and concurrency cap, live.
struct DevicesPart {
    connections: Arc<routeros::Connections>,
}

impl Reloadable for DevicesPart {
    fn name(&self) -> &str {
        "device limits"
    }

    fn keys(&self) -> &[&'static str] {
        &[
            "devices.rate_limit",
            "devices.rate_burst",
            "devices.concurrency",
        ]
    }

    fn apply(&self, new: &Settings) {
        let d = new.devices;
        self.connections.set_rate_limits(
            d.rate_per_second,
            d.burst,
            usize::try_from(d.concurrency).unwrap_or(4),
        );
    }
}

/// How long the fleet jobs may take to stop once the calls in flight are done: their own drain
/// (10 s) and the release of the leases of runs that did not end.
const JOBS_STOP: Duration = Duration::from_secs(20);

/// The fleet jobs of this process, shared with every instance on the same database. The plan
/// reconciler records the final state of routers that stopped answering during a rollback, once
/// they answer again (their auto-revert restored them meanwhile): every minute, on one instance
/// at a time (at start, unless another instance did it less than a minute ago).
fn fleet_jobs(
    store: store::Store,
    workflow: workflow::Workflow,
    backups: backup::Backups,
    backup_interval: Option<Duration>,
    registry: &prometheus::Registry,
) -> Result<jobs::Runner, ServerError> {
    let reconcile = jobs::Kind::singleton(RECONCILE_JOB, "plans", move |_key| {
        let workflow = workflow.clone();
        async move {
            // A pass in progress is not interrupted: it records what it finds as it goes.
            let reports = workflow
                .reconcile(&AuditContext::new("server:reconcile"))
                .await?;
            for r in reports {
                tracing::info!(plan = %r.plan_id, status = %r.status, devices = ?r.devices, "plan reconciled");
            }
            Ok(RECONCILE_EVERY)
        }
    })
    .lease(Duration::from_secs(120))
    .retry(RECONCILE_EVERY, 10 * RECONCILE_EVERY);
    let mut runner = jobs::Runner::new(store, jobs::InstanceId::generate())
        .metrics(jobs::Metrics::register(registry)?)
        .register(reconcile);
    if let Some(interval) = backup_interval {
        runner = runner.register(backups::job_kind(backups, interval));
    }
    Ok(runner)
}

/// How often finished runbook runs' logs are checked against their retention.
const PRUNE_LOGS_EVERY: Duration = Duration::from_secs(6 * 3600);

/// Deletes runbook execution logs past their retention: at start, then every six hours, until
/// shutdown begins.
fn spawn_log_pruner(
    store: store::Store,
    retention: Duration,
    stop: tokio_util::sync::CancellationToken,
) {
    tokio::spawn(async move {
        loop {
            match setup::prune_runbook_logs(&store, retention).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(
                    deleted = n,
                    "runbook execution logs older than {} days deleted",
                    retention.as_secs() / 86_400
                ),
                Err(e) => tracing::warn!(error = %e, "deleting old runbook execution logs failed"),
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(PRUNE_LOGS_EVERY) => {}
            }
        }
    });
}

/// Proposed runbook versions waiting for review, and people's decisions on them, told to the
/// webhook.
#[derive(Debug)]
struct ReviewsToWebhook(webhook::Notifier);

impl tools::runbook::ReviewNotice for ReviewsToWebhook {
    fn awaiting_review(&self, version: &store::runbooks::VersionRow) {
        self.0.send(webhook::Event::RunbookAwaitingReview {
            runbook: version.name.clone(),
            version_id: version.id.clone(),
            priority: version.priority.clone().unwrap_or_else(|| "low".into()),
            why: format!(
                "version {} proposed by {} after run {} failed ({})",
                version.version,
                version.proposed_by.as_deref().unwrap_or("-"),
                version.generated_from_run.as_deref().unwrap_or("-"),
                version.failure_type.as_deref().unwrap_or("-"),
            ),
        });
    }

    fn decided(&self, version: &store::runbooks::VersionRow) {
        if let Some(event) = review_decided(version) {
            self.0.send(event);
        }
    }
}

/// The webhook event of a person's decision on a proposed runbook version (`None` for a version
/// no one decided).
pub fn review_decided(version: &store::runbooks::VersionRow) -> Option<webhook::Event> {
    let decision = match version.status.as_str() {
        "published" | "deprecated" => webhook::ReviewDecision::Approved,
        "rejected" => webhook::ReviewDecision::Rejected,
        _ => return None,
    };
    Some(webhook::Event::RunbookReviewDecided {
        runbook: version.name.clone(),
        version_id: version.id.clone(),
        decision,
        reviewer: version.reviewer.clone().unwrap_or_default(),
        notes: version.review_notes.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::origin;

    #[test]
    fn the_console_lives_at_the_public_urls_origin() {
        assert_eq!(
            origin("https://mcp.example.net/mcp"),
            "https://mcp.example.net"
        );
        assert_eq!(
            origin("https://mcp.example.net:8443"),
            "https://mcp.example.net:8443"
        );
        assert_eq!(origin("https://h.example/a/b?x#y"), "https://h.example");
        assert_eq!(origin("http://127.0.0.1:8080/"), "http://127.0.0.1:8080");
    }
}
