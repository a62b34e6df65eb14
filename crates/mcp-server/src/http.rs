//! The Streamable HTTP transport at `MCP_HTTP_BASE_PATH`, with the admin API under `/v1` and the
//! runbook review queue under `/api/review` (see the `admin-api` crate) and the operational
//! endpoints beside it: `GET /health` (the process serves), `GET /ready` (database reachable and
//! at least one device answering) and `GET /metrics` (Prometheus; the runbook gauges are read
//! from the database when scraped, at most every 5 s), and the web console under `/console` (see
//! the `console` crate; it signs people in itself). Every route but those three, the OAuth
//! protected resource metadata and the console is authenticated first ([`authn`]).
//!
//! Every route, the MCP endpoint and the operational ones alike, passes the same guard first:
//! the `Host` header must name this server (the loopback names and the bound host, on the bound
//! port) and a browser `Origin`, when present, must be one of the server's own origins or one
//! listed in `MCP_HTTP_ALLOWED_ORIGINS` — so a page on another site cannot reach the server
//! through a rebound DNS name or from another local port. Connections are served here rather
//! than by `axum::serve` so that a client which does not finish its request headers within
//! `MCP_HTTP_HEADER_TIMEOUT_SECONDS` is disconnected.
//!
//! Both protocol generations share the endpoint, and the SDK tells them apart by what each
//! request carries: a 2025-11-25 (or older) client opens a session with `initialize` and sends
//! `Mcp-Session-Id` after; a 2026-07-28 client sends self-contained requests (`_meta` with its
//! version, identity and capabilities, `MCP-Protocol-Version` header) and is served without any
//! per-client state, so instances behind a load balancer need no session affinity. Sessions are
//! capped (`MCP_HTTP_MAX_SESSIONS`, see [`sessions`]) and close after
//! `MCP_HTTP_SESSION_IDLE_SECONDS` without a request; stateless requests open none. `/ready` probes devices at most once per
//! [`READY_CACHE`]; callers in between get the last answer, so the unauthenticated endpoint
//! cannot be used to drive traffic to the routers.
//!
//! `initialize` requests are also rate-limited server-wide (`MAX_INIT_PER_SECOND`, a token
//! bucket as deep as one second's worth): one beyond the rate gets HTTP 429 with `Retry-After`
//! and a JSON-RPC error naming the setting, before any session is made. Every request runs in a
//! span with a fresh `correlation_id`, so its log lines can be told apart (a tool call's own
//! span, inside it, carries the id of the call's audit record).
//!
//! Shutdown (see [`serve`]): on [`App::stopping`] the listener closes and each connection is
//! closed once its request in flight is answered; on [`App::shutdown`] (after the calls in
//! flight are done) sessions end and their streams close.

pub mod authn;
pub mod sessions;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::task::TaskTracker;

use crate::App;
use crate::service::{McpService, Transport};
use sessions::CappedSessions;

/// How long connections get to close once sessions have ended (the calls in flight were waited
/// for before that).
const CONNECTION_CLOSE: Duration = Duration::from_secs(5);

/// Largest request body read to find out whether it is an `initialize` (the SDK's own limit).
const MAX_BODY: usize = 4 * 1024 * 1024;

/// How long a readiness answer is reused before devices are probed again.
pub const READY_CACHE: Duration = Duration::from_secs(5);

