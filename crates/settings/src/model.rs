//! The resolved, typed configuration the rest of the program consumes.
//!
//! Nothing here is raw text: every field was validated by the loader, so code that holds a
//! [`Settings`] never re-checks it.

use std::fmt;
use std::os::unix::fs::DirBuilderExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use domain::{Environment, Tier, text_enum};
use secrecy::{ExposeSecret, SecretString};

use crate::SettingsError;

text_enum! {
    /// Which MCP transports to serve.
    Transport, "transport" { Stdio = "stdio", Http = "http", Both = "both" }
}

text_enum! {
    /// How HTTP clients authenticate.
    AuthMode, "auth mode" { Oidc = "oidc", Token = "token", None = "none" }
}

text_enum! {
    /// A role: what the stdio transport's local user acts with (`MCP_STDIO_ROLE`).
    LocalRole, "role" { Viewer = "viewer", Operator = "operator", Approver = "approver", Admin = "admin" }
}

text_enum! {
    /// Shape of log lines on stderr.
    LogFormat, "log format" { Text = "text", Json = "json" }
}

/// The effective configuration.
#[derive(Debug)]
pub struct Settings {
    pub environment: Environment,
    pub server: ServerInfo,
    pub transport: Transport,
    pub http: HttpSettings,
    pub features: Features,
    pub tools: ToolPolicy,
    pub token_budget: TokenBudget,
    pub plans: PlanSettings,
    pub clients: ClientSettings,
    pub resource_cache: ResourceCache,
    pub database: DatabaseTarget,
    pub database_pool_size: u32,
    pub oidc: OidcSettings,
    pub console: ConsoleSettings,
    pub auth_mode: AuthMode,
    pub auth: AuthSettings,
    pub log: LogSettings,
    pub devices: DeviceLimits,
    pub data_dir: PathBuf,
    pub vault: VaultSettings,
    pub runbooks: RunbookSettings,
    pub webhook: WebhookSettings,
    /// How long calls in flight may take to finish once shutdown begins.
    pub shutdown_grace: Duration,
    pub backup: BackupSettings,
}

/// Configuration backups (`ROUTEROS_MCP_BACKUP_*`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupSettings {
    /// How often each device is backed up; `None`: never on a schedule (the CLI still can).
    pub interval: Option<Duration>,
    /// Snapshots kept per device (the newest).
    pub keep: usize,
    /// Snapshots older than this are removed; `None`: by count only.
    pub max_age: Option<Duration>,
    /// Export with secrets and keep the snapshot encrypted under the master key.
    pub show_sensitive: bool,
}

/// How hard the server may push one device, and how it copes when one does not answer.
#[derive(Debug, Clone, Copy)]
pub struct DeviceLimits {
    /// Hard ceiling of requests per second; 0 = none (the concurrency cap alone).
    pub rate_per_second: u32,
    pub burst: u32,
    pub concurrency: u32,
    pub timeout: Duration,
    pub read_retries: u32,
    pub breaker_failures: u32,
    pub breaker_cooldown: Duration,
    /// Connections of a device without a call for this long are closed.
    pub idle: Duration,
}

/// What the server announces in `serverInfo`.
#[derive(Debug, Clone)]
pub struct ServerInfo {
    pub name: String,
    pub version: String,
    pub description: String,
}

#[derive(Debug, Clone)]
pub struct HttpSettings {
    pub host: String,
    pub port: u16,
    /// Always starts with `/`, never ends with one (except the root itself).
    pub base_path: String,
    /// Extra browser origins allowed, each `scheme://host:port` in lower case (the server's own
    /// origins are always allowed).
    pub allowed_origins: Vec<String>,
    /// Most sessions open at once (at least 1).
    pub max_sessions: usize,
    /// A session without a request for this long is closed.
    pub session_idle: Duration,
    /// Time a connection has to send complete request headers.
    pub header_timeout: Duration,
    /// MCP `initialize` requests accepted per second, server-wide (at least 1).
    pub max_init_per_second: u32,
    /// The URL clients reach the MCP endpoint at, when it differs from the bound address
    /// (behind a proxy or tunnel).
    pub public_url: Option<String>,
}

#[derive(Debug, Clone, Copy)]
pub struct Features {
    pub tools: bool,
    pub resources: bool,
    pub prompts: bool,
}

