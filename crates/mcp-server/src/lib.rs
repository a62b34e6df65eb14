//! The MCP layer: the tool catalog, resources, prompts, completions and logging, served over stdio
//! and Streamable HTTP.
//!
//! [`App`] is the server as a value: built once from configuration (catalog checked one-to-one
//! against the handlers, tool policy checked against the catalog), then served by
//! [`stdio::serve`] and/or [`http::serve`]. Every tool call goes through the same path in
//! [`service`]: policy (tier, read-only, disabled) → JSON-Schema validation of the arguments →
//! handler → token budget → result (`structuredContent`, compact text, `_meta.estimated_tokens`)
//! → metrics and audit.
//!
//! What can change while the server runs (a configuration reload): the announced name and
//! description, the feature switches, the tool policy and the token budget — [`App::reconfigure`]
//! swaps the whole [`AppConfig`], each request reads the one in force when it starts, and
//! [`App::notify_tools_changed`] tells open sessions to fetch `tools/list` again.
//!
//! Shutdown has two steps: [`App::stopping`] (stop accepting; calls in flight go on) and, once
//! those calls are done, [`App::shutdown`] (sessions end).

pub mod access;
mod approval;
pub mod apps;
mod capabilities;
pub mod http;
mod limits;
pub mod metrics;
mod prompts;
mod resources;
mod sampling;
pub mod service;
pub mod stdio;

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use catalog::{Catalog, Policy};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tools::{Budget, Handler};

pub use metrics::McpMetrics;
pub use service::McpService;

/// What the server announces and how it treats tools.
#[derive(Debug, Clone)]
pub struct AppConfig {
    pub name: String,
    pub version: String,
    pub description: String,
    pub policy: Policy,
    pub budget: Budget,
    pub resources: bool,
    pub prompts: bool,
    pub tools: bool,
    /// The role stdio requests act with, in every project (`MCP_STDIO_ROLE`).
    pub stdio_role: auth::Role,
    /// Tool calls per second one principal may make in this process; 0 = no limit
    /// (`MCP_PRINCIPAL_RATE_LIMIT`).
    pub principal_rate_limit: u32,
    /// Log the experimental capabilities and extensions clients announce
    /// (`MCP_LOG_UNKNOWN_CAPABILITIES`).
    pub log_unknown_capabilities: bool,
    /// The server's public URL (`MCP_HTTP_PUBLIC_URL`): the plan view links to the web console
    /// page of a plan under it (`{console_base}/console/plans/{plan_id}`); unset, it names the
    /// other ways to approve.
    pub console_base: Option<String>,
}

/// Why the server cannot be built.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AppError {
    #[error("{0}")]
    Catalog(String),
    #[error("{0}")]
    Config(String),
    #[error("metrics: {0}")]
    Metrics(#[from] prometheus::Error),
}

/// The server as a value, shared by every session.
pub struct App {
    /// Swapped whole on a reload; readers take the `Arc` in force (see [`App::config`]).
    config: RwLock<Arc<AppConfig>>,
    pub catalog: Arc<Catalog>,
    handlers: HashMap<&'static str, Handler>,
    pub ctx: tools::Ctx,
    pub metrics: McpMetrics,
    pub registry: prometheus::Registry,
    /// Cancelled when shutdown begins: the HTTP transport accepts no more connections and closes
    /// each one once its request in flight is answered; calls in flight go on. A child of
    /// [`App::shutdown`], so cancelling that alone still stops everything.
    pub stopping: CancellationToken,
    /// Cancelled once the calls in flight are done (or their grace period is over): sessions
    /// end, the transports return.
    pub shutdown: CancellationToken,
    /// In-flight tool calls, awaited on shutdown.
    pub calls: TaskTracker,
    /// The open sessions' peers, told when the tool list changes; closed ones are dropped as
    /// they are found.
    sessions: std::sync::Mutex<Vec<rmcp::Peer<rmcp::RoleServer>>>,
    /// Seals and opens the state of a call that waits for the client's input (2026-07-28): keyed
    /// from the master key, so every instance sharing the database accepts the others' states.
    pub(crate) request_states: rmcp::model::RequestStateCodec,
    pub(crate) principal_limits: limits::PrincipalLimits,
    pub(crate) unknown_capabilities: capabilities::UnknownCapabilities,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App")
            .field("config", &self.config())
            .field("tools", &self.handlers.len())
            .finish_non_exhaustive()
    }
}