/// How the HTTP transport is bounded and whom it answers.
#[derive(Debug, Clone)]
pub struct HttpOptions {
    /// Path of the MCP endpoint (`MCP_HTTP_BASE_PATH`).
    pub base_path: String,
    /// Browser origins allowed besides the server's own, `scheme://host:port`
    /// (`MCP_HTTP_ALLOWED_ORIGINS`).
    pub allowed_origins: Vec<String>,
    /// Most sessions open at once (`MCP_HTTP_MAX_SESSIONS`).
    pub max_sessions: usize,
    /// A session without a request for this long is closed (`MCP_HTTP_SESSION_IDLE_SECONDS`).
    pub session_idle: Duration,
    /// Time a connection has to send complete request headers
    /// (`MCP_HTTP_HEADER_TIMEOUT_SECONDS`).
    pub header_timeout: Duration,
    /// `initialize` requests accepted per second, server-wide (`MAX_INIT_PER_SECOND`).
    pub max_init_per_second: u32,
    /// The URL clients reach the MCP endpoint at, when not the bound address
    /// (`MCP_HTTP_PUBLIC_URL`): its host is accepted in `Host` and `Origin`.
    pub public_url: Option<String>,
    /// Who may call (`MCP_AUTH_MODE`).
    pub auth: Arc<authn::Authenticator>,
    /// The web console at `/console`, when served.
    pub console: Option<console::ConsoleConfig>,
}

/// Who may call: the `Host` names and browser `Origin`s this server answers.
#[derive(Debug, Clone)]
struct Guard {
    hosts: Vec<String>,
    origins: Vec<String>,
}

impl Guard {
    fn new(bind_host: &str, port: u16, extra_origins: &[String], public_url: Option<&str>) -> Self {
        let bracketed = if bind_host.contains(':') && !bind_host.starts_with('[') {
            format!("[{bind_host}]")
        } else {
            bind_host.to_owned()
        };
        let mut names: Vec<String> = ["localhost", "127.0.0.1", "[::1]"]
            .iter()
            .map(|h| (*h).to_owned())
            .collect();
        let bracketed = bracketed.to_ascii_lowercase();
        if !names.contains(&bracketed) {
            names.push(bracketed);
        }
        let mut hosts = names.clone();
        hosts.extend(names.iter().map(|h| format!("{h}:{port}")));
        let mut origins: Vec<String> = names.iter().map(|h| format!("http://{h}:{port}")).collect();
        // The public name (behind a proxy or tunnel): its authority as clients send it in Host,
        // and its origin.
        if let Some(url) = public_url {
            let lower = url.to_ascii_lowercase();
            if let Some((scheme, rest)) = lower.split_once("://") {
                let authority = rest.split('/').next().unwrap_or_default().to_owned();
                if !authority.is_empty() {
                    if !hosts.contains(&authority) {
                        hosts.push(authority.clone());
                    }
                    let origin = normalize_origin(&format!("{scheme}://{authority}"));
                    if !origins.contains(&origin) {
                        origins.push(origin);
                    }
                }
            }
        }
        for o in extra_origins {
            let o = o.to_ascii_lowercase();
            if !origins.contains(&o) {
                origins.push(o);
            }
        }
        Self { hosts, origins }
    }

    /// Why the request is refused, if it is.
    fn check(&self, headers: &axum::http::HeaderMap) -> Result<(), String> {
        let host = match headers.get(header::HOST).map(HeaderValue::to_str) {
            None => return Err("the request has no Host header".into()),
            Some(Err(_)) => return Err("the Host header is not readable text".into()),
            Some(Ok(h)) => h.trim().to_ascii_lowercase(),
        };
        if !self.hosts.contains(&host) {
            return Err(format!(
                "Host \"{}\" does not name this server (allowed: {}); requests through other \
                 names are refused to defend against DNS rebinding",
                printable(&host),
                self.hosts
                    .iter()
                    .filter(|h| h.contains(':') && !h.ends_with(']'))
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            ));
        }
        let Some(origin) = headers.get(header::ORIGIN) else {
            return Ok(()); // not a browser: nothing to check
        };
        let origin = origin
            .to_str()
            .map_err(|_| "the Origin header is not readable text".to_owned())?;
        if !self.origins.contains(&normalize_origin(origin)) {
            return Err(format!(
                "Origin \"{}\" is not allowed (allowed: {}; add others to \
                 MCP_HTTP_ALLOWED_ORIGINS as exact scheme://host:port)",
                printable(origin),
                self.origins.join(", ")
            ));
        }
        Ok(())
    }
}

