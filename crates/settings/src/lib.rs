//! Layered configuration: built-in defaults < environment profile < configuration file <
//! environment variables.
//!
//! The loader reads what the operator said (a TOML/YAML/JSON file through the `config` crate,
//! and the flat environment variables of [`table::ROWS`]), remembers where every value came
//! from, and resolves it into a typed [`Settings`]. Every invalid value is reported at once, each
//! naming the variable (or file key), the value given and what is allowed; secrets are never
//! echoed. `routeros-mcp config show` renders [`Loaded::entries`].

mod load;
mod model;
pub mod table;

pub use load::{Loaded, Loader, SettingChange, Source, ValueEntry, changes};
pub use model::{
    AuthMode, AuthSettings, BackupSettings, ClientSettings, ConsoleSettings, DatabaseTarget,
    DeviceLimits, Features, HttpSettings, LlmSettings, LocalRole, LogFormat, LogSettings,
    OidcSettings, PlanSettings, ResourceCache, RunbookSettings, ServerInfo, Settings, TokenBudget,
    ToolPolicy, Transport, VaultSettings, WebhookSettings,
};

use std::path::PathBuf;

/// Why configuration could not be loaded.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SettingsError {
    /// One or more values are invalid; each line names the setting, the value and what is allowed.
    #[error("invalid configuration:\n{}", .0.iter().map(|p| format!("  - {p}")).collect::<Vec<_>>().join("\n"))]
    Invalid(Vec<String>),
    /// The configuration file could not be read or parsed.
    #[error("configuration file {path}: {message}")]
    File { path: PathBuf, message: String },
    /// The data directory cannot be created or written.
    #[error(
        "data directory {path} is not usable: {reason}; set ROUTEROS_MCP_DATA_DIR to a writable directory"
    )]
    DataDir { path: PathBuf, reason: String },
}

impl SettingsError {
    /// The individual problems, for callers that render them one per line.
    pub fn problems(&self) -> Vec<String> {
        match self {
            SettingsError::Invalid(problems) => problems.clone(),
            other => vec![other.to_string()],
        }
    }
}