impl App {
    /// Builds the server, refusing a catalog and handler table that do not match one to one,
    /// and a policy that names tools that do not exist.
    pub fn new(
        config: AppConfig,
        catalog: Arc<Catalog>,
        ctx: tools::Ctx,
        registry: prometheus::Registry,
    ) -> Result<Arc<Self>, AppError> {
        let handlers: HashMap<&'static str, Handler> =
            tools::handlers().into_iter().map(|h| (h.name, h)).collect();
        check_one_to_one(&catalog, &handlers).map_err(AppError::Catalog)?;
        config.policy.check(&catalog).map_err(AppError::Config)?;
        let metrics = McpMetrics::register(&registry)?;
        let mut key = ctx
            .fleet
            .master_key()
            .derived_key(approval::STATE_KEY_PURPOSE);
        let request_states = rmcp::model::RequestStateCodec::try_new(std::mem::take(&mut *key))
            .map_err(|e| AppError::Config(format!("request state key: {e}")))?;
        let shutdown = CancellationToken::new();
        Ok(Arc::new(Self {
            config: RwLock::new(Arc::new(config)),
            catalog,
            handlers,
            ctx,
            metrics,
            registry,
            stopping: shutdown.child_token(),
            shutdown,
            calls: TaskTracker::new(),
            request_states,
            sessions: std::sync::Mutex::new(Vec::new()),
            principal_limits: limits::PrincipalLimits::default(),
            unknown_capabilities: capabilities::UnknownCapabilities::default(),
        }))
    }

    /// The configuration in force (a request keeps the one it started with).
    pub fn config(&self) -> Arc<AppConfig> {
        Arc::clone(
            &self
                .config
                .read()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        )
    }

    /// Replaces the configuration for every request from now on, after checking its tool policy
    /// against the catalog as [`App::new`] does; on a refusal the configuration in force stays.
    pub fn reconfigure(&self, config: AppConfig) -> Result<(), AppError> {
        config
            .policy
            .check(&self.catalog)
            .map_err(AppError::Config)?;
        *self
            .config
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = Arc::new(config);
        Ok(())
    }

    /// Remembers a session so that it hears of tool list changes.
    pub(crate) fn track_session(&self, peer: rmcp::Peer<rmcp::RoleServer>) {
        let mut sessions = self
            .sessions
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        sessions.retain(|p| !p.is_transport_closed());
        sessions.push(peer);
    }

    /// Sends `notifications/tools/list_changed` to every open session; how many were told.
    pub async fn notify_tools_changed(&self) -> usize {
        let peers: Vec<rmcp::Peer<rmcp::RoleServer>> = {
            let mut sessions = self
                .sessions
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            sessions.retain(|p| !p.is_transport_closed());
            sessions.clone()
        };
        let mut told = 0;
        for peer in peers {
            // A session that is going away is simply not told.
            let sent = tokio::time::timeout(
                std::time::Duration::from_secs(2),
                peer.notify_tool_list_changed(),
            )
            .await;
            if matches!(sent, Ok(Ok(()))) {
                told += 1;
            }
        }
        told
    }

    pub(crate) fn handler(&self, name: &str) -> Option<Handler> {
        self.handlers.get(name).copied()
    }

    pub fn store(&self) -> &store::Store {
        self.ctx.fleet.store()
    }
}

/// Every schema has a handler and every handler a schema.
pub fn check_one_to_one(
    catalog: &Catalog,
    handlers: &HashMap<&'static str, Handler>,
) -> Result<(), String> {
    let mut problems = Vec::new();
    for name in catalog.names() {
        if !handlers.contains_key(name) {
            problems.push(format!(
                "tool-schemas defines {name} but no handler implements it"
            ));
        }
    }
    for name in handlers.keys() {
        if catalog.get(name).is_none() {
            problems.push(format!("handler {name} has no schema in tool-schemas/"));
        }
    }
    if problems.is_empty() {
        Ok(())
    } else {
        problems.sort();
        Err(problems.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn handlers() -> HashMap<&'static str, Handler> {
        tools::handlers().into_iter().map(|h| (h.name, h)).collect()
    }

    #[test]
    fn every_schema_has_a_handler_and_every_handler_a_schema() {
        let catalog = Catalog::embedded().unwrap();
        check_one_to_one(&catalog, &handlers()).unwrap();
        assert_eq!(catalog.len(), handlers().len());
    }

    #[test]
    fn a_missing_handler_or_schema_is_named() {
        let catalog = Catalog::embedded().unwrap();
        let mut fewer = handlers();
        fewer.remove("dns.get_config");
        let e = check_one_to_one(&catalog, &fewer).unwrap_err();
        assert_eq!(
            e,
            "tool-schemas defines dns.get_config but no handler implements it"
        );
        let mut more = handlers();
        let mut extra = *more.get("dns.get_config").unwrap();
        extra.name = "dns.flush_cache";
        more.insert("dns.flush_cache", extra);
        let e = check_one_to_one(&catalog, &more).unwrap_err();
        assert_eq!(e, "handler dns.flush_cache has no schema in tool-schemas/");
    }
}
