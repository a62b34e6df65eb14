//! Configuration loading as an operator experiences it: precedence, provenance, and the messages
//! for bad values.

#![allow(clippy::unwrap_used, clippy::expect_used)]
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use domain::{Environment, Tier};
use settings::table::ROWS;
use settings::{AuthMode, DatabaseTarget, Loader, Source, Transport};

fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    // A data dir so tests never depend on the machine's HOME.
    if !pairs.iter().any(|(k, _)| *k == "ROUTEROS_MCP_DATA_DIR") {
        v.push((
            "ROUTEROS_MCP_DATA_DIR".into(),
            "/tmp/routeros-mcp-test".into(),
        ));
    }
    v
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn entry<'a>(loaded: &'a settings::Loaded, key: &str) -> &'a settings::ValueEntry {
    loaded.entries.iter().find(|e| e.key == key).unwrap()
}

#[test]
fn defaults_give_a_lab_server_on_a_sqlite_file() {
    let loaded = Loader::new(None, env(&[])).load().unwrap();
    let s = &loaded.settings;
    assert_eq!(s.environment, Environment::Lab);
    assert_eq!(s.transport, Transport::Stdio);
    assert_eq!(s.http.host, "127.0.0.1");
    assert_eq!(s.http.port, 8080);
    assert_eq!(s.http.base_path, "/mcp");
    assert_eq!(s.server.name, "routeros-mcp");
    assert_eq!(s.token_budget.warning_threshold, 5000);
    assert_eq!(s.token_budget.error_threshold, 50000);
    assert!(
        matches!(&s.database, DatabaseTarget::Sqlite(p) if p == Path::new("/tmp/routeros-mcp-test/routeros-mcp.sqlite"))
    );
    // One person's calls never wait for a rate: only the concurrency cap, and a short read cache.
    assert_eq!(s.devices.rate_per_second, 0);
    assert_eq!(s.devices.concurrency, 4);
    assert!(s.resource_cache.enabled);
    assert_eq!(s.resource_cache.ttl.as_secs(), 3);
    assert_eq!(s.resource_cache.max_entries, 1000);
    // Lab profile is permissive.
    assert_eq!(
        s.tools.tiers,
        vec![Tier::Free, Tier::Basic, Tier::Professional]
    );
    assert_eq!(
        entry(&loaded, "tools.tiers").source,
        Source::Profile(Environment::Lab)
    );
    assert_eq!(entry(&loaded, "http.port").source, Source::Default);
    assert_eq!(entry(&loaded, "database.url").source, Source::Computed);
}

#[test]
fn every_setting_is_shown_once_and_every_variable_is_distinct() {
    let loaded = Loader::new(None, env(&[])).load().unwrap();
    let shown: Vec<_> = loaded.entries.iter().map(|e| e.key).collect();
    let table: Vec<_> = ROWS.iter().map(|r| r.key).collect();
    assert_eq!(
        shown.iter().collect::<BTreeSet<_>>(),
        table.iter().collect::<BTreeSet<_>>()
    );
    assert_eq!(shown.len(), table.len(), "a setting was recorded twice");
    let vars: BTreeSet<_> = ROWS.iter().map(|r| r.env).collect();
    assert_eq!(vars.len(), ROWS.len());
}

