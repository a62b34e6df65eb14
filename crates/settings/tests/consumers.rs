//! Every row of the settings table is read by the product: a setting that is accepted and
//! documented but changes nothing is a defect.
//!
//! Each row is mapped to the field (or accessor) of [`settings::Settings`] that carries its value,
//! and that name must occur in the source of a crate other than `settings` (tests and benches do
//! not count). A new row needs an entry here, and the entry needs a reader.

#![allow(clippy::expect_used)]

use std::path::{Path, PathBuf};

use settings::table::ROWS;

/// Row → what a consumer writes to read it (`d.`, `c.`, `t.` and `p.` are the server's names for
/// the device limits, the read cache, the tool policy and the plan settings it hands on).
const READERS: &[(&str, &str)] = &[
    ("MCP_ENV", ".environment"),
    ("MCP_SERVER_NAME", ".server.name"),
    ("MCP_SERVER_VERSION", ".server.version"),
    ("MCP_SERVER_DESCRIPTION", ".server.description"),
    ("MCP_TRANSPORT", ".transport"),
    ("MCP_HTTP_HOST", ".http.host"),
    ("MCP_HTTP_PORT", ".http.port"),
    ("MCP_HTTP_BASE_PATH", ".http.base_path"),
    ("MCP_HTTP_ALLOWED_ORIGINS", ".http.allowed_origins"),
    ("MCP_HTTP_MAX_SESSIONS", ".http.max_sessions"),
    ("MCP_HTTP_SESSION_IDLE_SECONDS", ".http.session_idle"),
    ("MCP_HTTP_HEADER_TIMEOUT_SECONDS", ".http.header_timeout"),
    ("MCP_HTTP_PUBLIC_URL", ".http.public_url"),
    ("MCP_PRINCIPAL_RATE_LIMIT", ".clients.principal_rate_limit"),
    ("MAX_INIT_PER_SECOND", ".http.max_init_per_second"),
    ("MCP_SHUTDOWN_GRACE_SECONDS", ".shutdown_grace"),
    ("MCP_ENABLE_TOOLS", ".features.tools"),
    ("MCP_ENABLE_RESOURCES", ".features.resources"),
    ("MCP_ENABLE_PROMPTS", ".features.prompts"),
    ("MCP_TOOL_TIERS", "t.tiers"),
    ("MCP_DEFAULT_TOOL_TIER", "t.default_tier"),
    ("MCP_DISABLE_TOOLS", "t.disabled"),
    ("MCP_READ_ONLY", "t.read_only"),
    (
        "MCP_TOKEN_BUDGET_WARNING_THRESHOLD",
        ".token_budget.warning_threshold",
    ),
    (
        "MCP_TOKEN_BUDGET_ERROR_THRESHOLD",
        ".token_budget.error_threshold",
    ),
    ("MCP_ENABLE_PLAN_APPLY", "p.enable_apply"),
    ("MCP_PLAN_APPROVAL_TIMEOUT_SECONDS", "p.approval_timeout"),
    ("MCP_PLAN_CONFIRM_TIMEOUT_SECONDS", "p.confirm_timeout"),
    ("MCP_PLAN_AUTO_APPROVE_LAB", ".auto_approve("),
    ("MCP_PLAN_AUTO_APPROVE_STAGING", ".auto_approve("),
    ("MCP_PLAN_AUTO_APPROVE_PROD", ".auto_approve("),
    ("MCP_PLAN_ELICITATION_LAB", ".elicitation("),
    ("MCP_PLAN_ELICITATION_STAGING", ".elicitation("),
    ("MCP_PLAN_ELICITATION_PROD", ".elicitation("),
    (
        "MCP_LOG_UNKNOWN_CAPABILITIES",
        ".clients.log_unknown_capabilities",
    ),
    ("MCP_RESOURCE_CACHE_ENABLED", "c.enabled"),
    ("MCP_RESOURCE_CACHE_TTL_SECONDS", "c.ttl"),
    ("MCP_RESOURCE_CACHE_MAX_ENTRIES", "c.max_entries"),
    ("DATABASE_URL", ".database"),
    ("DATABASE_POOL_SIZE", ".database_pool_size"),
    ("OIDC_ISSUER", ".oidc.issuer"),
    ("OIDC_AUDIENCE", ".oidc.audience"),
    ("OIDC_ROLES_CLAIM", ".oidc.roles_claim"),
    ("OIDC_CLIENT_ID", ".oidc.client_id"),
    ("OIDC_CLIENT_SECRET", ".oidc.client_secret"),
    ("MCP_CONSOLE_SESSION_IDLE_SECONDS", ".console.session_idle"),
    ("MCP_CONSOLE_SESSION_MAX_SECONDS", ".console.session_max"),
    ("MCP_AUTH_MODE", ".auth_mode"),
    ("MCP_AUTH_ALLOW_API_TOKENS", ".auth.allow_api_tokens"),
    ("MCP_STDIO_ROLE", ".auth.stdio_role"),
    ("CF_ACCESS_TEAM_DOMAIN", ".auth.cf_access"),
    ("CF_ACCESS_AUD", ".auth.cf_access"),
    ("LOG_LEVEL", ".log.level"),
    ("LOG_FORMAT", ".log.format"),
    ("ROUTEROS_DEVICE_RATE_LIMIT", "d.rate_per_second"),
    ("ROUTEROS_DEVICE_RATE_BURST", "d.burst"),
    ("ROUTEROS_DEVICE_CONCURRENCY", "d.concurrency"),
    ("ROUTEROS_REQUEST_TIMEOUT_SECONDS", "d.timeout"),
    ("ROUTEROS_READ_RETRIES", "d.read_retries"),
    ("ROUTEROS_BREAKER_FAILURES", "d.breaker_failures"),
    ("ROUTEROS_BREAKER_COOLDOWN_SECONDS", "d.breaker_cooldown"),
    ("ROUTEROS_DEVICE_IDLE_SECONDS", "d.idle"),
    ("ROUTEROS_MCP_RUNBOOK_DIR", ".runbooks.dir"),
    ("ROUTEROS_MCP_RUNBOOK_ENV", ".runbooks.env_file"),
    (
        "ROUTEROS_MCP_RUNBOOK_LOG_RETENTION_DAYS",
        ".runbooks.log_retention",
    ),
    ("RUNBOOK_LLM_BASE_URL", ".runbooks.llm"),
    ("RUNBOOK_LLM_API_KEY", "llm.api_key"),
    ("RUNBOOK_LLM_MODEL", "llm.model"),
    ("ROUTEROS_MCP_WEBHOOK_URL", ".webhook.url"),
    ("ROUTEROS_MCP_BACKUP_INTERVAL", ".backup.interval"),
    ("ROUTEROS_MCP_BACKUP_KEEP", ".backup.keep"),
    ("ROUTEROS_MCP_BACKUP_MAX_AGE_DAYS", ".backup.max_age"),
    (
        "ROUTEROS_MCP_BACKUP_SHOW_SENSITIVE",
        ".backup.show_sensitive",
    ),
    ("ROUTEROS_MCP_DATA_DIR", ".data_dir"),
    ("ROUTEROS_MCP_MASTER_KEY", ".vault.master_key"),
    ("ROUTEROS_MCP_MASTER_KEY_FILE", ".vault.master_key_file"),
];

