//! The parts of the service, built from settings: the store (migrated, an interrupted key
//! rotation finished), the master key, the device connections, the fleet and the plan
//! workflow's configuration. The operator CLI builds the same parts the same way.
//!
//! What an operator should see even when logging is quiet (a migration applied, a key generated,
//! a rotation completed) is said as a notice ([`crate::NOTICE`]).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use domain::Environment;
use settings::{DatabaseTarget, Settings};
use store::{Store, Target};
use vault::{KeyOrigin, KeyRequest, LoadedKey, MasterKey};

use crate::{NOTICE, ServerError};

/// Where the registry lives.
pub fn store_target(s: &Settings) -> Target {
    match &s.database {
        DatabaseTarget::Sqlite(path) => Target::Sqlite(path.clone()),
        DatabaseTarget::Postgres(url) => Target::Postgres(url.clone()),
    }
}

/// Opens the registry without migrating (for `check`, which changes nothing).
pub async fn open_store(s: &Settings) -> Result<Store, ServerError> {
    s.prepare_data_dir()?;
    Store::open(&store_target(s), s.database_pool_size)
        .await
        .map_err(|source| ServerError::Database {
            target: s.database.redacted(),
            source,
        })
}

/// Opens the registry, applies pending migrations (saying so) and finishes a key rotation an
/// earlier process was interrupted in.
pub async fn store(s: &Settings) -> Result<Store, ServerError> {
    let store = open_store(s).await?;
    let applied = store.migrate().await.map_err(ServerError::Migrations)?;
    for (version, description) in &applied {
        tracing::info!(target: NOTICE, "applied database migration {version} ({description})");
    }
    if let Some(key_file) = managed_key_file(s) {
        finish_interrupted_rotation(&store, &key_file).await?;
    }
    Ok(store)
}

/// The key file this server reads (configured, or the generated one in lab), if any.
pub fn managed_key_file(s: &Settings) -> Option<PathBuf> {
    s.vault.master_key_file.clone().or_else(|| {
        (s.vault.master_key.is_none() && s.may_generate_master_key())
            .then(|| s.data_dir.join(vault::GENERATED_KEY_FILE))
    })
}

/// Loads the master key; in lab, generates one on first use and says where.
pub fn master_key(s: &Settings) -> Result<LoadedKey, ServerError> {
    let request = KeyRequest {
        inline: s.vault.master_key.as_ref(),
        file: s.vault.master_key_file.as_deref(),
        data_dir: &s.data_dir,
        generate_if_missing: s.may_generate_master_key(),
    };
    let loaded = request.load().map_err(|e| match e {
        vault::VaultError::Missing => ServerError::MasterKey(format!(
            "{e} (MCP_ENV={} never generates one; only lab does)",
            s.environment
        )),
        other => ServerError::Vault(other),
    })?;
    if let KeyOrigin::Generated(path) = &loaded.origin {
        tracing::info!(
            target: NOTICE,
            "generated a new master key {} at {} (MCP_ENV=lab only). Back it up: without it the \
             stored device credentials cannot be decrypted.",
            loaded.key.id(),
            path.display()
        );
    }
    if let Some(exposure) = loaded.exposure() {
        match s.environment {
            Environment::Lab => tracing::warn!(target: NOTICE, "{exposure}"),
            Environment::Staging | Environment::Prod => {
                return Err(ServerError::MasterKey(format!(
                    "{exposure} (MCP_ENV={} refuses a master key others can read)",
                    s.environment
                )));
            }
        }
    }
    Ok(loaded)
}

/// The plan workflow's behaviour, from configuration.
pub fn workflow_config(s: &Settings) -> workflow::WorkflowConfig {
    let p = &s.plans;
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
        tool_tiers: catalog::Catalog::embedded()
            .map(|c| c.iter().map(|t| (t.name.clone(), t.tier)).collect())
            .unwrap_or_default(),
        ..workflow::WorkflowConfig::default()
    }
}

/// The webhook `ROUTEROS_MCP_WEBHOOK_URL` names, checked against the transport rule (`None`
/// when it is unset). The error names the setting and what is allowed, never the URL.
pub fn webhook_endpoint(s: &Settings) -> Result<Option<webhook::Endpoint>, ServerError> {
    s.webhook
        .url
        .clone()
        .map(|url| {
            webhook::Endpoint::parse(url)
                .map_err(|e| ServerError::Usage(format!("ROUTEROS_MCP_WEBHOOK_URL: {e}")))
        })
        .transpose()
}

/// Starts delivering notifications to the webhook, when one is configured, counting them in
/// `registry` (a command that exports no metrics passes `None`). Needs a Tokio runtime.
pub fn webhook(
    s: &Settings,
    registry: Option<&prometheus::Registry>,
) -> Result<Option<(webhook::Notifier, webhook::Delivery)>, ServerError> {
    let Some(endpoint) = webhook_endpoint(s)? else {
        return Ok(None);
    };
    let metrics = match registry {
        Some(registry) => webhook::Metrics::register(registry)?,
        None => webhook::Metrics::register(&prometheus::Registry::new())?,
    };
    Ok(Some(webhook::Notifier::start(
        webhook::Config::new(endpoint),
        metrics,
    )?))
}

/// The read cache `MCP_RESOURCE_CACHE_*` asks for (`None` when disabled).
pub fn read_cache(s: &Settings) -> Option<routeros::CacheLimits> {
    let c = s.resource_cache;
    c.enabled.then(|| routeros::CacheLimits {
        ttl: c.ttl,
        max_entries: usize::try_from(c.max_entries).unwrap_or(usize::MAX),
    })
}