#[derive(Debug, Clone)]
pub struct ToolPolicy {
    pub tiers: Vec<Tier>,
    pub default_tier: Tier,
    /// `category.action` names; whether they exist is checked against the catalog at startup.
    pub disabled: Vec<String>,
    /// Only read-only tools (`MCP_READ_ONLY`); wins over tiers.
    pub read_only: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct TokenBudget {
    pub warning_threshold: u64,
    pub error_threshold: u64,
}

#[derive(Debug, Clone)]
pub struct PlanSettings {
    pub enable_apply: bool,
    pub approval_timeout: Duration,
    pub confirm_timeout: Duration,
    /// Per environment (lab, staging, prod): risks approved without a person
    /// (`low`/`medium`/`high`).
    pub auto_approve: [Vec<String>; 3],
    /// Per environment: whether the MCP client's user may approve (elicitation).
    pub elicitation: [bool; 3],
}

impl PlanSettings {
    fn index(env: domain::Environment) -> usize {
        match env {
            domain::Environment::Lab => 0,
            domain::Environment::Staging => 1,
            domain::Environment::Prod => 2,
        }
    }

    pub fn auto_approve(&self, env: domain::Environment) -> &[String] {
        &self.auto_approve[Self::index(env)]
    }

    pub fn elicitation(&self, env: domain::Environment) -> bool {
        self.elicitation[Self::index(env)]
    }
}

/// Where the operator's runbooks and their `env.yaml` are.
#[derive(Debug, Clone, Default)]
pub struct RunbookSettings {
    pub dir: Option<PathBuf>,
    pub env_file: Option<PathBuf>,
    /// How long finished runs' execution logs are kept.
    pub log_retention: Duration,
    /// The operator's model endpoint that drafts revisions, if any.
    pub llm: Option<LlmSettings>,
}

/// An OpenAI-compatible chat-completions endpoint (`RUNBOOK_LLM_*`).
#[derive(Debug, Clone)]
pub struct LlmSettings {
    /// The API root, `…/v1`; `/chat/completions` is appended.
    pub base_url: String,
    pub api_key: Option<SecretString>,
    pub model: String,
}

/// Who is told about plans that wait for a person and how they end.
#[derive(Debug, Clone, Default)]
pub struct WebhookSettings {
    /// The receiver's URL, a secret (a Slack incoming-webhook URL embeds the token that lets
    /// anyone post to the channel). Whether it is https (or http to a loopback address) is
    /// checked by the server at start, which names this setting when it is not.
    pub url: Option<SecretString>,
}

/// How the server treats the clients and principals calling it.
#[derive(Debug, Clone, Copy)]
pub struct ClientSettings {
    /// Log the experimental capabilities and extensions a client announces that the server does
    /// not use (once per client name and set).
    pub log_unknown_capabilities: bool,
    /// Tool calls per second one principal may make (a burst of as many); 0 = no limit.
    pub principal_rate_limit: u32,
}

#[derive(Debug, Clone, Copy)]
/// The short-lived cache of router reads (the driver's per-device client keeps it).
pub struct ResourceCache {
    pub enabled: bool,
    pub ttl: Duration,
    pub max_entries: u32,
}

#[derive(Debug, Clone)]
pub struct OidcSettings {
    pub issuer: Option<String>,
    pub audience: Option<String>,
    /// The claim holding role entries (`roles`; dotted paths such as `realm_access.roles`).
    pub roles_claim: String,
    /// The web console's client at the provider (`OIDC_CLIENT_ID`).
    pub client_id: Option<String>,
    /// Its secret (`OIDC_CLIENT_SECRET`).
    pub client_secret: Option<SecretString>,
}

/// The web console's sessions.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleSettings {
    /// A session unused this long ends.
    pub session_idle: Duration,
    /// A session ends this long after sign-in.
    pub session_max: Duration,
}

/// Who may call, beyond the mode.
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// The role of the stdio transport's local user, in every project.
    pub stdio_role: LocalRole,
    /// API tokens are accepted in `oidc` mode too.
    pub allow_api_tokens: bool,
    /// Cloudflare Access: team domain and application audience tag; both or neither.
    pub cf_access: Option<(String, String)>,
}

#[derive(Debug, Clone)]
pub struct LogSettings {
    /// A level or `tracing` directives (`info,store=debug`).
    pub level: String,
    pub format: LogFormat,
}

#[derive(Debug, Clone)]
pub struct VaultSettings {
    pub master_key: Option<SecretString>,
    pub master_key_file: Option<PathBuf>,
}

/// Where the registry lives.
#[derive(Clone)]
pub enum DatabaseTarget {
    /// A SQLite file (created on first use).
    Sqlite(PathBuf),
    /// A PostgreSQL URL; it may carry a password, so it is kept secret.
    Postgres(SecretString),
}

