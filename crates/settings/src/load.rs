//! Reading the layers, remembering where each value came from, and resolving them into
//! [`Settings`].
//!
//! Layers, lowest first: built-in defaults ([`table::ROWS`]), the profile of `MCP_ENV`
//! ([`table::profile`]), the configuration file (`--config PATH` or `ROUTEROS_MCP_CONFIG`; TOML,
//! YAML or JSON by extension), and environment variables. The `config` crate parses the file and
//! merges the layers; this module keeps the provenance and turns text into typed values,
//! collecting every problem before failing.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use config::{Config, File, FileFormat};
use domain::{Environment, Tier};
use secrecy::SecretString;

use crate::model::{
    AuthMode, AuthSettings, BackupSettings, ClientSettings, ConsoleSettings, DatabaseTarget,
    DeviceLimits, Features, HttpSettings, LlmSettings, LocalRole, LogFormat, LogSettings,
    OidcSettings, PlanSettings, ResourceCache, RunbookSettings, ServerInfo, Settings, TokenBudget,
    ToolPolicy, Transport, VaultSettings, WebhookSettings,
};
use crate::table::{self, ROWS, Row};
use crate::{SettingsError, model};

/// Where an effective value came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// The profile of the named environment.
    Profile(Environment),
    /// The configuration file.
    File(PathBuf),
    /// The named environment variable.
    Env(&'static str),
    /// Not set anywhere; computed at startup (e.g. the platform data directory).
    Computed,
    /// Not set anywhere and nothing computed.
    Unset,
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::Default => f.write_str("default"),
            Source::Profile(env) => write!(f, "profile {env}"),
            Source::File(path) => write!(f, "file {}", path.display()),
            Source::Env(var) => write!(f, "env {var}"),
            Source::Computed => f.write_str("computed"),
            Source::Unset => f.write_str("unset"),
        }
    }
}

/// One line of `config show`: a setting, its display value (secrets masked) and its source.
#[derive(Debug, Clone)]
pub struct ValueEntry {
    pub key: &'static str,
    pub env: &'static str,
    /// What to show: masked for secrets, `None` when unset.
    pub display: Option<String>,
    pub source: Source,
    pub doc: &'static str,
    /// Tells a changed value from an unchanged one without keeping a secret's text.
    fingerprint: Fingerprint,
}

/// A hash of a setting's effective text: equal texts, equal fingerprints. Never shown (a
/// secret's would say nothing useful and should not be handed around either).
#[derive(Clone, Copy, PartialEq, Eq)]
struct Fingerprint(Option<u64>);

impl Fingerprint {
    fn of(text: Option<&str>) -> Self {
        use std::hash::{Hash, Hasher};
        Self(text.map(|t| {
            let mut h = std::collections::hash_map::DefaultHasher::new();
            t.hash(&mut h);
            h.finish()
        }))
    }
}

impl std::fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("..")
    }
}

/// One setting whose effective value differs between two loads (see [`changes`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SettingChange {
    pub key: &'static str,
    pub env: &'static str,
    /// A secret's values are never carried: `before` and `after` are `None` for it.
    pub secret: bool,
    /// The display value before (as `config show` prints it; `None` when unset or secret).
    pub before: Option<String>,
    /// The display value after.
    pub after: Option<String>,
}

impl std::fmt::Display for SettingChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.secret {
            return write!(f, "{} changed (a secret: its value is not shown)", self.env);
        }
        let shown = |v: &Option<String>| match v {
            Some(v) if v.is_empty() => "(empty)".to_owned(),
            Some(v) => format!("\"{v}\""),
            None => "(unset)".to_owned(),
        };
        write!(
            f,
            "{} changed from {} to {}",
            self.env,
            shown(&self.before),
            shown(&self.after)
        )
    }
}

/// The settings whose effective value differs from `before` to `after` (two loads'
/// [`Loaded::entries`]), in table order. Secrets are compared by fingerprint and reported
/// without their values.
pub fn changes(before: &[ValueEntry], after: &[ValueEntry]) -> Vec<SettingChange> {
    after
        .iter()
        .filter_map(|new| {
            let old = before.iter().find(|e| e.key == new.key);
            let same = old.is_some_and(|old| {
                old.display == new.display && old.fingerprint == new.fingerprint
            });
            if same {
                return None;
            }
            let secret = table::find(new.key).is_some_and(|r| r.secret);
            Some(SettingChange {
                key: new.key,
                env: new.env,
                secret,
                before: old.and_then(|o| o.display.clone()).filter(|_| !secret),
                after: new.display.clone().filter(|_| !secret),
            })
        })
        .collect()
}

/// The result of loading: typed settings, provenance for display, and warnings to print.
#[derive(Debug)]
pub struct Loaded {
    pub settings: Settings,
    pub entries: Vec<ValueEntry>,
    pub warnings: Vec<String>,
    pub config_file: Option<PathBuf>,
}