/// `scheme://host[:port]` in lower case with the scheme's default port made explicit, as the
/// allow-list is written (a browser omits `:80` and `:443`).
fn normalize_origin(origin: &str) -> String {
    let lower = origin.trim().to_ascii_lowercase();
    let (scheme, authority) = match lower.split_once("://") {
        Some(parts) => parts,
        None => return lower,
    };
    let has_port = authority
        .rsplit_once(':')
        .is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && !authority.ends_with(']');
    match (has_port, scheme) {
        (false, "http") => format!("{lower}:80"),
        (false, "https") => format!("{lower}:443"),
        _ => lower,
    }
}

/// A header value shown in an error: at most 100 characters, no control characters.
fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(100).collect()
}

/// A JSON-RPC error body (the shape MCP clients read), with no request id.
fn refusal(status: StatusCode, code: i64, message: String) -> Response {
    (
        status,
        axum::Json(json!({"jsonrpc": "2.0", "id": Value::Null,
            "error": {"code": code, "message": message}})),
    )
        .into_response()
}

async fn guard(State(guard): State<Arc<Guard>>, request: Request, next: Next) -> Response {
    let span = tracing::info_span!(
        "http_request",
        method = %request.method(),
        path = %request.uri().path(),
        correlation_id = %domain::CorrelationId::new()
    );
    let checked = async move {
        match guard.check(request.headers()) {
            Ok(()) => next.run(request).await,
            Err(problem) => {
                tracing::warn!(%problem, path = %request.uri().path(), "HTTP request refused");
                refusal(StatusCode::FORBIDDEN, -32600, problem)
            }
        }
    };
    tracing::Instrument::instrument(checked, span).await
}

/// Counts a request that may change something (any method but GET and HEAD: MCP messages, admin
/// API writes) in [`App::calls`] until its response has been sent (or the client went away), so
/// a shutdown that waits for the calls in flight also waits for their answers to reach the
/// clients before sessions end and the database closes. GET streams (SSE) are not counted: they
/// last as long as their session.
async fn answered(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    if matches!(
        *request.method(),
        axum::http::Method::GET | axum::http::Method::HEAD
    ) {
        return next.run(request).await;
    }
    let token = app.calls.token();
    let response = next.run(request).await;
    let (parts, body) = response.into_parts();
    let body = futures::StreamExt::map(body.into_data_stream(), move |chunk| {
        let _in_flight = &token;
        chunk
    });
    Response::from_parts(parts, Body::from_stream(body))
}

/// The server-wide rate of `initialize` requests.
struct InitRate {
    per_second: u32,
    limiter: governor::DefaultDirectRateLimiter,
}

impl InitRate {
    fn new(per_second: u32) -> Self {
        let rate = std::num::NonZeroU32::new(per_second).unwrap_or(std::num::NonZeroU32::MIN);
        Self {
            per_second: rate.get(),
            limiter: governor::RateLimiter::direct(governor::Quota::per_second(rate)),
        }
    }
}

/// The JSON-RPC id of an `initialize` request (`Value::Null` when it has none), or `None` when
/// the body is something else. A batch counts as an initialize if it holds one.
fn initialize_id(body: &[u8]) -> Option<Value> {
    let message: Value = serde_json::from_slice(body).ok()?;
    let is_init = |m: &Value| m.get("method").and_then(Value::as_str) == Some("initialize");
    match &message {
        Value::Array(items) => items
            .iter()
            .find(|m| is_init(m))
            .map(|m| m.get("id").cloned().unwrap_or(Value::Null)),
        m if is_init(m) => Some(m.get("id").cloned().unwrap_or(Value::Null)),
        _ => None,
    }
}