#[test]
fn each_variable_overrides_its_setting() {
    // Row by row: setting the variable changes what the loader reports, from the environment.
    let samples: &[(&str, &str)] = &[
        ("MCP_ENV", "staging"),
        ("MCP_SERVER_NAME", "edge-mcp"),
        ("MCP_SERVER_VERSION", "9.9.9"),
        ("MCP_SERVER_DESCRIPTION", "x"),
        ("MCP_TRANSPORT", "both"),
        ("MCP_HTTP_HOST", "127.0.0.2"),
        ("MCP_HTTP_PORT", "9090"),
        ("MCP_HTTP_BASE_PATH", "/api/mcp"),
        (
            "MCP_HTTP_ALLOWED_ORIGINS",
            "https://console.example.com:443",
        ),
        ("MCP_HTTP_MAX_SESSIONS", "8"),
        ("MCP_HTTP_SESSION_IDLE_SECONDS", "120"),
        ("MCP_HTTP_HEADER_TIMEOUT_SECONDS", "4"),
        ("MAX_INIT_PER_SECOND", "7"),
        ("MCP_SHUTDOWN_GRACE_SECONDS", "5"),
        ("MCP_HTTP_PUBLIC_URL", "https://mcp.example.net/mcp"),
        ("MCP_ENABLE_TOOLS", "false"),
        ("MCP_ENABLE_RESOURCES", "false"),
        ("MCP_ENABLE_PROMPTS", "false"),
        ("MCP_TOOL_TIERS", "free,basic"),
        ("MCP_DEFAULT_TOOL_TIER", "basic"),
        ("MCP_DISABLE_TOOLS", "firewall.plan_filter_rule"),
        ("MCP_READ_ONLY", "true"),
        ("MCP_TOKEN_BUDGET_WARNING_THRESHOLD", "1000"),
        ("MCP_TOKEN_BUDGET_ERROR_THRESHOLD", "20000"),
        ("MCP_ENABLE_PLAN_APPLY", "false"),
        ("MCP_PLAN_APPROVAL_TIMEOUT_SECONDS", "1800"),
        ("MCP_PLAN_CONFIRM_TIMEOUT_SECONDS", "300"),
        ("MCP_PLAN_AUTO_APPROVE_LAB", "low,medium"),
        ("MCP_PLAN_AUTO_APPROVE_STAGING", "low"),
        ("MCP_PLAN_AUTO_APPROVE_PROD", "low"),
        ("MCP_PLAN_ELICITATION_LAB", "false"),
        ("MCP_PLAN_ELICITATION_STAGING", "true"),
        ("MCP_PLAN_ELICITATION_PROD", "true"),
        ("MCP_LOG_UNKNOWN_CAPABILITIES", "false"),
        ("MCP_PRINCIPAL_RATE_LIMIT", "25"),
        ("MCP_RESOURCE_CACHE_ENABLED", "true"),
        ("MCP_RESOURCE_CACHE_TTL_SECONDS", "60"),
        ("MCP_RESOURCE_CACHE_MAX_ENTRIES", "50"),
        ("DATABASE_URL", "postgres://app:pw@127.0.0.1/mcp"),
        ("DATABASE_POOL_SIZE", "3"),
        ("OIDC_ISSUER", "https://id.example.com"),
        ("OIDC_AUDIENCE", "routeros-mcp"),
        ("MCP_AUTH_MODE", "oidc"),
        ("OIDC_ROLES_CLAIM", "groups"),
        ("OIDC_CLIENT_ID", "routeros-console"),
        ("OIDC_CLIENT_SECRET", "console-secret"),
        ("MCP_CONSOLE_SESSION_IDLE_SECONDS", "600"),
        ("MCP_CONSOLE_SESSION_MAX_SECONDS", "7200"),
        ("MCP_AUTH_ALLOW_API_TOKENS", "true"),
        ("MCP_STDIO_ROLE", "viewer"),
        ("CF_ACCESS_TEAM_DOMAIN", "team.cloudflareaccess.com"),
        ("CF_ACCESS_AUD", "aud-tag"),
        ("LOG_LEVEL", "warn"),
        ("LOG_FORMAT", "json"),
        ("ROUTEROS_DEVICE_RATE_LIMIT", "5"),
        ("ROUTEROS_DEVICE_RATE_BURST", "5"),
        ("ROUTEROS_DEVICE_CONCURRENCY", "2"),
        ("ROUTEROS_REQUEST_TIMEOUT_SECONDS", "3"),
        ("ROUTEROS_READ_RETRIES", "0"),
        ("ROUTEROS_BREAKER_FAILURES", "3"),
        ("ROUTEROS_BREAKER_COOLDOWN_SECONDS", "5"),
        ("ROUTEROS_DEVICE_IDLE_SECONDS", "45"),
        ("ROUTEROS_MCP_RUNBOOK_DIR", "/srv/runbooks"),
        ("ROUTEROS_MCP_RUNBOOK_ENV", "/srv/runbooks/env.yaml"),
        ("ROUTEROS_MCP_RUNBOOK_LOG_RETENTION_DAYS", "30"),
        ("ROUTEROS_MCP_BACKUP_INTERVAL", "6h"),
        ("ROUTEROS_MCP_BACKUP_KEEP", "10"),
        ("ROUTEROS_MCP_BACKUP_MAX_AGE_DAYS", "30"),
        ("ROUTEROS_MCP_BACKUP_SHOW_SENSITIVE", "true"),
        ("RUNBOOK_LLM_BASE_URL", "https://llm.example.net/v1"),
        ("RUNBOOK_LLM_API_KEY", "sk-sample"),
        ("RUNBOOK_LLM_MODEL", "runbook-writer"),
        ("ROUTEROS_MCP_DATA_DIR", "/srv/mcp"),
        ("ROUTEROS_MCP_MASTER_KEY_FILE", "/etc/mcp/key"),
        (
            "ROUTEROS_MCP_WEBHOOK_URL",
            "https://hooks.slack.com/services/T0/B0/abc",
        ),
    ];
    for row in ROWS {
        if row.env == "ROUTEROS_MCP_MASTER_KEY" {
            continue; // exclusive with the key file; covered below
        }
        let (_, value) = samples
            .iter()
            .find(|(var, _)| *var == row.env)
            .unwrap_or_else(|| panic!("no sample value for {}", row.env));
        // Settings that only make sense together are given with their partner.
        let partner = match row.env {
            "CF_ACCESS_TEAM_DOMAIN" => Some(("CF_ACCESS_AUD", "aud-tag")),
            "CF_ACCESS_AUD" => Some(("CF_ACCESS_TEAM_DOMAIN", "team.cloudflareaccess.com")),
            "RUNBOOK_LLM_BASE_URL" => Some(("RUNBOOK_LLM_MODEL", "runbook-writer")),
            _ => None,
        };
        let mut vars = vec![(row.env, *value)];
        vars.extend(partner);
        let loaded = Loader::new(None, env(&vars))
            .load()
            .unwrap_or_else(|e| panic!("{}={value}: {e}", row.env));
        let e = entry(&loaded, row.key);
        assert_eq!(e.source, Source::Env(row.env), "{}", row.env);
    }
    let all = Loader::new(None, env(samples)).load().unwrap();
    let s = &all.settings;
    assert_eq!(s.environment, Environment::Staging);
    assert_eq!(s.transport, Transport::Both);
    assert_eq!(s.http.port, 9090);
    assert_eq!(s.http.base_path, "/api/mcp");
    assert_eq!(s.http.max_sessions, 8);
    assert_eq!(s.http.session_idle.as_secs(), 120);
    assert_eq!(s.http.header_timeout.as_secs(), 4);
    assert_eq!(s.tools.default_tier, Tier::Basic);
    assert_eq!(s.tools.disabled, vec!["firewall.plan_filter_rule"]);
    assert!(!s.plans.enable_apply);
    assert_eq!(s.plans.approval_timeout.as_secs(), 1800);
    assert_eq!(s.auth_mode, AuthMode::Oidc);
    assert_eq!(s.database_pool_size, 3);
    assert!(matches!(s.database, DatabaseTarget::Postgres(_)));
    assert_eq!(s.data_dir, PathBuf::from("/srv/mcp"));
    assert_eq!(s.devices.rate_per_second, 5);
    assert_eq!(s.devices.read_retries, 0);
    assert_eq!(s.devices.timeout.as_secs(), 3);
    assert_eq!(s.devices.idle.as_secs(), 45);
    assert_eq!(s.http.max_init_per_second, 7);
    assert_eq!(s.shutdown_grace.as_secs(), 5);
    assert_eq!(s.clients.principal_rate_limit, 25);
    assert!(!s.clients.log_unknown_capabilities);
    assert_eq!(s.oidc.client_id.as_deref(), Some("routeros-console"));
    assert!(s.oidc.client_secret.is_some());
    assert!(!format!("{:?}", s.oidc).contains("console-secret"));
    assert_eq!(s.console.session_idle.as_secs(), 600);
    assert_eq!(s.console.session_max.as_secs(), 7200);
}

