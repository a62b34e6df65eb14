//! What every command needs: the loaded configuration, logging, the store, the master key and
//! who is acting.
//!
//! The store, the key, the fleet and the workflow are built by [`server::setup`], as the server
//! builds them. Opening the store applies pending migrations, and loading the key may generate
//! one (lab only) — both said on stderr — so a first run works without setup and a misconfigured
//! one fails with a single clear message before anything changes.

use std::path::PathBuf;

use anyhow::Result;
use settings::{Loaded, Settings};
use store::{AuditContext, Store};
use vault::{LoadedKey, MasterKey};

use crate::UsageError;
use crate::logging::Logging;

/// Loaded configuration plus the identity of the operator running the command.
#[derive(Debug)]
pub struct Context {
    pub loaded: Loaded,
    pub actor: String,
    /// `--config`, as given (a reload reads the same file again).
    pub config_path: Option<PathBuf>,
    /// The log level, changeable while serving.
    pub logging: Logging,
}

impl Context {
    /// Loads configuration (printing its warnings) and sets up logging on stderr; a server logs
    /// at the configured level, other commands only warnings unless LOG_LEVEL is set.
    pub fn load(config: Option<PathBuf>, serving: bool) -> Result<Self> {
        let loaded = settings::Loader::from_process(config.clone()).load()?;
        let logging = crate::logging::init(&loaded, serving);
        for warning in &loaded.warnings {
            tracing::warn!(target: server::NOTICE, "{warning}");
        }
        Ok(Self {
            loaded,
            actor: format!("cli:{}", os_user()),
            config_path: config,
            logging,
        })
    }

    pub fn settings(&self) -> &Settings {
        &self.loaded.settings
    }

    /// A fresh audit context (new correlation id) for one command.
    pub fn audit(&self) -> AuditContext {
        AuditContext::new(self.actor.clone())
    }

    /// Opens the registry without migrating (for `check`, which changes nothing).
    pub async fn open_store(&self) -> Result<Store> {
        server::setup::open_store(self.settings())
            .await
            .map_err(server_error)
    }

    /// Opens the registry and applies pending migrations, saying so.
    pub async fn store(&self) -> Result<Store> {
        server::setup::store(self.settings())
            .await
            .map_err(server_error)
    }

    /// Loads the master key; in lab, generates one on first use and says where.
    pub fn master_key(&self) -> Result<LoadedKey> {
        server::setup::master_key(self.settings()).map_err(server_error)
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
        server::setup::workflow_config(self.settings())
    }

    /// The workflow engine over a fleet, telling `webhook` (when given) what it decides.
    pub fn workflow(
        &self,
        fleet: &fleet::Fleet,
        metrics: Option<workflow::Metrics>,
        webhook: Option<webhook::Notifier>,
    ) -> workflow::Workflow {
        workflow::Workflow::new(
            fleet.clone(),
            fleet.master_key(),
            workflow::WorkflowConfig {
                notifier: webhook,
                ..self.workflow_config()
            },
            metrics,
        )
    }

    /// Notifications to `ROUTEROS_MCP_WEBHOOK_URL`, when it is set (checked as `serve` checks
    /// it). The command ends with [`webhook::Delivery::finish`], so what it decided is
    /// delivered before the process exits.
    pub fn webhook(&self) -> Result<Option<(webhook::Notifier, webhook::Delivery)>> {
        server::setup::webhook(self.settings(), None).map_err(server_error)
    }

    /// A fleet over an open store and key, with driver metrics when given.
    pub fn fleet_with(
        &self,
        store: Store,
        key: MasterKey,
        metrics: Option<routeros::Metrics>,
    ) -> fleet::Fleet {
        server::setup::fleet(
            store,
            key,
            server::setup::connections(self.settings(), metrics),
        )
    }
}

/// A server error as the binary reports it: the operator's mistakes exit 2.
pub fn server_error(e: server::ServerError) -> anyhow::Error {
    match e {
        server::ServerError::Usage(message) => UsageError(message).into(),
        server::ServerError::Settings(e) => e.into(),
        other => other.into(),
    }
}

pub use server::setup::next_key_path;

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
