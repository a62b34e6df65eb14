//! What every command needs: the loaded configuration, logging, the store, the master key and
//! who is acting.
//!
//! Opening the store applies pending migrations, and loading the key may generate one (lab only)
//! — both said on stderr — so a first run works without setup and a misconfigured one fails with
//! a single clear message before anything changes.

use std::path::PathBuf;

use anyhow::{Context as _, Result};
use domain::Environment;
use settings::{DatabaseTarget, Loaded, Settings, Source};
use store::{AuditContext, Store, Target};
use tracing_subscriber::EnvFilter;
use vault::{KeyOrigin, KeyRequest, LoadedKey, MasterKey};

/// Loaded configuration plus the identity of the operator running the command.
#[derive(Debug)]
pub struct Context {
    pub loaded: Loaded,
    pub actor: String,
}

impl Context {
    /// Loads configuration (printing its warnings) and sets up logging on stderr; a server logs
    /// at the configured level, other commands only warnings unless LOG_LEVEL is set.
    pub fn load(config: Option<PathBuf>, serving: bool) -> Result<Self> {
        let loaded = settings::Loader::from_process(config).load()?;
        init_logging(&loaded, serving);
        for warning in &loaded.warnings {
            eprintln!("warning: {warning}");
        }
        Ok(Self {
            loaded,
            actor: format!("cli:{}", os_user()),
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.loaded.settings
    }

    /// A fresh audit context (new correlation id) for one command.
    pub fn audit(&self) -> AuditContext {
        AuditContext::new(self.actor.clone())
    }

    pub fn store_target(&self) -> Target {
        match &self.settings().database {
            DatabaseTarget::Sqlite(path) => Target::Sqlite(path.clone()),
            DatabaseTarget::Postgres(url) => Target::Postgres(url.clone()),
        }
    }

    /// Opens the registry without migrating (for `check`, which changes nothing).
    pub async fn open_store(&self) -> Result<Store> {
        self.settings().prepare_data_dir()?;
        let target = self.settings().database.redacted();
        Store::open(&self.store_target(), self.settings().database_pool_size)
            .await
            .with_context(|| format!("database {target}"))
    }

    /// Opens the registry and applies pending migrations, saying so.
    pub async fn store(&self) -> Result<Store> {
        let store = self.open_store().await?;
        let applied = store
            .migrate()
            .await
            .context("applying database migrations")?;
        for (version, description) in &applied {
            eprintln!("applied database migration {version} ({description})");
        }
        if let Some(key_file) = self.managed_key_file() {
            finish_interrupted_rotation(&store, &key_file).await?;
        }
        Ok(store)
    }

    /// The key file this server reads (configured, or the generated one in lab), if any.
    fn managed_key_file(&self) -> Option<PathBuf> {
        let s = self.settings();
        s.vault.master_key_file.clone().or_else(|| {
            (s.vault.master_key.is_none() && s.may_generate_master_key())
                .then(|| s.data_dir.join(vault::GENERATED_KEY_FILE))
        })
    }

    /// Loads the master key; in lab, generates one on first use and says where.
    pub fn master_key(&self) -> Result<LoadedKey> {
        let s = self.settings();
        let request = KeyRequest {
            inline: s.vault.master_key.as_ref(),
            file: s.vault.master_key_file.as_deref(),
            data_dir: &s.data_dir,
            generate_if_missing: s.may_generate_master_key(),
        };
        let loaded = request.load().map_err(|e| match e {
            vault::VaultError::Missing => anyhow::anyhow!(
                "{e} (MCP_ENV={} never generates one; only lab does)",
                s.environment
            ),
            other => anyhow::Error::new(other),
        })?;
        if let KeyOrigin::Generated(path) = &loaded.origin {
            eprintln!(
                "generated a new master key {} at {} (MCP_ENV=lab only). Back it up: without it the \
                 stored device credentials cannot be decrypted.",
                loaded.key.id(),
                path.display()
            );
        }
        if let Some(exposure) = loaded.exposure() {
            match s.environment {
                Environment::Lab => eprintln!("warning: {exposure}"),
                Environment::Staging | Environment::Prod => anyhow::bail!(
                    "{exposure} (MCP_ENV={} refuses a master key others can read)",
                    s.environment
                ),
            }
        }
        Ok(loaded)
    }
}

impl Context {
    /// Registry, master key and connections together, for commands that contact devices.
    pub async fn fleet(&self) -> Result<fleet::Fleet> {
        let store = self.store().await?;
        let key = self.master_key()?;
        Ok(self.fleet_with(store, key.key, None))
    }

    /// The plan workflow's behaviour, from configuration.
    pub fn workflow_config(&self) -> workflow::WorkflowConfig {
        let p = &self.settings().plans;
        let policy = |env: Environment| workflow::ApprovalPolicy {
            auto_approve: p
                .auto_approve(env)
                .iter()
                .filter_map(|r| r.parse::<workflow::Risk>().ok())
                .collect(),
            elicitation: p.elicitation(env),
        };
        workflow::WorkflowConfig {
            enable_apply: p.enable_apply,
            approval_timeout: p.approval_timeout,
            confirm_timeout: p.confirm_timeout,
            rollback_timeout: (p.confirm_timeout + std::time::Duration::from_secs(60))
                .max(std::time::Duration::from_secs(180)),
            policies: Environment::ALL.iter().map(|e| (*e, policy(*e))).collect(),
            ..workflow::WorkflowConfig::default()
        }
    }

    /// The workflow engine over a fleet.
    pub fn workflow(
        &self,
        fleet: &fleet::Fleet,
        metrics: Option<workflow::Metrics>,
    ) -> workflow::Workflow {
        workflow::Workflow::new(
            fleet.clone(),
            fleet.master_key(),
            self.workflow_config(),
            metrics,
        )
    }

    /// The read cache `MCP_RESOURCE_CACHE_*` asks for (`None` when disabled).
    pub fn read_cache(&self) -> Option<routeros::CacheLimits> {
        let c = self.settings().resource_cache;
        c.enabled.then(|| routeros::CacheLimits {
            ttl: c.ttl,
            max_entries: usize::try_from(c.max_entries).unwrap_or(usize::MAX),
        })
    }

    /// A fleet over an open store and key, with driver metrics when given.
    pub fn fleet_with(
        &self,
        store: Store,
        key: MasterKey,
        metrics: Option<routeros::Metrics>,
    ) -> fleet::Fleet {
        let d = self.settings().devices;
        let limits = routeros::Limits {
            rate_per_second: d.rate_per_second,
            burst: d.burst,
            concurrency: usize::try_from(d.concurrency).unwrap_or(4),
            timeout: d.timeout,
            read_retries: d.read_retries,
            breaker_failures: d.breaker_failures,
            breaker_cooldown: d.breaker_cooldown,
            cache: self.read_cache(),
            ..routeros::Limits::default()
        };
        fleet::Fleet::new(
            store,
            std::sync::Arc::new(key),
            std::sync::Arc::new(routeros::Connections::new(limits, metrics)),
        )
    }
}

/// `key rotate` writes the new key to `<key file>.next` before re-encrypting and renames it over
/// the key file after commit. If the process died in between, the database tells which key is
/// current: finish the rename if the credentials are already under the new key, otherwise drop
/// the unused file.
async fn finish_interrupted_rotation(store: &Store, key_file: &std::path::Path) -> Result<()> {
    let next = next_key_path(key_file);
    if !next.exists() {
        return Ok(());
    }
    let (next_key, _) = MasterKey::read_file(&next)?;
    let in_use = store.credential_key_ids().await?;
    if !in_use.is_empty() && in_use.iter().all(|(id, _)| id == next_key.id().as_str()) {
        std::fs::rename(&next, key_file)
            .with_context(|| format!("completing the key rotation into {}", key_file.display()))?;
        eprintln!(
            "completed an interrupted key rotation: {} now holds key {}",
            key_file.display(),
            next_key.id()
        );
    } else {
        std::fs::remove_file(&next)
            .with_context(|| format!("removing the unused key file {}", next.display()))?;
        eprintln!(
            "removed {} left by an interrupted key rotation that did not commit",
            next.display()
        );
    }
    Ok(())
}

pub fn next_key_path(key_file: &std::path::Path) -> PathBuf {
    let mut name = key_file.as_os_str().to_owned();
    name.push(".next");
    PathBuf::from(name)
}

/// The operator's login name, or `uid:N` when the environment does not say (services, cron).
fn os_user() -> String {
    std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .ok()
        .filter(|u| !u.is_empty())
        .or_else(|| {
            let status = std::fs::read_to_string("/proc/self/status").ok()?;
            let uid = status
                .lines()
                .find_map(|l| l.strip_prefix("Uid:"))?
                .split_whitespace()
                .next()?
                .to_owned();
            Some(format!("uid:{uid}"))
        })
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Libraries held to a level whatever the operator asks for (`LOG_LEVEL=trace`, or a directive
/// naming them or one of their modules): at more verbose levels rmcp logs every JSON-RPC message
/// in full (approval tokens in `plan.apply` arguments and auto-approval results) and russh logs
/// authentication exchanges.
const NEVER_VERBOSE: &[(&str, tracing::Level)] = &[
    ("rmcp", tracing::Level::INFO),
    ("russh", tracing::Level::WARN),
];

/// Whether an event or span would be more verbose than [`NEVER_VERBOSE`] allows for its crate.
fn too_verbose(meta: &tracing::Metadata<'_>) -> bool {
    let target = meta.target();
    NEVER_VERBOSE.iter().any(|(krate, max)| {
        let ours = target == *krate
            || target
                .strip_prefix(krate)
                .is_some_and(|rest| rest.starts_with("::"));
        ours && meta.level() > max
    })
}

/// Logs go to stderr (stdout is for command output, and for JSON-RPC under stdio). CLI commands
/// log warnings only unless LOG_LEVEL was set explicitly.
fn init_logging(loaded: &Loaded, serving: bool) {
    use tracing_subscriber::Layer as _;
    use tracing_subscriber::layer::SubscriberExt as _;
    use tracing_subscriber::util::SubscriberInitExt as _;

    let explicit = loaded
        .entries
        .iter()
        .find(|e| e.key == "log.level")
        .is_some_and(|e| matches!(e.source, Source::Env(_) | Source::File(_)));
    let level = if explicit || serving {
        loaded.settings.log.level.as_str()
    } else {
        "warn"
    };
    // Libraries that narrate every connection at debug level are held to warnings unless the
    // operator names them in LOG_LEVEL directives.
    let quiet = if level.contains('=') {
        ""
    } else {
        ",sqlx=warn,rustls=warn,hyper=warn,hyper_util=warn,reqwest=warn,h2=warn,tower=warn"
    };
    let filter =
        EnvFilter::try_new(format!("{level}{quiet}")).unwrap_or_else(|_| EnvFilter::new("warn"));
    let never = tracing_subscriber::filter::filter_fn(|meta| !too_verbose(meta));
    let layer = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false);
    let layer = match loaded.settings.log.format {
        settings::LogFormat::Json => layer.json().boxed(),
        settings::LogFormat::Text => layer.boxed(),
    };
    let _ = tracing_subscriber::registry()
        .with(layer.with_filter(filter).with_filter(never))
        .try_init();
}