#[test]
fn precedence_is_default_then_profile_then_file_then_environment() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "mcp.toml",
        "env = \"prod\"\n[http]\nport = 9000\nhost = \"127.0.0.1\"\n[tools]\ntiers = [\"free\"]\ndefault_tier = \"free\"\n[server]\nname = \"from-file\"\n",
    );
    let loaded = Loader::new(
        Some(file.clone()),
        env(&[("MCP_HTTP_PORT", "9100"), ("MCP_AUTH_MODE", "none")]),
    )
    .load()
    .unwrap();
    let s = &loaded.settings;
    assert_eq!(s.environment, Environment::Prod);
    assert_eq!(s.http.port, 9100);
    assert_eq!(s.server.name, "from-file");
    assert_eq!(s.tools.tiers, vec![Tier::Free]);
    assert_eq!(
        entry(&loaded, "http.port").source,
        Source::Env("MCP_HTTP_PORT")
    );
    assert_eq!(
        entry(&loaded, "server.name").source,
        Source::File(file.clone())
    );
    assert_eq!(entry(&loaded, "env").source, Source::File(file));
    // prod profile: JSON logs
    assert_eq!(
        entry(&loaded, "log.format").source,
        Source::Profile(Environment::Prod)
    );
    assert_eq!(
        entry(&loaded, "log.format").display.as_deref(),
        Some("json")
    );
}