/// Refuses an `initialize` beyond `MAX_INIT_PER_SECOND` with 429 and `Retry-After`. Only a POST
/// without a session id can be one; its body is read (up to the SDK's limit) and handed on.
async fn init_rate(State(rate): State<Arc<InitRate>>, request: Request, next: Next) -> Response {
    let candidate = request.method() == axum::http::Method::POST
        && !request.headers().contains_key("mcp-session-id");
    if !candidate {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, MAX_BODY).await else {
        return refusal(
            StatusCode::PAYLOAD_TOO_LARGE,
            -32600,
            format!("the request body is larger than {MAX_BODY} bytes"),
        );
    };
    if let Some(id) = initialize_id(&bytes)
        && let Err(not_until) = rate.limiter.check()
    {
        let wait = not_until.wait_time_from(governor::clock::Clock::now(
            &governor::clock::DefaultClock::default(),
        ));
        let retry_after = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
        tracing::warn!(
            limit = rate.per_second,
            "MCP initialize refused: over MAX_INIT_PER_SECOND"
        );
        let mut refused = (
            StatusCode::TOO_MANY_REQUESTS,
            axum::Json(json!({"jsonrpc": "2.0", "id": id, "error": {
                "code": -32000,
                "message": format!(
                    "too many new MCP sessions: this server accepts {} initialize requests per \
                     second (MAX_INIT_PER_SECOND); try again after the Retry-After delay",
                    rate.per_second
                ),
            }})),
        )
            .into_response();
        refused
            .headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(retry_after.max(1)));
        return refused;
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// What the session cap says when it refuses an `initialize`.
#[derive(Debug, Clone, Copy)]
struct Limits {
    max_sessions: usize,
    idle: Duration,
}

/// Turns the SDK's generic answer to a refused session (HTTP 500 with the error text) into a
/// 503 that says which limit was hit and what to do.
async fn session_limit(State(limits): State<Limits>, request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    if response.status() != StatusCode::INTERNAL_SERVER_ERROR {
        return response;
    }
    let (parts, body) = response.into_parts();
    let bytes = axum::body::to_bytes(body, 64 * 1024)
        .await
        .unwrap_or_default();
    if !String::from_utf8_lossy(&bytes).contains(sessions::LIMIT_MARKER) {
        return Response::from_parts(parts, Body::from(bytes));
    }
    let mut refused = refusal(
        StatusCode::SERVICE_UNAVAILABLE,
        -32000,
        format!(
            "session limit reached: this server allows {} open MCP sessions \
             (MCP_HTTP_MAX_SESSIONS); close an unused session (HTTP DELETE with its \
             Mcp-Session-Id) or wait for idle ones to close ({} s without a request)",
            limits.max_sessions,
            limits.idle.as_secs()
        ),
    );
    refused
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("10"));
    refused
}