/// Reads configuration from a file path and an environment (the process's, or a given map in
/// tests, so tests never mutate process state).
#[derive(Debug, Clone)]
pub struct Loader {
    config_path: Option<PathBuf>,
    env: BTreeMap<String, String>,
}

impl Loader {
    /// A loader over an explicit environment.
    pub fn new(
        config_path: Option<PathBuf>,
        env: impl IntoIterator<Item = (String, String)>,
    ) -> Self {
        Self {
            config_path,
            env: env.into_iter().collect(),
        }
    }

    /// A loader over the process environment (non-UTF-8 variables are ignored).
    pub fn from_process(config_path: Option<PathBuf>) -> Self {
        Self::new(config_path, std::env::vars())
    }

    fn env_value(&self, var: &str) -> Option<&str> {
        self.env
            .get(var)
            .map(String::as_str)
            .filter(|v| !v.trim().is_empty())
    }

    /// Loads, merges and validates. Every invalid value is reported in one error.
    pub fn load(&self) -> Result<Loaded, SettingsError> {
        let mut problems = Vec::new();
        let mut warnings = Vec::new();

        let config_file = self
            .config_path
            .clone()
            .or_else(|| self.env_value(table::CONFIG_PATH_ENV).map(PathBuf::from));
        let file_values = match &config_file {
            Some(path) => read_file(path, &mut problems)?,
            None => BTreeMap::new(),
        };
        let env_values: BTreeMap<&'static str, String> = ROWS
            .iter()
            .filter_map(|row| {
                self.env_value(row.env)
                    .map(|v| (row.key, v.trim().to_owned()))
            })
            .collect();
        warn_unknown_env(&self.env, &mut warnings);

        // The environment picks the profile, so it is resolved before anything else.
        let environment = match env_values.get("env").or_else(|| file_values.get("env")) {
            Some(text) => match text.parse::<Environment>() {
                Ok(env) => env,
                Err(e) => {
                    problems.push(describe(
                        find_row("env"),
                        text,
                        &source_of("env", &env_values, &file_values, &config_file, None),
                        &e.allowed,
                    ));
                    Environment::Lab
                }
            },
            None => Environment::Lab,
        };
        let profile = table::profile(environment);

        let merged =
            merge(&file_values, &env_values, profile).map_err(|message| SettingsError::File {
                path: config_file.clone().unwrap_or_default(),
                message,
            })?;

        let mut r = Resolver {
            merged: &merged,
            env_values: &env_values,
            file_values: &file_values,
            config_file: &config_file,
            profile: (environment, profile),
            problems,
            entries: Vec::new(),
        };
        let settings = r.resolve(environment, &mut warnings);
        let Resolver {
            problems, entries, ..
        } = r;
        if problems.is_empty() {
            Ok(Loaded {
                settings,
                entries,
                warnings,
                config_file,
            })
        } else {
            Err(SettingsError::Invalid(problems))
        }
    }
}

fn find_row(key: &str) -> &'static Row {
    table::find(key).unwrap_or_else(|| unreachable!("setting {key} is missing from the table"))
}

fn file_format(path: &Path) -> Option<FileFormat> {
    match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
        "toml" => Some(FileFormat::Toml),
        "yaml" | "yml" => Some(FileFormat::Yaml),
        "json" => Some(FileFormat::Json),
        _ => None,
    }
}

/// Reads the file into dotted keys → text, reporting unknown keys as problems.
fn read_file(
    path: &Path,
    problems: &mut Vec<String>,
) -> Result<BTreeMap<String, String>, SettingsError> {
    let fail = |message: String| SettingsError::File {
        path: path.to_owned(),
        message,
    };
    let format = file_format(path).ok_or_else(|| {
        fail("unknown format: the name must end in .toml, .yaml, .yml or .json".into())
    })?;
    std::fs::metadata(path).map_err(|e| fail(format!("cannot read it: {e}")))?;
    let name = path
        .to_str()
        .ok_or_else(|| fail("the path is not valid UTF-8".into()))?;
    let parsed = Config::builder()
        .add_source(File::new(name, format).required(true))
        .build()
        .map_err(|e| fail(e.to_string()))?;
    let root: config::Map<String, config::Value> =
        parsed.try_deserialize().map_err(|e| fail(e.to_string()))?;
    let mut flat = BTreeMap::new();
    flatten("", root, &mut flat);
    for key in flat.keys() {
        if table::find(key).is_none() {
            let hint = suggest(key, ROWS.iter().map(|r| r.key))
                .map(|s| format!(" (did you mean \"{s}\"?)"))
                .unwrap_or_default();
            problems.push(format!(
                "unknown setting \"{key}\" in {}{hint}; run `routeros-mcp config show` for the list",
                path.display()
            ));
        }
    }
    Ok(flat)
}