#[test]
fn the_config_path_can_come_from_the_environment_and_yaml_and_json_work() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = write(dir.path(), "c.yaml", "http:\n  port: 8181\n");
    let loaded = Loader::new(
        None,
        env(&[("ROUTEROS_MCP_CONFIG", yaml.to_str().unwrap())]),
    )
    .load()
    .unwrap();
    assert_eq!(loaded.settings.http.port, 8181);
    let json = write(dir.path(), "c.json", r#"{"http": {"port": 8282}}"#);
    let loaded = Loader::new(Some(json), env(&[])).load().unwrap();
    assert_eq!(loaded.settings.http.port, 8282);
}

#[test]
fn invalid_values_name_the_variable_the_value_and_what_is_allowed_all_at_once() {
    let err = Loader::new(
        None,
        env(&[
            ("MCP_ENV", "qa"),
            ("MCP_HTTP_PORT", "80800"),
            ("MCP_TRANSPORT", "carrier-pigeon"),
            ("MCP_ENABLE_TOOLS", "maybe"),
            ("MCP_TOOL_TIERS", "free,gold"),
            ("MCP_PLAN_AUTO_APPROVE_PROD", "low,critical"),
            ("MCP_PLAN_AUTO_APPROVE_STAGING", "medium,high"),
            ("MCP_PLAN_AUTO_APPROVE_LAB", "small"),
        ]),
    )
    .load()
    .unwrap_err();
    let text = err.to_string();
    for expected in [
        "MCP_ENV=\"qa\" (environment): expected one of lab|staging|prod",
        "MCP_HTTP_PORT=\"80800\" (environment): expected a port number between 1 and 65535",
        "MCP_TRANSPORT=\"carrier-pigeon\" (environment): expected one of stdio|http|both",
        "MCP_ENABLE_TOOLS=\"maybe\" (environment): expected true or false",
        "\"gold\" is not a tier",
        "MCP_PLAN_AUTO_APPROVE_PROD=\"low,critical\" (environment): critical plans can cut a router off and always need a person",
        "MCP_PLAN_AUTO_APPROVE_STAGING=\"medium,high\" (environment): high plans can cut a router off and always need a person; expected a comma-separated list of low, medium, or nothing",
        "MCP_PLAN_AUTO_APPROVE_LAB=\"small\" (environment): \"small\" is not a risk",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn bad_values_in_a_file_name_the_key_and_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(
        dir.path(),
        "mcp.toml",
        "[http]\nport = \"eighty\"\nprot = 1\n",
    );
    let text = Loader::new(Some(file), env(&[]))
        .load()
        .unwrap_err()
        .to_string();
    assert!(text.contains("http.port = \"eighty\" (in "), "{text}");
    assert!(
        text.contains("unknown setting \"http.prot\"")
            && text.contains("did you mean \"http.port\""),
        "{text}"
    );
}

#[test]
fn unreadable_or_unknown_format_files_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let missing = Loader::new(Some(dir.path().join("nope.toml")), env(&[]))
        .load()
        .unwrap_err()
        .to_string();
    assert!(
        missing.contains("nope.toml") && missing.contains("cannot read"),
        "{missing}"
    );
    let ini = write(dir.path(), "x.ini", "a=b");
    let text = Loader::new(Some(ini), env(&[]))
        .load()
        .unwrap_err()
        .to_string();
    assert!(text.contains(".toml, .yaml, .yml or .json"), "{text}");
    let broken = write(dir.path(), "b.toml", "[http\nport=");
    assert!(Loader::new(Some(broken), env(&[])).load().is_err());
}