impl DatabaseTarget {
    /// Parses `DATABASE_URL`. The URL is never echoed with its password.
    pub(crate) fn parse(url: &str) -> Result<Self, String> {
        let scheme = url.split_once(':').map(|(s, _)| s.to_ascii_lowercase());
        match scheme.as_deref() {
            Some("postgres" | "postgresql") if url.contains("://") => {
                Ok(Self::Postgres(SecretString::from(url.to_owned())))
            }
            Some("sqlite") => {
                let path = url
                    .strip_prefix("sqlite://")
                    .or_else(|| url.strip_prefix("sqlite:"))
                    .unwrap_or_default();
                let path = path.split('?').next().unwrap_or_default();
                if path.is_empty() || path.starts_with(":memory:") {
                    Err("expected sqlite://PATH naming a database file".to_owned())
                } else {
                    Ok(Self::Sqlite(PathBuf::from(path)))
                }
            }
            Some(other) if !other.is_empty() => Err(format!(
                "unknown scheme \"{other}\"; allowed: postgres://, postgresql://, sqlite://"
            )),
            _ => Err("expected a URL: postgres://USER@HOST/DB or sqlite://PATH".to_owned()),
        }
    }

    /// A display form with any password replaced by `****`.
    pub fn redacted(&self) -> String {
        match self {
            DatabaseTarget::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseTarget::Postgres(url) => redact_url(url.expose_secret()),
        }
    }

    pub fn backend_name(&self) -> &'static str {
        match self {
            DatabaseTarget::Sqlite(_) => "sqlite",
            DatabaseTarget::Postgres(_) => "postgres",
        }
    }
}

impl fmt::Debug for DatabaseTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Replaces the password of `scheme://user:password@host/…` with `****`.
pub(crate) fn redact_url(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return "****".to_owned();
    };
    let authority_end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(authority_end);
    match authority.rsplit_once('@') {
        Some((userinfo, host)) => {
            let user = userinfo.split(':').next().unwrap_or_default();
            if userinfo.contains(':') {
                format!("{scheme}://{user}:****@{host}{tail}")
            } else {
                format!("{scheme}://{user}@{host}{tail}")
            }
        }
        None => format!("{scheme}://{authority}{tail}"),
    }
}

impl Settings {
    /// Creates the data directory if needed and proves it is writable, so a misconfigured
    /// directory fails at startup with one clear message rather than deep inside a write.
    pub fn prepare_data_dir(&self) -> Result<(), SettingsError> {
        prepare_dir(&self.data_dir)
    }

    /// Whether this environment may generate its own master key (lab only).
    pub fn may_generate_master_key(&self) -> bool {
        matches!(self.environment, Environment::Lab)
    }
}

fn prepare_dir(dir: &Path) -> Result<(), SettingsError> {
    let fail = |reason: String| SettingsError::DataDir {
        path: dir.to_owned(),
        reason,
    };
    if !dir.exists() {
        // Private by default: the directory holds the registry and, in lab, the master key.
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .map_err(|e| fail(e.to_string()))?;
    }
    if !dir.is_dir() {
        return Err(fail("it is not a directory".into()));
    }
    let probe = dir.join(format!(".write-probe-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(|e| fail(e.to_string()))?;
    std::fs::remove_file(&probe).map_err(|e| fail(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_by_scheme() {
        assert!(matches!(
            DatabaseTarget::parse("postgres://u:p@db/x"),
            Ok(DatabaseTarget::Postgres(_))
        ));
        assert!(matches!(
            DatabaseTarget::parse("sqlite:///var/lib/x.db"),
            Ok(DatabaseTarget::Sqlite(p)) if p == Path::new("/var/lib/x.db")
        ));
        let err = DatabaseTarget::parse("mysql://root:hunter2@db/x").unwrap_err();
        assert!(err.contains("unknown scheme \"mysql\""), "{err}");
        assert!(!err.contains("hunter2"));
        assert!(DatabaseTarget::parse("sqlite::memory:").is_err());
    }

    #[test]
    fn urls_are_redacted() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/mcp?sslmode=require"),
            "postgres://app:****@db:5432/mcp?sslmode=require"
        );
        assert_eq!(redact_url("postgres://app@db/mcp"), "postgres://app@db/mcp");
        let t = DatabaseTarget::parse("postgres://a:b@c/d").unwrap();
        assert!(!format!("{t:?}").contains(":b@"));
    }
}