fn flatten(
    prefix: &str,
    table: config::Map<String, config::Value>,
    out: &mut BTreeMap<String, String>,
) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k
        } else {
            format!("{prefix}.{k}")
        };
        match v.clone().into_table() {
            Ok(inner) => flatten(&key, inner, out),
            Err(_) => {
                out.insert(key, value_text(v));
            }
        }
    }
}

/// Scalars as text; arrays comma-joined (list settings accept both forms).
fn value_text(v: config::Value) -> String {
    match v.clone().into_array() {
        Ok(items) => items
            .into_iter()
            .map(value_text)
            .collect::<Vec<_>>()
            .join(","),
        Err(_) => v.into_string().unwrap_or_default(),
    }
}

/// Merges the layers with the `config` crate: defaults < profile < file < environment.
fn merge(
    file_values: &BTreeMap<String, String>,
    env_values: &BTreeMap<&'static str, String>,
    profile: &[(&str, &str)],
) -> Result<Config, String> {
    let mut builder = Config::builder();
    let err = |e: config::ConfigError| e.to_string();
    for row in ROWS {
        if let Some(default) = row.default {
            builder = builder.set_default(row.key, default).map_err(err)?;
        }
    }
    for (key, value) in profile {
        builder = builder.set_default(*key, *value).map_err(err)?;
    }
    for (key, value) in file_values {
        if table::find(key).is_some() {
            builder = builder
                .set_override(key.as_str(), value.as_str())
                .map_err(err)?;
        }
    }
    for (key, value) in env_values {
        builder = builder.set_override(*key, value.as_str()).map_err(err)?;
    }
    builder.build().map_err(err)
}

fn source_of(
    key: &str,
    env_values: &BTreeMap<&'static str, String>,
    file_values: &BTreeMap<String, String>,
    config_file: &Option<PathBuf>,
    profile: Option<(Environment, &[(&str, &str)])>,
) -> Source {
    let row = find_row(key);
    if env_values.contains_key(key) {
        Source::Env(row.env)
    } else if let (true, Some(path)) = (file_values.contains_key(key), config_file) {
        Source::File(path.clone())
    } else if let Some((env, _)) = profile.filter(|(_, p)| p.iter().any(|(k, _)| *k == key)) {
        Source::Profile(env)
    } else if row.default.is_some() {
        Source::Default
    } else {
        Source::Unset
    }
}

/// One problem line: names the variable or file key, the value (masked if secret), and what is
/// allowed.
fn describe(row: &Row, value: &str, source: &Source, allowed: &str) -> String {
    let shown = if row.secret {
        "<hidden>".to_owned()
    } else {
        format!("\"{value}\"")
    };
    match source {
        Source::Env(var) => format!("{var}={shown} (environment): {allowed}"),
        Source::File(path) => format!("{} = {shown} (in {}): {allowed}", row.key, path.display()),
        Source::Profile(env) => format!("{} = {shown} (profile {env}): {allowed}", row.env),
        Source::Default | Source::Computed | Source::Unset => {
            format!("{} = {shown} (default): {allowed}", row.env)
        }
    }
}

struct Resolver<'a> {
    merged: &'a Config,
    env_values: &'a BTreeMap<&'static str, String>,
    file_values: &'a BTreeMap<String, String>,
    config_file: &'a Option<PathBuf>,
    profile: (Environment, &'static [(&'static str, &'static str)]),
    problems: Vec<String>,
    entries: Vec<ValueEntry>,
}