#[test]
fn database_urls_with_unknown_schemes_are_refused_without_echoing_passwords() {
    let text = Loader::new(None, env(&[("DATABASE_URL", "mysql://root:hunter2@db/x")]))
        .load()
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("DATABASE_URL=<hidden> (environment): unknown scheme \"mysql\""),
        "{text}"
    );
    assert!(!text.contains("hunter2"));
}

#[test]
fn secrets_are_masked_in_what_config_show_prints() {
    let loaded = Loader::new(
        None,
        env(&[
            ("DATABASE_URL", "postgres://app:topsecret@127.0.0.1/mcp"),
            (
                "ROUTEROS_MCP_MASTER_KEY",
                "c2VjcmV0LWtleS1tYXRlcmlhbC0zMi1ieXRlcy0hISE=",
            ),
            (
                "ROUTEROS_MCP_WEBHOOK_URL",
                "https://hooks.slack.com/services/T0/B0/xoxwebhooktoken",
            ),
        ]),
    )
    .load()
    .unwrap();
    let dump = format!("{:?}", loaded.entries);
    for secret in ["topsecret", "c2VjcmV0", "xoxwebhooktoken"] {
        assert!(!dump.contains(secret), "{secret} leaked: {dump}");
    }
    assert_eq!(
        entry(&loaded, "database.url").display.as_deref(),
        Some("postgres://app:****@127.0.0.1/mcp")
    );
    assert_eq!(
        entry(&loaded, "webhook.url").display.as_deref(),
        Some("********")
    );
    let settings = format!("{:?}", loaded.settings);
    assert!(!settings.contains("topsecret") && !settings.contains("xoxwebhooktoken"));
}

#[test]
fn unknown_variables_with_our_prefix_are_warned_about() {
    let loaded = Loader::new(None, env(&[("MCP_HTTP_PRT", "1")]))
        .load()
        .unwrap();
    assert!(
        loaded
            .warnings
            .iter()
            .any(|w| w.contains("MCP_HTTP_PRT") && w.contains("MCP_HTTP_PORT")),
        "{:?}",
        loaded.warnings
    );
}