/// The router: MCP at `options.base_path`, plus health, readiness and metrics, all behind the
/// Host/Origin guard.
pub fn router(app: Arc<App>, options: &HttpOptions, host: &str, port: u16) -> Router {
    let in_flight = Arc::clone(&app);
    let guard_lists = Arc::new(Guard::new(
        host,
        port,
        &options.allowed_origins,
        options.public_url.as_deref(),
    ));
    // The SDK checks the same lists again on the MCP endpoint.
    let config = StreamableHttpServerConfig::default()
        .with_cancellation_token(app.shutdown.child_token())
        .with_allowed_hosts(guard_lists.hosts.clone())
        .with_allowed_origins(guard_lists.origins.clone())
        .enforce_origin_validation()
        .with_sse_keep_alive(Some(Duration::from_secs(15)))
        // A 2026-07-28 request whose answer is one message gets it as plain JSON (no SSE
        // framing); one that sends notifications first still streams.
        .with_json_response(true);
    let mut local = LocalSessionManager::default();
    local.session_config.keep_alive = Some(options.session_idle);
    let factory_app = Arc::clone(&app);
    let mcp = StreamableHttpService::new(
        move || Ok(McpService::new(Arc::clone(&factory_app), Transport::Http)),
        Arc::new(CappedSessions::new(local, options.max_sessions)),
        config,
    );
    let limits = Limits {
        max_sessions: options.max_sessions,
        idle: options.session_idle,
    };
    let mcp = Router::new()
        .fallback_service(mcp)
        .layer(middleware::from_fn_with_state(limits, session_limit))
        .layer(middleware::from_fn_with_state(
            Arc::new(InitRate::new(options.max_init_per_second)),
            init_rate,
        ));
    let metadata = options.auth.metadata();
    let admin = admin_api::router(
        admin_api::AdminState::new(app.ctx.fleet.clone(), app.ctx.workflow.clone())
            .with_runbooks(app.ctx.runbooks.clone()),
    );
    let console = options
        .console
        .clone()
        .map(|config| console::router(config, app.ctx.fleet.store().clone(), admin.clone()));
    let mut routes = Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .nest_service(&options.base_path, mcp)
        .with_state(Arc::new(Ready::new(app)))
        .merge(admin)
        .route("/v1", axum::routing::any(unknown_admin_route))
        .route("/v1/{*rest}", axum::routing::any(unknown_admin_route))
        .route("/api/review", axum::routing::any(unknown_admin_route))
        .route(
            "/api/review/{*rest}",
            axum::routing::any(unknown_admin_route),
        );
    if let Some(console) = console {
        routes = routes.merge(console);
    }
    if let Some(doc) = metadata {
        // RFC 9728 §3.1: at the well-known path, and with the resource's path appended.
        let serve = move || {
            let doc = doc.clone();
            async move { axum::Json(doc) }
        };
        routes = routes.route(auth::PROTECTED_RESOURCE_METADATA_PATH, get(serve.clone()));
        if options.base_path != "/" {
            routes = routes.route(
                &format!(
                    "{}{}",
                    auth::PROTECTED_RESOURCE_METADATA_PATH,
                    options.base_path
                ),
                get(serve),
            );
        }
    }
    // The guard runs first (outermost), then authentication, then the route.
    routes
        .layer(middleware::from_fn_with_state(in_flight, answered))
        .layer(middleware::from_fn_with_state(
            Arc::clone(&options.auth),
            authn::layer,
        ))
        .layer(middleware::from_fn_with_state(guard_lists, guard))
}

/// Serves until shutdown: on [`App::stopping`] stops accepting and asks every connection to close
/// once its request in flight is answered (calls go on meanwhile); returns when every connection
/// has closed, at most [`CONNECTION_CLOSE`] after [`App::shutdown`] ends the sessions.
pub async fn serve(
    app: Arc<App>,
    listener: TcpListener,
    options: HttpOptions,
) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let router = router(
        Arc::clone(&app),
        &options,
        &addr.ip().to_string(),
        addr.port(),
    );
    let stopping = app.stopping.clone();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(options.header_timeout);
    let connections = TaskTracker::new();
    loop {
        let accepted = tokio::select! {
            () = stopping.cancelled() => break,
            accepted = listener.accept() => accepted,
        };
        let stream = match accepted {
            Ok((stream, _peer)) => stream,
            Err(e) => {
                // Out of file descriptors and the like: back off instead of spinning.
                tracing::warn!(error = %e, "accepting an HTTP connection failed");
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
        };
        // An answer goes out as soon as it is written: without this, a response written in two
        // parts (head, then body) waits for the client's delayed ACK, about 40 ms on Linux.
        if let Err(e) = stream.set_nodelay(true) {
            tracing::debug!(error = %e, "cannot set TCP_NODELAY on an HTTP connection");
        }
        let service = TowerToHyperService::new(router.clone());
        let connection = builder.serve_connection(TokioIo::new(stream), service);
        let stopping = stopping.clone();
        connections.spawn(async move {
            let mut connection = std::pin::pin!(connection);
            tokio::select! {
                result = connection.as_mut() => {
                    if let Err(e) = result {
                        tracing::debug!(error = %e, "HTTP connection ended with an error");
                    }
                    return;
                }
                () = stopping.cancelled() => connection.as_mut().graceful_shutdown(),
            }
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "HTTP connection ended with an error");
            }
        });
    }
    drop(listener);
    connections.close();
    let closed = async {
        app.shutdown.cancelled().await;
        tokio::time::sleep(CONNECTION_CLOSE).await;
    };
    tokio::select! {
        () = connections.wait() => {}
        () = closed => tracing::warn!(
            "HTTP connections still open {} s after the sessions ended; leaving them",
            CONNECTION_CLOSE.as_secs()
        ),
    }
    Ok(())
}