impl Resolver<'_> {
    fn source(&self, key: &str) -> Source {
        source_of(
            key,
            self.env_values,
            self.file_values,
            self.config_file,
            Some(self.profile),
        )
    }

    /// The effective text of `key`, recording it for `config show`.
    fn text(&mut self, key: &'static str) -> Option<String> {
        let row = find_row(key);
        let text = self
            .merged
            .get::<config::Value>(key)
            .ok()
            .map(value_text)
            .filter(|t| !t.is_empty() || row.default == Some(""));
        let display = text.as_ref().map(|t| {
            if !row.secret {
                t.clone()
            } else if key == "database.url" {
                model::redact_url(t)
            } else {
                "********".to_owned()
            }
        });
        self.entries.push(ValueEntry {
            key,
            env: row.env,
            display,
            source: if text.is_some() {
                self.source(key)
            } else {
                Source::Unset
            },
            doc: row.doc,
            fingerprint: Fingerprint::of(text.as_deref()),
        });
        text
    }

    /// Parses `key` with `parse`, which returns what is allowed on failure.
    fn parse<T>(
        &mut self,
        key: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> Option<T> {
        let text = self.text(key)?;
        match parse(&text) {
            Ok(v) => Some(v),
            Err(allowed) => {
                let source = self.source(key);
                self.problems
                    .push(describe(find_row(key), &text, &source, &allowed));
                None
            }
        }
    }

    fn required<T: Default>(
        &mut self,
        key: &'static str,
        parse: impl FnOnce(&str) -> Result<T, String>,
    ) -> T {
        self.parse(key, parse).unwrap_or_default()
    }

    fn problem(&mut self, text: String) {
        self.problems.push(text);
    }

    fn resolve(&mut self, environment: Environment, warnings: &mut Vec<String>) -> Settings {
        // Recorded for `config show`; already parsed above.
        let _ = self.text("env");
        let server = ServerInfo {
            name: self.required("server.name", non_empty),
            version: self.required("server.version", non_empty),
            description: self.required("server.description", non_empty),
        };
        let transport = self
            .parse("transport.mode", enum_value::<Transport>)
            .unwrap_or(Transport::Stdio);
        let http = HttpSettings {
            host: self.required("http.host", |t| {
                t.parse::<domain::Host>()
                    .map(|h| h.to_string())
                    .map_err(|e| e.allowed)
            }),
            port: self.required("http.port", |t| {
                t.trim().parse::<u16>().map_err(|_| {
                    "expected a port number between 1 and 65535, or 0 for any free port (the \
                     address is printed at start)"
                        .to_owned()
                })
            }),
            base_path: self.required("http.base_path", base_path),
            allowed_origins: self.required("http.allowed_origins", origin_list),
            max_sessions: usize::try_from(
                self.required("http.max_sessions", |t| integer(t, 1, 100_000)),
            )
            .unwrap_or(1),
            session_idle: Duration::from_secs(
                self.required("http.session_idle_seconds", |t| integer(t, 1, 86_400)),
            ),
            header_timeout: Duration::from_secs(
                self.required("http.header_timeout_seconds", |t| integer(t, 1, 300)),
            ),
            public_url: self.parse("http.public_url", https_url),
            max_init_per_second: u32::try_from(
                self.required("http.max_init_per_second", |t| integer(t, 1, 100_000)),
            )
            .unwrap_or(1),
        };
        let shutdown_grace =
            Duration::from_secs(self.required("shutdown.grace_seconds", |t| integer(t, 0, 3_600)));
        let features = Features {
            tools: self.required("features.tools", boolean),
            resources: self.required("features.resources", boolean),
            prompts: self.required("features.prompts", boolean),
        };
        let tiers = self.required("tools.tiers", tier_list);
        let mut default_tier = self
            .parse("tools.default_tier", enum_value::<Tier>)
            .unwrap_or(Tier::Free);
        // A default tier that only a profile chose follows the enabled tiers: the highest
        // enabled tier not above it. One the operator chose is checked below instead.
        let chosen = matches!(
            self.source("tools.default_tier"),
            Source::Env(_) | Source::File(_)
        );
        if !chosen && !tiers.contains(&default_tier) {
            let rank = |t: &Tier| Tier::ALL.iter().position(|x| x == t).unwrap_or(0);
            default_tier = tiers
                .iter()
                .filter(|t| rank(t) <= rank(&default_tier))
                .max_by_key(|t| rank(t))
                .or_else(|| tiers.iter().min_by_key(|t| rank(t)))
                .copied()
                .unwrap_or(Tier::Free);
            if let Some(entry) = self
                .entries
                .iter_mut()
                .find(|e| e.key == "tools.default_tier")
            {
                entry.display = Some(default_tier.to_string());
                entry.source = Source::Computed;
            }
        }
        let disabled = self.required("tools.disabled", tool_names);
        let read_only = self.required("tools.read_only", boolean);
        let token_budget = TokenBudget {
            warning_threshold: self.required("token_budget.warning_threshold", |t| {
                integer(t, 100, 10_000_000)
            }),
            error_threshold: self.required("token_budget.error_threshold", |t| {
                integer(t, 100, 10_000_000)
            }),
        };
        let plans = PlanSettings {
            enable_apply: self.required("plans.enable_apply", boolean),
            approval_timeout: Duration::from_secs(
                self.required("plans.approval_timeout_seconds", |t| integer(t, 30, 86_400)),
            ),
            confirm_timeout: Duration::from_secs(
                self.required("plans.confirm_timeout_seconds", |t| integer(t, 2, 3_600)),
            ),
            auto_approve: [
                self.required("plans.auto_approve.lab", risk_list),
                self.required("plans.auto_approve.staging", risk_list),
                self.required("plans.auto_approve.prod", risk_list),
            ],
            elicitation: [
                self.required("plans.elicitation.lab", boolean),
                self.required("plans.elicitation.staging", boolean),
                self.required("plans.elicitation.prod", boolean),
            ],
        };
        let clients = ClientSettings {
            log_unknown_capabilities: self.required("client.log_unknown_capabilities", boolean),
            principal_rate_limit: u32::try_from(
                self.required("rate_limit.principal_per_second", |t| {
                    integer(t, 0, 1_000_000)
                }),
            )
            .unwrap_or(u32::MAX),
        };
        let resource_cache = ResourceCache {
            enabled: self.required("resource_cache.enabled", boolean),
            ttl: Duration::from_secs(
                self.required("resource_cache.ttl_seconds", |t| integer(t, 1, 86_400)),
            ),
            max_entries: u32::try_from(
                self.required("resource_cache.max_entries", |t| integer(t, 1, 1_000_000)),
            )
            .unwrap_or(u32::MAX),
        };
        let database_url = self.parse("database.url", DatabaseTarget::parse);
        let database_pool_size =
            u32::try_from(self.required("database.pool_size", |t| integer(t, 1, 1000)))
                .unwrap_or(10);
        let oidc = OidcSettings {
            issuer: self.parse("oidc.issuer", https_url),
            audience: self.parse("oidc.audience", non_empty),
            roles_claim: self.required("oidc.roles_claim", non_empty),
            client_id: self.parse("oidc.client_id", non_empty),
            client_secret: self.parse("oidc.client_secret", |t| {
                if t.is_empty() {
                    Err("must not be empty".to_owned())
                } else {
                    Ok(SecretString::from(t.to_owned()))
                }
            }),
        };
        let console = ConsoleSettings {
            session_idle: Duration::from_secs(
                self.required("console.session_idle_seconds", |t| integer(t, 60, 86_400)),
            ),
            session_max: Duration::from_secs(self.required("console.session_max_seconds", |t| {
                integer(t, 300, 30 * 86_400)
            })),
        };
        let auth_mode = self
            .parse("auth.mode", enum_value::<AuthMode>)
            .unwrap_or(AuthMode::None);
        let auth = AuthSettings {
            allow_api_tokens: self.required("auth.allow_api_tokens", boolean),
            stdio_role: self
                .parse("auth.stdio_role", enum_value::<LocalRole>)
                .unwrap_or(LocalRole::Operator),
            cf_access: match (
                self.parse("cf_access.team_domain", team_domain),
                self.parse("cf_access.aud", non_empty),
            ) {
                (Some(domain), Some(aud)) => Some((domain, aud)),
                (None, None) => None,
                (Some(_), None) | (None, Some(_)) => {
                    self.problem(
                        "CF_ACCESS_TEAM_DOMAIN and CF_ACCESS_AUD go together: set both to require \
                         Cloudflare Access, or neither"
                            .to_owned(),
                    );
                    None
                }
            },
        };
        let log = LogSettings {
            level: self.required("log.level", log_level),
            format: self
                .parse("log.format", enum_value::<LogFormat>)
                .unwrap_or(LogFormat::Text),
        };
        let small = |t: &str, min: u64, max: u64| {
            integer(t, min, max).map(|v| u32::try_from(v).unwrap_or(u32::MAX))
        };
        let devices = DeviceLimits {
            rate_per_second: self.required("devices.rate_limit", |t| small(t, 0, 10_000)),
            burst: self.required("devices.rate_burst", |t| small(t, 1, 100_000)),
            concurrency: self.required("devices.concurrency", |t| small(t, 1, 1_000)),
            timeout: Duration::from_secs(
                self.required("devices.timeout_seconds", |t| integer(t, 1, 600)),
            ),
            read_retries: self.required("devices.read_retries", |t| small(t, 0, 10)),
            breaker_failures: self.required("devices.breaker_failures", |t| small(t, 1, 1_000)),
            breaker_cooldown: Duration::from_secs(
                self.required("devices.breaker_cooldown_seconds", |t| {
                    integer(t, 1, 86_400)
                }),
            ),
            idle: Duration::from_secs(
                self.required("devices.idle_seconds", |t| integer(t, 1, 86_400)),
            ),
        };
        let llm_base_url = self.parse("runbooks.llm_base_url", |t| {
            let t = t.trim().trim_end_matches('/');
            if t.starts_with("https://") || t.starts_with("http://") {
                Ok(t.to_owned())
            } else {
                Err("an http:// or https:// URL, e.g. https://llm.example.net/v1".to_owned())
            }
        });
        let llm_api_key = self.parse("runbooks.llm_api_key", |t| {
            Ok(SecretString::from(t.trim().to_owned()))
        });
        let llm_model = self.parse("runbooks.llm_model", |t| {
            let t = t.trim();
            if t.is_empty() || t.len() > 200 || t.chars().any(char::is_control) {
                Err("a model name of 1-200 printable characters".to_owned())
            } else {
                Ok(t.to_owned())
            }
        });
        let llm = match (llm_base_url, llm_model) {
            (Some(base_url), Some(model)) => Some(LlmSettings {
                base_url,
                api_key: llm_api_key,
                model,
            }),
            (Some(_), None) => {
                self.problem(
                    "RUNBOOK_LLM_BASE_URL is set but RUNBOOK_LLM_MODEL is not: name the model \
                     the endpoint should use (RUNBOOK_LLM_MODEL=...)"
                        .to_owned(),
                );
                None
            }
            (None, _) => None,
        };
        let runbooks = RunbookSettings {
            dir: self.parse("runbooks.dir", |t| Ok(PathBuf::from(t))),
            env_file: self.parse("runbooks.env_file", |t| Ok(PathBuf::from(t))),
            log_retention: Duration::from_secs(
                86_400 * self.required("runbooks.log_retention_days", |t| integer(t, 1, 3650)),
            ),
            llm,
        };
        let backup = BackupSettings {
            interval: Some(self.required("backup.interval", interval)).filter(|d| !d.is_zero()),
            keep: usize::try_from(self.required("backup.keep", |t| integer(t, 1, 10_000)))
                .unwrap_or(usize::MAX),
            max_age: Some(Duration::from_secs(
                86_400 * self.required("backup.max_age_days", |t| integer(t, 0, 36_500)),
            ))
            .filter(|d| !d.is_zero()),
            show_sensitive: self.required("backup.show_sensitive", boolean),
        };
        let webhook = WebhookSettings {
            url: self.parse("webhook.url", |t| {
                Ok(SecretString::from(t.trim().to_owned()))
            }),
        };
        let data_dir = match self.parse("storage.data_dir", |t| Ok(PathBuf::from(t))) {
            Some(dir) => dir,
            None => {
                let computed = dirs::data_dir().map(|d| d.join("routeros-mcp"));
                if let Some(entry) = self.entries.last_mut() {
                    entry.display = computed.as_ref().map(|p| p.display().to_string());
                    entry.source = Source::Computed;
                }
                computed.unwrap_or_else(|| {
                    self.problem(
                        "ROUTEROS_MCP_DATA_DIR is not set and this platform has no user data \
                         directory (is HOME set?); set ROUTEROS_MCP_DATA_DIR"
                            .to_owned(),
                    );
                    PathBuf::new()
                })
            }
        };
        let database = database_url
            .unwrap_or_else(|| DatabaseTarget::Sqlite(data_dir.join("routeros-mcp.sqlite")));
        if let Some(entry) = self
            .entries
            .iter_mut()
            .find(|e| e.key == "database.url" && e.display.is_none())
        {
            entry.display = Some(database.redacted());
            entry.source = Source::Computed;
        }
        let vault = VaultSettings {
            master_key: self.parse("vault.master_key", |t| Ok(SecretString::from(t.to_owned()))),
            master_key_file: self.parse("vault.master_key_file", |t| Ok(PathBuf::from(t))),
        };

        let settings = Settings {
            environment,
            server,
            transport,
            http,
            features,
            tools: ToolPolicy {
                tiers,
                default_tier,
                disabled,
                read_only,
            },
            token_budget,
            plans,
            clients,
            resource_cache,
            database,
            database_pool_size,
            oidc,
            console,
            auth_mode,
            auth,
            log,
            devices,
            data_dir,
            vault,
            runbooks,
            webhook,
            shutdown_grace,
            backup,
        };
        self.cross_check(&settings, warnings);
        settings
    }

    /// Rules that involve more than one setting.
    fn cross_check(&mut self, s: &Settings, warnings: &mut Vec<String>) {
        if s.token_budget.warning_threshold >= s.token_budget.error_threshold {
            self.problem(format!(
                "MCP_TOKEN_BUDGET_WARNING_THRESHOLD ({}) must be below MCP_TOKEN_BUDGET_ERROR_THRESHOLD ({})",
                s.token_budget.warning_threshold, s.token_budget.error_threshold
            ));
        }
        // A change is sent only while more than one call's deadline plus a second of the
        // auto-revert window is left: a window no longer than that sends nothing at all.
        let room = s.devices.timeout + Duration::from_secs(1);
        if s.plans.confirm_timeout <= room {
            self.problem(format!(
                "MCP_PLAN_CONFIRM_TIMEOUT_SECONDS ({}) must be above ROUTEROS_REQUEST_TIMEOUT_SECONDS ({}) plus 1: \
                 a change is sent only while more than one call's deadline plus a second of the auto-revert \
                 window is left, so every plan with an auto-revert would roll back unsent",
                s.plans.confirm_timeout.as_secs(),
                s.devices.timeout.as_secs()
            ));
        }
        if !s.tools.tiers.contains(&s.tools.default_tier) {
            self.problem(format!(
                "MCP_DEFAULT_TOOL_TIER ({}) is not one of MCP_TOOL_TIERS ({}); add it there or pick one of those",
                s.tools.default_tier,
                s.tools.tiers.iter().map(|t| t.as_str()).collect::<Vec<_>>().join(",")
            ));
        }
        if s.vault.master_key.is_some() && s.vault.master_key_file.is_some() {
            self.problem(
                "both ROUTEROS_MCP_MASTER_KEY and ROUTEROS_MCP_MASTER_KEY_FILE are set; configure exactly one"
                    .to_owned(),
            );
        }
        if self.file_values.contains_key("vault.master_key") {
            warnings.push(
                "the master key is written in the configuration file; keep it in a separate file \
                 readable only by the service (ROUTEROS_MCP_MASTER_KEY_FILE)"
                    .to_owned(),
            );
        }
        let serves_http = matches!(s.transport, Transport::Http | Transport::Both);
        if serves_http {
            let loopback = s
                .http
                .host
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
                || s.http.host == "localhost";
            match s.auth_mode {
                AuthMode::None if !loopback => self.problem(format!(
                    "MCP_AUTH_MODE=none is only allowed when the HTTP transport binds a loopback \
                     address, but MCP_HTTP_HOST is {}; bind 127.0.0.1 or set MCP_AUTH_MODE=oidc|token",
                    s.http.host
                )),
                AuthMode::Oidc if s.oidc.issuer.is_none() => {
                    self.problem(
                        "MCP_AUTH_MODE=oidc needs OIDC_ISSUER (the identity provider's issuer URL) \
                         for the HTTP transport"
                            .to_owned(),
                    );
                }
                AuthMode::None | AuthMode::Oidc | AuthMode::Token => {}
            }
        }
        if !s.features.tools && !s.features.resources && !s.features.prompts {
            warnings.push(
                "MCP_ENABLE_TOOLS, MCP_ENABLE_RESOURCES and MCP_ENABLE_PROMPTS are all false: clients will see nothing"
                    .to_owned(),
            );
        }
    }
}