/// The Rust sources of the product outside this crate, without tests and benches.
fn product_sources() -> String {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("crates folder")
        .to_path_buf();
    let mut text = String::new();
    let mut stack: Vec<PathBuf> = vec![crates.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).expect("readable source folder") {
            let path = entry.expect("directory entry").path();
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
            if path.is_dir() {
                let skip = matches!(name, "tests" | "benches" | "target")
                    || path == crates.join("settings");
                if !skip {
                    stack.push(path);
                }
            } else if name.ends_with(".rs") {
                text.push_str(&std::fs::read_to_string(&path).expect("readable source"));
                text.push('\n');
            }
        }
    }
    text
}

#[test]
fn every_row_has_a_reader_entry_and_every_entry_a_row() {
    for row in ROWS {
        assert!(
            READERS.iter().any(|(env, _)| *env == row.env),
            "{} has no entry in READERS: name the field that carries it, or remove the row",
            row.env
        );
    }
    for (env, _) in READERS {
        assert!(
            ROWS.iter().any(|row| row.env == *env),
            "READERS names {env}, which is not a settings row"
        );
    }
}

#[test]
fn every_row_is_read_by_product_code() {
    // Without whitespace: rustfmt may break `s.oidc.issuer` over lines.
    let sources: String = product_sources()
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let unread: Vec<String> = READERS
        .iter()
        .filter(|(_, reader)| !sources.contains(reader))
        .map(|(env, reader)| format!("{env} (nothing reads `{reader}`)"))
        .collect();
    assert!(
        unread.is_empty(),
        "settings read by no code outside the settings crate: {}",
        unread.join(", ")
    );
}
