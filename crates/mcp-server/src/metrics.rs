//! The MCP layer's Prometheus metrics (names from the operations document).

use prometheus::{
    Histogram, HistogramOpts, HistogramVec, IntCounter, IntCounterVec, IntGauge, Opts, Registry,
};

/// Every metric family of the MCP layer.
#[derive(Debug, Clone)]
pub struct McpMetrics {
    pub requests: IntCounterVec,
    pub tool_requests: IntCounterVec,
    pub tool_latency: HistogramVec,
    pub active_sessions: IntGauge,
    pub initialize_total: IntCounter,
    pub initialize_duration: Histogram,
    pub tool_estimated_tokens: HistogramVec,
    pub budget_warnings: IntCounterVec,
    pub budget_errors: IntCounterVec,
    /// Requests refused before reaching MCP or the admin API: missing or invalid credentials.
    pub auth_failures: IntCounterVec,
    /// Authenticated callers refused an action their role does not allow.
    pub rbac_denied: IntCounterVec,
    /// Tool calls refused because their principal exceeded `MCP_PRINCIPAL_RATE_LIMIT`.
    pub principal_rate_limited: IntCounter,
}

impl McpMetrics {
    pub fn register(registry: &Registry) -> Result<Self, prometheus::Error> {
        let m = Self {
            requests: IntCounterVec::new(
                Opts::new(
                    "mcp_requests_total",
                    "MCP requests by JSON-RPC method and outcome",
                ),
                &["method", "status"],
            )?,
            tool_requests: IntCounterVec::new(
                Opts::new("mcp_tool_requests_total", "Tool calls by tool and outcome"),
                &["tool_name", "status"],
            )?,
            tool_latency: HistogramVec::new(
                HistogramOpts::new("mcp_tool_latency_seconds", "Tool call latency").buckets(vec![
                    0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
                ]),
                &["tool_name"],
            )?,
            active_sessions: IntGauge::new("mcp_active_sessions", "Open MCP sessions")?,
            initialize_total: IntCounter::new("mcp_initialize_total", "MCP initialize handshakes")?,
            initialize_duration: Histogram::with_opts(
                HistogramOpts::new(
                    "mcp_initialize_duration_seconds",
                    "Time to answer initialize",
                )
                .buckets(vec![0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5]),
            )?,
            tool_estimated_tokens: HistogramVec::new(
                HistogramOpts::new(
                    "mcp_tool_estimated_tokens",
                    "Estimated tokens of tool results",
                )
                .buckets(vec![
                    50.0, 200.0, 1000.0, 5000.0, 20000.0, 50000.0, 100000.0,
                ]),
                &["tool_name"],
            )?,
            budget_warnings: IntCounterVec::new(
                Opts::new(
                    "mcp_tool_token_budget_warnings_total",
                    "Results over the token warning threshold",
                ),
                &["tool_name"],
            )?,
            budget_errors: IntCounterVec::new(
                Opts::new(
                    "mcp_tool_token_budget_errors_total",
                    "Results over the token error threshold (cut to fit)",
                ),
                &["tool_name"],
            )?,
            auth_failures: IntCounterVec::new(
                Opts::new(
                    "auth_failures_total",
                    "HTTP requests refused for missing or invalid credentials, by reason",
                ),
                &["reason"],
            )?,
            rbac_denied: IntCounterVec::new(
                Opts::new(
                    "rbac_authorization_denied_total",
                    "Actions refused because the caller's role does not allow them",
                ),
                &["role", "action"],
            )?,
            principal_rate_limited: IntCounter::new(
                "mcp_principal_rate_limited_total",
                "Tool calls refused because their principal exceeded MCP_PRINCIPAL_RATE_LIMIT",
            )?,
        };
        // Every reason shows from the start (at zero), so alerts can rely on the series.
        for reason in auth::FailureReason::ALL {
            m.auth_failures.with_label_values(&[reason.as_str()]);
        }
        registry.register(Box::new(m.auth_failures.clone()))?;
        registry.register(Box::new(m.rbac_denied.clone()))?;
        registry.register(Box::new(m.principal_rate_limited.clone()))?;
        registry.register(Box::new(m.requests.clone()))?;
        registry.register(Box::new(m.tool_requests.clone()))?;
        registry.register(Box::new(m.tool_latency.clone()))?;
        registry.register(Box::new(m.active_sessions.clone()))?;
        registry.register(Box::new(m.initialize_total.clone()))?;
        registry.register(Box::new(m.initialize_duration.clone()))?;
        registry.register(Box::new(m.tool_estimated_tokens.clone()))?;
        registry.register(Box::new(m.budget_warnings.clone()))?;
        registry.register(Box::new(m.budget_errors.clone()))?;
        Ok(m)
    }

    pub fn request(&self, method: &str, ok: bool) {
        self.requests
            .with_label_values(&[method, if ok { "ok" } else { "error" }])
            .inc();
    }
}