/// How hard devices may be pushed (`ROUTEROS_*`).
pub fn device_limits(s: &Settings) -> routeros::Limits {
    let d = s.devices;
    routeros::Limits {
        rate_per_second: d.rate_per_second,
        burst: d.burst,
        concurrency: usize::try_from(d.concurrency).unwrap_or(4),
        timeout: d.timeout,
        read_retries: d.read_retries,
        breaker_failures: d.breaker_failures,
        breaker_cooldown: d.breaker_cooldown,
        idle: d.idle,
        cache: read_cache(s),
        ..routeros::Limits::default()
    }
}

/// The connections to devices, with driver metrics when given. Inside a Tokio runtime, idle
/// devices' connections are closed in the background for as long as these connections live.
pub fn connections(s: &Settings, metrics: Option<routeros::Metrics>) -> Arc<routeros::Connections> {
    let connections = Arc::new(routeros::Connections::new(device_limits(s), metrics));
    connections.close_idle_in_background();
    connections
}

/// A fleet over an open store, a key and the connections.
pub fn fleet(
    store: Store,
    key: MasterKey,
    connections: Arc<routeros::Connections>,
) -> fleet::Fleet {
    fleet::Fleet::new(store, Arc::new(key), connections)
}

/// The tool policy the settings ask for; `read_only` (`serve --read-only`) wins.
pub fn policy(s: &Settings, read_only: bool) -> catalog::Policy {
    let t = &s.tools;
    catalog::Policy {
        tiers: t.tiers.clone(),
        session_tier: t.default_tier,
        read_only: t.read_only || read_only,
        disabled: t.disabled.clone(),
    }
}

/// `key rotate` writes the new key to `<key file>.next` before re-encrypting and renames it over
/// the key file after commit. If the process died in between, the database tells which key is
/// current: finish the rename if the credentials are already under the new key, otherwise drop
/// the unused file.
async fn finish_interrupted_rotation(store: &Store, key_file: &Path) -> Result<(), ServerError> {
    let next = next_key_path(key_file);
    if !next.exists() {
        return Ok(());
    }
    let (next_key, _) = MasterKey::read_file(&next)?;
    let in_use = store
        .credential_key_ids()
        .await
        .map_err(ServerError::Store)?;
    if !in_use.is_empty() && in_use.iter().all(|(id, _)| id == next_key.id().as_str()) {
        std::fs::rename(&next, key_file).map_err(|source| ServerError::Io {
            what: format!("completing the key rotation into {}", key_file.display()),
            source,
        })?;
        tracing::info!(
            target: NOTICE,
            "completed an interrupted key rotation: {} now holds key {}",
            key_file.display(),
            next_key.id()
        );
    } else {
        std::fs::remove_file(&next).map_err(|source| ServerError::Io {
            what: format!("removing the unused key file {}", next.display()),
            source,
        })?;
        tracing::info!(
            target: NOTICE,
            "removed {} left by an interrupted key rotation that did not commit",
            next.display()
        );
    }
    Ok(())
}

/// Where `key rotate` writes the new key before it is committed.
pub fn next_key_path(key_file: &Path) -> PathBuf {
    let mut name = key_file.as_os_str().to_owned();
    name.push(".next");
    PathBuf::from(name)
}

/// The runbooks on offer: the built-ins and the operator's folder (`ROUTEROS_MCP_RUNBOOK_DIR`),
/// each file that does not load logged with its line and reason (the others still load), and the
/// values of `ROUTEROS_MCP_RUNBOOK_ENV`, which must load. With `registry`, their metrics
/// (`runbook_runs_total` and the review and staleness gauges) are registered in it.
pub fn runbooks(
    s: &Settings,
    catalog: Arc<catalog::Catalog>,
    registry: Option<&prometheus::Registry>,
) -> Result<Arc<tools::runbook::Runbooks>, ServerError> {
    let index = runbook::Index::load(Arc::clone(&catalog), s.runbooks.dir.clone());
    for problem in index.problems() {
        tracing::warn!(target: NOTICE, "runbook not loaded: {problem}");
    }
    let env = match &s.runbooks.env_file {
        Some(path) => Some(runbook::Env::load(path).map_err(|problems| {
            let all: Vec<String> = problems.iter().map(ToString::to_string).collect();
            ServerError::Usage(format!("ROUTEROS_MCP_RUNBOOK_ENV: {}", all.join("; ")))
        })?),
        None => None,
    };
    let mut runbooks = tools::runbook::Runbooks::new(index, env, catalog);
    if let Some(llm) = &s.runbooks.llm {
        let reviser = tools::runbook::Reviser::new(&llm.base_url, llm.api_key.clone(), &llm.model)
            .map_err(ServerError::Usage)?;
        runbooks = runbooks.with_reviser(reviser);
    }
    if let Some(registry) = registry {
        runbooks = runbooks.with_metrics(tools::runbook::RunbookMetrics::register(registry)?);
    }
    Ok(Arc::new(runbooks))
}

/// Deletes the execution logs of runs finished longer ago than `retention`
/// (`ROUTEROS_MCP_RUNBOOK_LOG_RETENTION_DAYS`), keeping those a proposed version learned from;
/// returns how many went.
pub async fn prune_runbook_logs(
    store: &store::Store,
    retention: std::time::Duration,
) -> Result<u64, store::StoreError> {
    store.runbook_runs_prune(&store::time::ago(retention)).await
}