fn warn_unknown_env(env: &BTreeMap<String, String>, warnings: &mut Vec<String>) {
    const KNOWN_EXTRA: &[&str] = &[table::CONFIG_PATH_ENV];
    for var in env.keys() {
        let ours = var.starts_with("MCP_") || var.starts_with("ROUTEROS_MCP_");
        let known = ROWS.iter().any(|r| r.env == var) || KNOWN_EXTRA.contains(&var.as_str());
        if ours && !known {
            let hint = suggest(var, ROWS.iter().map(|r| r.env))
                .map(|s| format!(" (did you mean {s}?)"))
                .unwrap_or_default();
            warnings.push(format!("unrecognised environment variable {var}{hint}"));
        }
    }
}

/// The closest known name within a small edit distance, for "did you mean" hints.
fn suggest<'a>(given: &str, known: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    known
        .map(|k| (edit_distance(given, k), k))
        .filter(|(d, _)| *d <= 3)
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let cost = usize::from(ca != *cb);
            cur.push((prev[j] + cost).min(prev[j + 1] + 1).min(cur[j] + 1));
        }
        prev = cur;
    }
    prev[b.len()]
}

// ---- value parsers: each returns what is allowed on failure --------------------------------

fn non_empty(t: &str) -> Result<String, String> {
    if t.trim().is_empty() {
        Err("expected a non-empty value".into())
    } else {
        Ok(t.to_owned())
    }
}

