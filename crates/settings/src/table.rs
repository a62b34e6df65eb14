//! The table of every setting: its key in a configuration file, its environment variable, its
//! built-in default, whether it is secret, and a one-line explanation.
//!
//! Environment variable names are contracts (operators and deployment manifests use them), so
//! they are listed explicitly rather than derived from keys. A test walks the table row by row.

/// One configurable setting.
#[derive(Debug, Clone, Copy)]
pub struct Row {
    /// Dotted key in a configuration file (`http.port` is `[http] port = …` in TOML).
    pub key: &'static str,
    /// Environment variable that overrides the file.
    pub env: &'static str,
    /// Built-in default as text; `None` means unset unless a profile sets it.
    pub default: Option<&'static str>,
    /// Shown masked by `config show` and never logged.
    pub secret: bool,
    /// What the setting does, for `config show` and the docs.
    pub doc: &'static str,
}

const fn row(
    key: &'static str,
    env: &'static str,
    default: Option<&'static str>,
    doc: &'static str,
) -> Row {
    Row {
        key,
        env,
        default,
        secret: false,
        doc,
    }
}

const fn secret(key: &'static str, env: &'static str, doc: &'static str) -> Row {
    Row {
        key,
        env,
        default: None,
        secret: true,
        doc,
    }
}

