//! The Streamable HTTP transport at `MCP_HTTP_BASE_PATH`, with the operational endpoints beside
//! it: `GET /health` (the process serves), `GET /ready` (database reachable and at least one
//! device answering) and `GET /metrics` (Prometheus).
//!
//! DNS-rebinding protection: the `Host` header must name this server (loopback names and the
//! configured host) and a browser `Origin`, when present, must be a local one.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::streamable_http_server::{StreamableHttpServerConfig, StreamableHttpService};
use routeros::{MenuPath, PrintQuery};
use serde_json::json;
use tokio::net::TcpListener;

use crate::App;
use crate::service::{McpService, Transport};

/// The router: MCP at `base_path`, plus health, readiness and metrics.
pub fn router(app: Arc<App>, base_path: &str, host: &str, port: u16) -> Router {
    let mut hosts: Vec<String> = ["localhost", "127.0.0.1", "[::1]", "::1"]
        .iter()
        .map(|h| (*h).to_owned())
        .collect();
    if !hosts.iter().any(|h| h == host) {
        hosts.push(host.to_owned());
    }
    let with_ports: Vec<String> = hosts.iter().map(|h| format!("{h}:{port}")).collect();
    hosts.extend(with_ports);
    let config = StreamableHttpServerConfig::default()
        .with_cancellation_token(app.shutdown.child_token())
        .with_allowed_hosts(hosts)
        .with_allowed_origins(["http://localhost:*", "http://127.0.0.1:*", "http://[::1]:*"])
        .enforce_origin_validation()
        .with_sse_keep_alive(Some(Duration::from_secs(15)));
    let factory_app = Arc::clone(&app);
    let mcp = StreamableHttpService::new(
        move || Ok(McpService::new(Arc::clone(&factory_app), Transport::Http)),
        Arc::new(LocalSessionManager::default()),
        config,
    );
    Router::new()
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .nest_service(base_path, mcp)
        .with_state(app)
}

/// Serves until the app's shutdown token is cancelled; in-flight requests finish first.
pub async fn serve(app: Arc<App>, listener: TcpListener, base_path: &str) -> std::io::Result<()> {
    let addr = listener.local_addr()?;
    let router = router(
        Arc::clone(&app),
        base_path,
        &addr.ip().to_string(),
        addr.port(),
    );
    let shutdown = app.shutdown.clone();
    axum::serve(listener, router)
        .with_graceful_shutdown(async move { shutdown.cancelled().await })
        .await
}

async fn health() -> Response {
    (StatusCode::OK, axum::Json(json!({"status": "ok"}))).into_response()
}

/// Ready when the database answers and at least one of (up to five) active devices does.
async fn ready(State(app): State<Arc<App>>) -> Response {
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
        let probes = devices.iter().take(5).map(|d| {
            let app = Arc::clone(&app);
            async move {
                let Ok(client) = app.ctx.fleet.client(d).await else {
                    return false;
                };
                let identity = MenuPath::parse("system/identity").ok();
                match identity {
                    Some(menu) => tokio::time::timeout(
                        Duration::from_secs(3),
                        client.print(&menu, &PrintQuery::all()),
                    )
                    .await
                    .is_ok_and(|r| r.is_ok()),
                    None => false,
                }
            }
        });
        reachable = futures::future::join_all(probes)
            .await
            .into_iter()
            .filter(|ok| *ok)
            .count();
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
        axum::Json(json!({
            "status": if problems.is_empty() { "ready" } else { "not ready" },
            "devices_reachable": reachable,
            "problems": problems,
        })),
    )
        .into_response()
}

async fn metrics(State(app): State<Arc<App>>) -> Response {
    let encoder = prometheus::TextEncoder::new();
    match encoder.encode_to_string(&app.registry.gather()) {
        Ok(text) => (
            StatusCode::OK,
            [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
            text,
        )
            .into_response(),
        Err(e) => (StatusCode::INTERNAL_SERVER_ERROR, e.to_string()).into_response(),
    }
}