fn boolean(t: &str) -> Result<bool, String> {
    match t.trim().to_ascii_lowercase().as_str() {
        "true" | "yes" | "on" | "1" => Ok(true),
        "false" | "no" | "off" | "0" => Ok(false),
        _ => Err("expected true or false".into()),
    }
}

/// `0`, or a number with `s`, `m`, `h` or `d` between one minute and 365 days.
fn interval(t: &str) -> Result<Duration, String> {
    let t = t.trim();
    let expected =
        || "expected 0 or a number with s, m, h or d between 1m and 365d (e.g. 24h)".to_owned();
    if t == "0" {
        return Ok(Duration::ZERO);
    }
    let (number, unit) = t.split_at(t.len().saturating_sub(1));
    let scale = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3_600,
        "d" => 86_400,
        _ => return Err(expected()),
    };
    let secs = number
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .filter(|s| (60..=365 * 86_400).contains(s))
        .ok_or_else(expected)?;
    Ok(Duration::from_secs(secs))
}

fn integer(t: &str, min: u64, max: u64) -> Result<u64, String> {
    t.trim()
        .parse::<u64>()
        .ok()
        .filter(|v| (min..=max).contains(v))
        .ok_or_else(|| format!("expected a whole number between {min} and {max}"))
}

fn enum_value<T: std::str::FromStr<Err = domain::ParseError>>(t: &str) -> Result<T, String> {
    t.parse::<T>().map_err(|e| e.allowed)
}