/// Every setting, in the order `config show` prints them.
pub const ROWS: &[Row] = &[
    row(
        "env",
        "MCP_ENV",
        Some("lab"),
        "deployment environment: lab|staging|prod (selects the profile)",
    ),
    row(
        "server.name",
        "MCP_SERVER_NAME",
        Some("routeros-mcp"),
        "name announced to MCP clients",
    ),
    row(
        "server.version",
        "MCP_SERVER_VERSION",
        Some(env!("CARGO_PKG_VERSION")),
        "version announced to MCP clients",
    ),
    row(
        "server.description",
        "MCP_SERVER_DESCRIPTION",
        Some(
            "Operate MikroTik RouterOS devices safely: read anything, change only what a human approved",
        ),
        "description announced to MCP clients",
    ),
    row(
        "transport.mode",
        "MCP_TRANSPORT",
        Some("stdio"),
        "MCP transport: stdio|http|both",
    ),
    row(
        "http.host",
        "MCP_HTTP_HOST",
        Some("127.0.0.1"),
        "address the HTTP transport binds",
    ),
    row(
        "http.port",
        "MCP_HTTP_PORT",
        Some("8080"),
        "port the HTTP transport binds; 0 picks a free port and prints it at start",
    ),
    row(
        "http.base_path",
        "MCP_HTTP_BASE_PATH",
        Some("/mcp"),
        "path of the Streamable HTTP endpoint",
    ),
    row(
        "http.allowed_origins",
        "MCP_HTTP_ALLOWED_ORIGINS",
        Some(""),
        "browser origins allowed besides the server's own (http://HOST:PORT of the bind and of localhost, 127.0.0.1, [::1] on the bound port), comma-separated exact scheme://host:port; any other Origin is refused with 403",
    ),
    row(
        "http.max_sessions",
        "MCP_HTTP_MAX_SESSIONS",
        Some("256"),
        "most MCP sessions open at once on the HTTP transport; an initialize beyond it gets HTTP 503",
    ),
    row(
        "http.session_idle_seconds",
        "MCP_HTTP_SESSION_IDLE_SECONDS",
        Some("300"),
        "an HTTP session with no request for this long is closed, freeing its slot",
    ),
    row(
        "http.header_timeout_seconds",
        "MCP_HTTP_HEADER_TIMEOUT_SECONDS",
        Some("10"),
        "a connection that has not sent complete request headers within this time is closed",
    ),
    row(
        "http.public_url",
        "MCP_HTTP_PUBLIC_URL",
        None,
        "the URL clients reach the MCP endpoint at, behind a proxy or tunnel (https://mcp.example.net/mcp): its host is accepted in Host headers, and it names the protected resource bearer tokens are issued for; unset: http://MCP_HTTP_HOST:MCP_HTTP_PORT followed by MCP_HTTP_BASE_PATH",
    ),
    row(
        "rate_limit.principal_per_second",
        "MCP_PRINCIPAL_RATE_LIMIT",
        Some("0"),
        "tool calls per second one principal (a token's or user's subject; the stdio user) may make over all its sessions and instances' requests to this process, a burst of as many allowed; a call beyond it is refused with the wait. 0 = no limit. Changes on SIGHUP",
    ),
    row(
        "http.max_init_per_second",
        "MAX_INIT_PER_SECOND",
        Some("50"),
        "MCP initialize requests accepted per second over HTTP, server-wide (a burst of as many is allowed); one beyond it gets HTTP 429 with Retry-After. Stateless (2026-07-28) requests are not initializes and are not counted",
    ),
    row(
        "shutdown.grace_seconds",
        "MCP_SHUTDOWN_GRACE_SECONDS",
        Some("30"),
        "on SIGTERM or SIGINT, how long tool calls in flight (a plan being applied among them) may take to finish before the server exits anyway; 0 = do not wait. Under systemd keep TimeoutStopSec above it",
    ),
    row(
        "features.tools",
        "MCP_ENABLE_TOOLS",
        Some("true"),
        "serve MCP tools",
    ),
    row(
        "features.resources",
        "MCP_ENABLE_RESOURCES",
        Some("false"),
        "serve MCP resources",
    ),
    row(
        "features.prompts",
        "MCP_ENABLE_PROMPTS",
        Some("false"),
        "serve MCP prompts",
    ),
    row(
        "tools.tiers",
        "MCP_TOOL_TIERS",
        Some("free"),
        "tool tiers to expose, comma-separated: free,basic,professional",
    ),
    row(
        "tools.default_tier",
        "MCP_DEFAULT_TOOL_TIER",
        Some("free"),
        "tier assumed for a client that asks for none",
    ),
    row(
        "tools.disabled",
        "MCP_DISABLE_TOOLS",
        Some(""),
        "tools to remove, comma-separated category.action names",
    ),
    row(
        "tools.read_only",
        "MCP_READ_ONLY",
        Some("false"),
        "expose only read-only tools; wins over every other tool setting",
    ),
    row(
        "token_budget.warning_threshold",
        "MCP_TOKEN_BUDGET_WARNING_THRESHOLD",
        Some("5000"),
        "estimated tokens above which a result carries a warning",
    ),
    row(
        "token_budget.error_threshold",
        "MCP_TOKEN_BUDGET_ERROR_THRESHOLD",
        Some("50000"),
        "estimated tokens above which a result is cut to fit, with a cursor",
    ),
    row(
        "plans.enable_apply",
        "MCP_ENABLE_PLAN_APPLY",
        Some("true"),
        "allow approved plans to be applied (false pauses every change)",
    ),
    row(
        "plans.approval_timeout_seconds",
        "MCP_PLAN_APPROVAL_TIMEOUT_SECONDS",
        Some("900"),
        "lifetime of an approval token",
    ),
    row(
        "plans.confirm_timeout_seconds",
        "MCP_PLAN_CONFIRM_TIMEOUT_SECONDS",
        Some("120"),
        "how long the device-side auto-revert of a plan waits for the server to confirm its changes; a change is sent only while more than `ROUTEROS_REQUEST_TIMEOUT_SECONDS` plus 1 s of it is left, so it must be above that",
    ),
    row(
        "plans.auto_approve.lab",
        "MCP_PLAN_AUTO_APPROVE_LAB",
        Some("low"),
        "risks approved without a person when every device of the plan is lab: comma-separated low,medium (never high or critical), or empty",
    ),
    row(
        "plans.auto_approve.staging",
        "MCP_PLAN_AUTO_APPROVE_STAGING",
        Some(""),
        "risks approved without a person for plans touching staging devices",
    ),
    row(
        "plans.auto_approve.prod",
        "MCP_PLAN_AUTO_APPROVE_PROD",
        Some(""),
        "risks approved without a person for plans touching prod devices",
    ),
    row(
        "plans.elicitation.lab",
        "MCP_PLAN_ELICITATION_LAB",
        Some("true"),
        "whether plan.apply may ask the MCP client's user to approve a low or medium plan on lab devices (never high or critical)",
    ),
    row(
        "plans.elicitation.staging",
        "MCP_PLAN_ELICITATION_STAGING",
        Some("false"),
        "whether the client's user may approve plans touching staging devices",
    ),
    row(
        "plans.elicitation.prod",
        "MCP_PLAN_ELICITATION_PROD",
        Some("false"),
        "whether the client's user may approve plans touching prod devices",
    ),
    row(
        "client.log_unknown_capabilities",
        "MCP_LOG_UNKNOWN_CAPABILITIES",
        Some("true"),
        "log, once per client and set, the experimental capabilities and extensions a client announces that this server does not use",
    ),
    row(
        "resource_cache.enabled",
        "MCP_RESOURCE_CACHE_ENABLED",
        Some("true"),
        "keep router reads (print, export) for a short time, for tools and resources alike; any write to the device drops its entries (identical reads made at once are shared either way)",
    ),
    row(
        "resource_cache.ttl_seconds",
        "MCP_RESOURCE_CACHE_TTL_SECONDS",
        Some("3"),
        "how long a cached read is served; results from the cache say so in _meta.cache with their age",
    ),
    row(
        "resource_cache.max_entries",
        "MCP_RESOURCE_CACHE_MAX_ENTRIES",
        Some("1000"),
        "most cached reads kept (all devices together); the oldest is dropped first",
    ),
    secret(
        "database.url",
        "DATABASE_URL",
        "postgres://… or sqlite://PATH; unset: a SQLite file in the data directory",
    ),
    row(
        "database.pool_size",
        "DATABASE_POOL_SIZE",
        Some("10"),
        "database connections per process",
    ),
    row(
        "oidc.issuer",
        "OIDC_ISSUER",
        None,
        "OpenID Connect issuer URL",
    ),
    row(
        "oidc.audience",
        "OIDC_AUDIENCE",
        None,
        "audience required in bearer tokens; unset: the server's resource URL (MCP_HTTP_PUBLIC_URL or the bound address with MCP_HTTP_BASE_PATH)",
    ),
    row(
        "oidc.roles_claim",
        "OIDC_ROLES_CLAIM",
        Some("roles"),
        "token claim holding role entries, each ROLE (every project) or ORG/PROJECT:ROLE; a dotted path reads a nested claim (realm_access.roles); entries in the scope claim count too",
    ),
    row(
        "oidc.client_id",
        "OIDC_CLIENT_ID",
        None,
        "the web console's client id at the OpenID provider; with OIDC_ISSUER and OIDC_CLIENT_SECRET, people sign in to /console through the provider (authorization code with PKCE; redirect URI: the public URL's origin followed by /console/callback)",
    ),
    secret(
        "oidc.client_secret",
        "OIDC_CLIENT_SECRET",
        "the web console's client secret at the OpenID provider (sent only to its token endpoint)",
    ),
    row(
        "console.session_idle_seconds",
        "MCP_CONSOLE_SESSION_IDLE_SECONDS",
        Some("1800"),
        "a web console session unused for this long ends (the person signs in again)",
    ),
    row(
        "console.session_max_seconds",
        "MCP_CONSOLE_SESSION_MAX_SECONDS",
        Some("43200"),
        "a web console session ends this long after sign-in, used or not",
    ),
    row(
        "auth.mode",
        "MCP_AUTH_MODE",
        Some("none"),
        "HTTP transport authentication: oidc|token|none (none only on a loopback bind)",
    ),
    row(
        "auth.allow_api_tokens",
        "MCP_AUTH_ALLOW_API_TOKENS",
        Some("false"),
        "with MCP_AUTH_MODE=oidc, accept API tokens (routeros-mcp token create) too: the way in when the identity provider is down",
    ),
    row(
        "auth.stdio_role",
        "MCP_STDIO_ROLE",
        Some("operator"),
        "role of the stdio transport's local user, in every project (and of MCP calls with MCP_AUTH_MODE=none): viewer|operator|approver|admin",
    ),
    row(
        "cf_access.team_domain",
        "CF_ACCESS_TEAM_DOMAIN",
        None,
        "Cloudflare Access team domain (example.cloudflareaccess.com): with CF_ACCESS_AUD, every HTTP request must also carry a valid Cf-Access-Jwt-Assertion",
    ),
    row(
        "cf_access.aud",
        "CF_ACCESS_AUD",
        None,
        "Cloudflare Access application audience (AUD) tag required in the assertion",
    ),
    row(
        "log.level",
        "LOG_LEVEL",
        Some("info"),
        "log level (trace|debug|info|warn|error) or per-target directives",
    ),
    row(
        "log.format",
        "LOG_FORMAT",
        Some("text"),
        "log format on stderr: text|json",
    ),
    row(
        "devices.rate_limit",
        "ROUTEROS_DEVICE_RATE_LIMIT",
        Some("0"),
        "hard ceiling of requests per second to one device (all callers and drivers together); 0 = no ceiling, the concurrency cap alone protects the device",
    ),
    row(
        "devices.rate_burst",
        "ROUTEROS_DEVICE_RATE_BURST",
        Some("20"),
        "requests allowed in a burst above the ceiling (unused while the rate limit is 0)",
    ),
    row(
        "devices.concurrency",
        "ROUTEROS_DEVICE_CONCURRENCY",
        Some("4"),
        "calls in flight to one device",
    ),
    row(
        "devices.timeout_seconds",
        "ROUTEROS_REQUEST_TIMEOUT_SECONDS",
        Some("10"),
        "deadline of one call to a device",
    ),
    row(
        "devices.read_retries",
        "ROUTEROS_READ_RETRIES",
        Some("2"),
        "extra attempts for a read after a transient failure (writes are never retried)",
    ),
    row(
        "devices.breaker_failures",
        "ROUTEROS_BREAKER_FAILURES",
        Some("5"),
        "consecutive failures after which a device is not tried for a cool-down",
    ),
    row(
        "devices.breaker_cooldown_seconds",
        "ROUTEROS_BREAKER_COOLDOWN_SECONDS",
        Some("30"),
        "cool-down before one probe call tries an unreachable device again",
    ),
    row(
        "devices.idle_seconds",
        "ROUTEROS_DEVICE_IDLE_SECONDS",
        Some("120"),
        "a device's connections (REST keep-alive, SSH session) are closed after this long without a call and reopened by the next one",
    ),
    row(
        "runbooks.dir",
        "ROUTEROS_MCP_RUNBOOK_DIR",
        None,
        "folder of the operator's runbooks (markdown, beside the built-ins; reread when files change); unset: the built-ins only",
    ),
    row(
        "runbooks.env_file",
        "ROUTEROS_MCP_RUNBOOK_ENV",
        None,
        "env.yaml whose values runbooks use as {env[key]} (a value marked secret: true is never shown)",
    ),
    row(
        "runbooks.log_retention_days",
        "ROUTEROS_MCP_RUNBOOK_LOG_RETENTION_DAYS",
        Some("90"),
        "days a finished runbook run's execution log is kept (1-3650); logs a proposed version learned from are kept while it exists",
    ),
    row(
        "backup.interval",
        "ROUTEROS_MCP_BACKUP_INTERVAL",
        Some("24h"),
        "how often each device's configuration is backed up (a snapshot is stored only when it changed): a number with s, m, h or d (1m-365d); 0 = no scheduled backups",
    ),
    row(
        "backup.keep",
        "ROUTEROS_MCP_BACKUP_KEEP",
        Some("30"),
        "configuration snapshots kept per device, newest first (1-10000); the one drift is measured against is always kept",
    ),
    row(
        "backup.max_age_days",
        "ROUTEROS_MCP_BACKUP_MAX_AGE_DAYS",
        Some("90"),
        "days a configuration snapshot is kept (0-36500; 0 = by count only); a device's newest is always kept",
    ),
    row(
        "backup.show_sensitive",
        "ROUTEROS_MCP_BACKUP_SHOW_SENSITIVE",
        Some("false"),
        "back up with show-sensitive (keys, passwords) and keep those snapshots encrypted under the master key; tools still hide secrets",
    ),
    row(
        "runbooks.llm_base_url",
        "RUNBOOK_LLM_BASE_URL",
        None,
        "OpenAI-compatible endpoint (…/v1) that drafts a revision after an improvable failed run, queued for a person's review: https://, or http:// only to a loopback address; unset: revisions come from the assistant (runbook.propose_revision)",
    ),
    secret(
        "runbooks.llm_api_key",
        "RUNBOOK_LLM_API_KEY",
        "bearer key for RUNBOOK_LLM_BASE_URL (optional for a local endpoint)",
    ),
    row(
        "runbooks.llm_model",
        "RUNBOOK_LLM_MODEL",
        None,
        "model name sent to RUNBOOK_LLM_BASE_URL (required with it)",
    ),
    secret(
        "webhook.url",
        "ROUTEROS_MCP_WEBHOOK_URL",
        "webhook told when a plan waits for approval, is approved or rejected, and is applied, rolled back or failed (Slack-compatible JSON): https://, or http:// only to a loopback address; a secret (a Slack URL embeds its token); unset: no notifications",
    ),
    row(
        "storage.data_dir",
        "ROUTEROS_MCP_DATA_DIR",
        None,
        "data directory (SQLite file, generated lab key); default: the platform data directory",
    ),
    secret(
        "vault.master_key",
        "ROUTEROS_MCP_MASTER_KEY",
        "master key, base64 of 32 bytes",
    ),
    row(
        "vault.master_key_file",
        "ROUTEROS_MCP_MASTER_KEY_FILE",
        None,
        "file holding the master key",
    ),
];