#[test]
fn conflicting_settings_are_refused() {
    let text = Loader::new(
        None,
        env(&[
            ("MCP_TRANSPORT", "http"),
            ("MCP_HTTP_HOST", "0.0.0.0"),
            ("MCP_AUTH_MODE", "none"),
            ("MCP_TOKEN_BUDGET_WARNING_THRESHOLD", "9000"),
            ("MCP_TOKEN_BUDGET_ERROR_THRESHOLD", "8000"),
            ("MCP_TOOL_TIERS", "free"),
            ("MCP_DEFAULT_TOOL_TIER", "professional"),
            ("ROUTEROS_MCP_MASTER_KEY", "x"),
            ("ROUTEROS_MCP_MASTER_KEY_FILE", "/k"),
            ("MCP_PLAN_CONFIRM_TIMEOUT_SECONDS", "11"),
            ("ROUTEROS_REQUEST_TIMEOUT_SECONDS", "10"),
        ]),
    )
    .load()
    .unwrap_err()
    .to_string();
    for expected in [
        "MCP_PLAN_CONFIRM_TIMEOUT_SECONDS (11) must be above ROUTEROS_REQUEST_TIMEOUT_SECONDS (10) plus 1",
        "MCP_AUTH_MODE=none is only allowed when the HTTP transport binds a loopback address",
        "must be below MCP_TOKEN_BUDGET_ERROR_THRESHOLD",
        "MCP_DEFAULT_TOOL_TIER (professional) is not one of MCP_TOOL_TIERS (free)",
        "configure exactly one",
    ] {
        assert!(text.contains(expected), "missing {expected:?} in:\n{text}");
    }
}

#[test]
fn prod_serving_http_needs_oidc_settings() {
    let text = Loader::new(None, env(&[("MCP_ENV", "prod"), ("MCP_TRANSPORT", "http")]))
        .load()
        .unwrap_err()
        .to_string();
    assert!(
        text.contains("MCP_AUTH_MODE=oidc needs OIDC_ISSUER"),
        "{text}"
    );
}

#[test]
fn an_unwritable_data_dir_is_reported_clearly() {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "not-a-dir", "");
    let loaded = Loader::new(
        None,
        env(&[("ROUTEROS_MCP_DATA_DIR", file.join("sub").to_str().unwrap())]),
    )
    .load()
    .unwrap();
    let text = loaded.settings.prepare_data_dir().unwrap_err().to_string();
    assert!(
        text.contains("is not usable") && text.contains("ROUTEROS_MCP_DATA_DIR"),
        "{text}"
    );
}

#[test]
fn http_limits_and_origins_have_safe_defaults_and_refuse_bad_values() {
    let s = Loader::new(None, env(&[])).load().unwrap().settings;
    assert_eq!(s.http.max_sessions, 256);
    assert_eq!(s.http.session_idle.as_secs(), 300);
    assert_eq!(s.http.header_timeout.as_secs(), 10);
    assert!(s.http.allowed_origins.is_empty());

    let s = Loader::new(
        None,
        env(&[
            ("MCP_HTTP_MAX_SESSIONS", "3"),
            ("MCP_HTTP_SESSION_IDLE_SECONDS", "60"),
            ("MCP_HTTP_HEADER_TIMEOUT_SECONDS", "5"),
            (
                "MCP_HTTP_ALLOWED_ORIGINS",
                "https://Console.example.com:443, http://127.0.0.1:3000",
            ),
        ]),
    )
    .load()
    .unwrap()
    .settings;
    assert_eq!(s.http.max_sessions, 3);
    assert_eq!(
        s.http.allowed_origins,
        ["https://console.example.com:443", "http://127.0.0.1:3000"]
    );

    for (var, value, allowed) in [
        (
            "MCP_HTTP_MAX_SESSIONS",
            "0",
            "expected a whole number between 1 and 100000",
        ),
        (
            "MCP_HTTP_MAX_SESSIONS",
            "-5",
            "expected a whole number between 1 and 100000",
        ),
        (
            "MCP_HTTP_HEADER_TIMEOUT_SECONDS",
            "0",
            "expected a whole number between 1 and 300",
        ),
        (
            "MCP_HTTP_SESSION_IDLE_SECONDS",
            "forever",
            "expected a whole number between 1 and 86400",
        ),
        (
            "MCP_HTTP_ALLOWED_ORIGINS",
            "http://localhost:*",
            "no wildcard",
        ),
        (
            "MCP_HTTP_ALLOWED_ORIGINS",
            "*",
            "no http:// or https:// scheme",
        ),
        (
            "MCP_HTTP_ALLOWED_ORIGINS",
            "https://console.example.com",
            "has no port",
        ),
        (
            "MCP_HTTP_ALLOWED_ORIGINS",
            "https://console.example.com:443/app",
            "no path",
        ),
    ] {
        let text = Loader::new(None, env(&[(var, value)]))
            .load()
            .unwrap_err()
            .to_string();
        assert!(
            text.contains(&format!("{var}=\"{value}\" (environment)")) && text.contains(allowed),
            "{var}={value}: {text}"
        );
    }
}