fn tier_list(t: &str) -> Result<Vec<Tier>, String> {
    let mut tiers = Vec::new();
    for part in t.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let tier = part
            .parse::<Tier>()
            .map_err(|_| format!("\"{part}\" is not a tier; expected a comma-separated list of free, basic, professional"))?;
        if !tiers.contains(&tier) {
            tiers.push(tier);
        }
    }
    if tiers.is_empty() {
        return Err("expected at least one of free, basic, professional".into());
    }
    Ok(tiers)
}

fn risk_list(t: &str) -> Result<Vec<String>, String> {
    let mut risks = Vec::new();
    for part in t.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let risk = part.to_ascii_lowercase();
        match risk.as_str() {
            "low" | "medium" => {
                if !risks.contains(&risk) {
                    risks.push(risk);
                }
            }
            "high" | "critical" => {
                return Err(format!(
                    "{risk} plans can cut a router off and always need a person; expected a comma-separated list of low, medium, or nothing"
                ));
            }
            _ => {
                return Err(format!(
                    "\"{part}\" is not a risk; expected a comma-separated list of low, medium, or nothing"
                ));
            }
        }
    }
    Ok(risks)
}

fn tool_names(t: &str) -> Result<Vec<String>, String> {
    t.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|name| {
            let valid = name.split_once('.').is_some_and(|(c, a)| {
                let ok = |s: &str| {
                    !s.is_empty()
                        && s.chars()
                            .all(|ch| ch.is_ascii_lowercase() || ch.is_ascii_digit() || ch == '_')
                };
                ok(c) && ok(a)
            });
            if valid {
                Ok(name.to_owned())
            } else {
                Err(format!(
                    "\"{name}\" is not a tool name; expected comma-separated category.action names such as firewall.plan_filter_rule"
                ))
            }
        })
        .collect()
}