/// An admin API path that names no route: JSON like every other admin API answer.
async fn unknown_admin_route(request: Request) -> Response {
    (
        StatusCode::NOT_FOUND,
        axum::Json(json!({
            "code": "not_found",
            "message": format!(
                "no admin API route {} {}; GET /v1/openapi.json lists every route",
                request.method(),
                printable(request.uri().path())
            ),
            "details": Value::Null,
        })),
    )
        .into_response()
}

async fn health() -> Response {
    (StatusCode::OK, axum::Json(json!({"status": "ok"}))).into_response()
}

/// Readiness, probed at most once per [`READY_CACHE`].
struct Ready {
    app: Arc<App>,
    /// The last answer and when it was computed; the lock also makes concurrent callers wait
    /// for one probe instead of starting their own.
    last: tokio::sync::Mutex<Option<(Instant, StatusCode, Value)>>,
}

impl Ready {
    fn new(app: Arc<App>) -> Self {
        Self {
            app,
            last: tokio::sync::Mutex::new(None),
        }
    }
}

async fn ready(State(ready): State<Arc<Ready>>) -> Response {
    let mut last = ready.last.lock().await;
    let (status, body) = match &*last {
        Some((at, status, body)) if at.elapsed() < READY_CACHE => (*status, body.clone()),
        _ => {
            let (status, body) = probe(&ready.app).await;
            *last = Some((Instant::now(), status, body.clone()));
            (status, body)
        }
    };
    (status, axum::Json(body)).into_response()
}

/// Ready when the database answers and at least one of (up to five) active devices does.
async fn probe(app: &Arc<App>) -> (StatusCode, Value) {
    let mut problems = Vec::new();
    if let Err(e) = app.store().ping().await {
        problems.push(format!("database: {e}"));
    }
    let devices = app
        .store()
        .list_devices(&store::DeviceFilter {
            status: Some(domain::DeviceStatus::Active),
            ..store::DeviceFilter::default()
        })
        .await
        .unwrap_or_default();
    let mut reachable = 0usize;
    if devices.is_empty() {
        problems.push("devices: none registered".into());
    } else {
        let asked = &devices[..devices.len().min(5)];
        reachable = app.ctx.fleet.answering(asked, Duration::from_secs(3)).await;
        if reachable == 0 {
            problems.push(format!(
                "devices: none of the {} checked answered",
                devices.len().min(5)
            ));
        }
    }
    let status = if problems.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    (
        status,
        json!({
            "status": if problems.is_empty() { "ready" } else { "not ready" },
            "devices_reachable": reachable,
            "problems": problems,
        }),
    )
}

/// How long reading the runbook gauges from the database may take before a scrape is answered
/// with the values read last.
const RUNBOOK_METRICS_TIMEOUT: Duration = Duration::from_secs(3);

async fn metrics(State(ready): State<Arc<Ready>>) -> Response {
    if let Some(runbooks) = &ready.app.ctx.runbooks {
        let refreshed = tokio::time::timeout(
            RUNBOOK_METRICS_TIMEOUT,
            runbooks.refresh_metrics(ready.app.store()),
        )
        .await;
        match refreshed {
            Ok(Ok(())) => {}
            Ok(Err(e)) => tracing::warn!(
                error = %e,
                "runbook metrics could not be read from the database; serving the values read last"
            ),
            Err(_) => tracing::warn!(
                "runbook metrics took more than {} s to read from the database; serving the values read last",
                RUNBOOK_METRICS_TIMEOUT.as_secs()
            ),
        }
    }
    let encoder = prometheus::TextEncoder::new();
    match encoder.encode_to_string(&ready.app.registry.gather()) {
        Ok(text) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            text,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