#[test]
fn the_shutdown_grace_and_the_initialize_rate_have_defaults_and_bounds() {
    let s = Loader::new(None, env(&[])).load().unwrap().settings;
    assert_eq!(s.shutdown_grace.as_secs(), 30);
    assert_eq!(s.http.max_init_per_second, 50);
    assert_eq!(
        s.clients.principal_rate_limit, 0,
        "no per-principal limit unless asked"
    );
    let none = Loader::new(None, env(&[("MCP_SHUTDOWN_GRACE_SECONDS", "0")]))
        .load()
        .unwrap();
    assert_eq!(none.settings.shutdown_grace.as_secs(), 0);
    let e = Loader::new(
        None,
        env(&[
            ("MAX_INIT_PER_SECOND", "0"),
            ("MCP_SHUTDOWN_GRACE_SECONDS", "forever"),
            ("MCP_PRINCIPAL_RATE_LIMIT", "-1"),
        ]),
    )
    .load()
    .unwrap_err()
    .to_string();
    assert!(
        e.contains(
            "MAX_INIT_PER_SECOND=\"0\" (environment): expected a whole number between 1 and 100000"
        ),
        "{e}"
    );
    assert!(
        e.contains("MCP_SHUTDOWN_GRACE_SECONDS=\"forever\" (environment): expected a whole number between 0 and 3600"),
        "{e}"
    );
    assert!(
        e.contains("MCP_PRINCIPAL_RATE_LIMIT=\"-1\" (environment): expected a whole number between 0 and 1000000"),
        "{e}"
    );
}

#[test]
fn changes_between_two_loads_name_each_setting_and_never_a_secret_value() {
    let before = Loader::new(
        None,
        env(&[
            ("MCP_DISABLE_TOOLS", ""),
            ("DATABASE_URL", "postgres://app:first-secret@127.0.0.1/mcp"),
        ]),
    )
    .load()
    .unwrap();
    let same = Loader::new(
        None,
        env(&[
            ("MCP_DISABLE_TOOLS", ""),
            ("DATABASE_URL", "postgres://app:first-secret@127.0.0.1/mcp"),
        ]),
    )
    .load()
    .unwrap();
    assert!(settings::changes(&before.entries, &same.entries).is_empty());

    let after = Loader::new(
        None,
        env(&[
            ("MCP_DISABLE_TOOLS", "dns.get_config"),
            ("MCP_HTTP_PORT", "9090"),
            ("DATABASE_URL", "postgres://app:second-secret@127.0.0.1/mcp"),
        ]),
    )
    .load()
    .unwrap();
    let changes = settings::changes(&before.entries, &after.entries);
    let shown: Vec<String> = changes.iter().map(ToString::to_string).collect();
    assert_eq!(
        shown,
        [
            "MCP_HTTP_PORT changed from \"8080\" to \"9090\"",
            "MCP_DISABLE_TOOLS changed from (empty) to \"dns.get_config\"",
            "DATABASE_URL changed (a secret: its value is not shown)",
        ]
    );
    let debug = format!("{changes:?} {:?}", after.entries);
    assert!(!debug.contains("second-secret") && !debug.contains("first-secret"));
}