fn base_path(t: &str) -> Result<String, String> {
    let t = t.trim();
    let valid = t.starts_with('/')
        && t.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '-' | '_' | '.'))
        && !t.contains("//");
    if !valid {
        return Err(
            "expected a path such as /mcp (starting with '/', letters, digits, '-', '_', '.')"
                .into(),
        );
    }
    let trimmed = t.trim_end_matches('/');
    Ok(if trimmed.is_empty() {
        "/".into()
    } else {
        trimmed.into()
    })
}

/// Exact browser origins: `http(s)://host:port`, no path, no wildcard; lower-cased.
fn origin_list(t: &str) -> Result<Vec<String>, String> {
    const ALLOWED: &str = "expected comma-separated origins such as https://console.example.com:443 \
         (scheme http or https, a host, an explicit port; no path, no wildcard)";
    let mut origins = Vec::new();
    for item in t.split(',').map(str::trim).filter(|i| !i.is_empty()) {
        let lower = item.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("https://")
            .or_else(|| lower.strip_prefix("http://"))
            .ok_or_else(|| format!("\"{item}\" has no http:// or https:// scheme; {ALLOWED}"))?;
        let Some((host, port)) = rest.rsplit_once(':') else {
            return Err(format!("\"{item}\" has no port; {ALLOWED}"));
        };
        let host_ok = !host.is_empty()
            && host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '[' | ']' | ':'));
        if !host_ok || port.parse::<u16>().map_or(true, |p| p == 0) {
            return Err(format!("\"{item}\" is not scheme://host:port; {ALLOWED}"));
        }
        origins.push(lower);
    }
    Ok(origins)
}

fn https_url(t: &str) -> Result<String, String> {
    let t = t.trim();
    let rest = t
        .strip_prefix("https://")
        .or_else(|| t.strip_prefix("http://"))
        .ok_or("expected an http(s):// URL")?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err("expected an http(s):// URL with a host".into());
    }
    Ok(t.trim_end_matches('/').to_owned())
}

/// A Cloudflare Access team domain: a bare host name.
fn team_domain(t: &str) -> Result<String, String> {
    let t = t.trim().to_ascii_lowercase();
    let ok = !t.is_empty()
        && t.len() <= 253
        && t.contains('.')
        && t.split('.')
            .all(|l| !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'));
    if ok {
        Ok(t)
    } else {
        Err("expected a host name such as example.cloudflareaccess.com (no scheme, no path)".into())
    }
}

fn log_level(t: &str) -> Result<String, String> {
    const LEVELS: [&str; 6] = ["trace", "debug", "info", "warn", "error", "off"];
    let ok = t.split(',').map(str::trim).all(|part| {
        let level = part.rsplit_once('=').map_or(part, |(_, l)| l);
        LEVELS.contains(&level.to_ascii_lowercase().as_str())
    });
    if ok {
        Ok(t.trim().to_owned())
    } else {
        Err("expected trace, debug, info, warn, error or off, optionally per target (info,store=debug)".into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_distance_suggests_close_names() {
        assert_eq!(
            suggest("MCP_HTTP_PRT", ROWS.iter().map(|r| r.env)),
            Some("MCP_HTTP_PORT")
        );
        assert_eq!(
            suggest("ZZZ_TOTALLY_ELSE", ROWS.iter().map(|r| r.env)),
            None
        );
    }

    #[test]
    fn base_paths_are_normalised() {
        assert_eq!(base_path("/mcp/").as_deref(), Ok("/mcp"));
        assert_eq!(base_path("/").as_deref(), Ok("/"));
        assert!(base_path("mcp").is_err());
        assert!(base_path("/a b").is_err());
    }

    #[test]
    fn log_levels_accept_directives() {
        assert!(log_level("info,store=debug").is_ok());
        assert!(log_level("loud").is_err());
    }
}