/// Variables read by the loader that are not settings rows.
pub const CONFIG_PATH_ENV: &str = "ROUTEROS_MCP_CONFIG";

/// Profile defaults: what each environment changes relative to the built-in defaults.
/// Lab is permissive (everything visible), prod restrictive.
pub fn profile(env: domain::Environment) -> &'static [(&'static str, &'static str)] {
    use domain::Environment;
    match env {
        Environment::Lab => &[
            ("tools.tiers", "free,basic,professional"),
            ("tools.default_tier", "professional"),
            ("features.resources", "true"),
            ("features.prompts", "true"),
            ("log.level", "debug"),
        ],
        Environment::Staging => &[
            ("tools.tiers", "free,basic,professional"),
            ("tools.default_tier", "basic"),
            ("features.resources", "true"),
            ("features.prompts", "true"),
            ("auth.mode", "oidc"),
            ("log.format", "json"),
        ],
        Environment::Prod => &[
            ("tools.tiers", "free,basic"),
            ("features.resources", "true"),
            ("features.prompts", "true"),
            ("auth.mode", "oidc"),
            ("log.format", "json"),
            ("plans.approval_timeout_seconds", "600"),
        ],
    }
}

/// Looks a row up by key. Every key used by the loader is in the table (a test checks).
pub fn find(key: &str) -> Option<&'static Row> {
    ROWS.iter().find(|r| r.key == key)
}