#[test]
fn auth_settings_are_checked_and_explained() {
    let s = Loader::new(None, env(&[])).load().unwrap().settings;
    assert_eq!(s.auth.stdio_role, settings::LocalRole::Operator);
    assert!(!s.auth.allow_api_tokens);
    assert!(s.auth.cf_access.is_none());
    assert_eq!(s.oidc.roles_claim, "roles");
    assert!(s.http.public_url.is_none());

    let s = Loader::new(
        None,
        env(&[
            ("MCP_STDIO_ROLE", "viewer"),
            ("CF_ACCESS_TEAM_DOMAIN", "Example.CloudflareAccess.com"),
            ("CF_ACCESS_AUD", "0123abcd"),
            ("MCP_HTTP_PUBLIC_URL", "https://mcp.example.net/mcp/"),
            ("OIDC_ROLES_CLAIM", "realm_access.roles"),
        ]),
    )
    .load()
    .unwrap()
    .settings;
    assert_eq!(s.auth.stdio_role, settings::LocalRole::Viewer);
    assert_eq!(
        s.auth.cf_access,
        Some(("example.cloudflareaccess.com".into(), "0123abcd".into()))
    );
    assert_eq!(
        s.http.public_url.as_deref(),
        Some("https://mcp.example.net/mcp")
    );
    assert_eq!(s.oidc.roles_claim, "realm_access.roles");

    for (vars, expected) in [
        (&[("MCP_STDIO_ROLE", "root")][..], "MCP_STDIO_ROLE"),
        (
            &[("CF_ACCESS_TEAM_DOMAIN", "team.example.com")][..],
            "go together",
        ),
        (
            &[
                ("CF_ACCESS_TEAM_DOMAIN", "https://team.example.com/"),
                ("CF_ACCESS_AUD", "x"),
            ][..],
            "no scheme, no path",
        ),
        (
            &[("MCP_HTTP_PUBLIC_URL", "mcp.example.net")][..],
            "MCP_HTTP_PUBLIC_URL",
        ),
        (
            &[("MCP_AUTH_ALLOW_API_TOKENS", "maybe")][..],
            "MCP_AUTH_ALLOW_API_TOKENS",
        ),
    ] {
        let text = Loader::new(None, env(vars)).load().unwrap_err().to_string();
        assert!(text.contains(expected), "{vars:?}: {text}");
    }
}

#[test]
fn a_model_endpoint_needs_a_model_and_a_url_and_its_key_is_not_shown() {
    let alone = Loader::new(
        None,
        env(&[("RUNBOOK_LLM_BASE_URL", "https://llm.example.net/v1")]),
    )
    .load()
    .unwrap_err()
    .to_string();
    assert!(alone.contains("RUNBOOK_LLM_MODEL"), "{alone}");
    let not_url = Loader::new(
        None,
        env(&[
            ("RUNBOOK_LLM_BASE_URL", "llm.example.net"),
            ("RUNBOOK_LLM_MODEL", "m"),
        ]),
    )
    .load()
    .unwrap_err()
    .to_string();
    assert!(not_url.contains("https://"), "{not_url}");
    let retention = Loader::new(
        None,
        env(&[("ROUTEROS_MCP_RUNBOOK_LOG_RETENTION_DAYS", "0")]),
    )
    .load()
    .unwrap_err()
    .to_string();
    assert!(
        retention.contains("ROUTEROS_MCP_RUNBOOK_LOG_RETENTION_DAYS"),
        "{retention}"
    );
    let loaded = Loader::new(
        None,
        env(&[
            ("RUNBOOK_LLM_BASE_URL", "https://llm.example.net/v1/"),
            ("RUNBOOK_LLM_MODEL", "writer"),
            ("RUNBOOK_LLM_API_KEY", "sk-do-not-show"),
        ]),
    )
    .load()
    .unwrap();
    let llm = loaded.settings.runbooks.llm.as_ref().unwrap();
    assert_eq!(llm.base_url, "https://llm.example.net/v1");
    assert!(!format!("{:?}", loaded.settings).contains("sk-do-not-show"));
}
