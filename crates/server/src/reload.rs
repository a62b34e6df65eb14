//! Configuration reload (SIGHUP): what can change while the server runs, and what needs a
//! restart.
//!
//! A reload takes configuration loaded anew from the same sources (the caller reads them: the
//! file and the process environment), compares it setting by setting with the configuration in
//! force, and hands the new settings to every part that applies a changed setting live — each a
//! [`Reloadable`]. Every part checks first; only when all agree does any apply, so an invalid new
//! configuration (or one the parts refuse, such as an unknown tool in `MCP_DISABLE_TOOLS`) is
//! reported and changes nothing. Each changed setting is logged by name (a secret without its
//! value); one that no part applies live is named as needing a restart, and the running server
//! keeps its old value (the next reload names it again).
//!
//! Live in the service itself: the tool policy (`MCP_TOOL_TIERS`, `MCP_DEFAULT_TOOL_TIER`,
//! `MCP_DISABLE_TOOLS`, `MCP_READ_ONLY`), the token budget, the announced name, version and
//! description, the feature switches, the device rate ceiling and concurrency cap, and the
//! shutdown grace period. Others register their own parts ([`Reloader::register`]): the binary
//! the log level, the authentication layer its keys.

use std::sync::{Arc, Mutex};

use settings::{Loaded, SettingChange, Settings, SettingsError, ValueEntry};

use crate::NOTICE;
use crate::notify::Notifier;

/// A part of the server that applies some settings without a restart.
pub trait Reloadable: Send + Sync {
    /// What the part is, for messages ("log level", "authentication keys").
    fn name(&self) -> &str;

    /// The settings (file keys, as in `settings::table`) it applies live. It is handed the new
    /// settings when one of them changed; a part with no keys is handed them on every reload
    /// (to re-read files its settings point to, say).
    fn keys(&self) -> &[&'static str];

    /// Whether the new settings can be applied; the error says what is wrong with them. Nothing
    /// is applied anywhere unless every part agrees.
    fn check(&self, new: &Settings) -> Result<(), String> {
        let _ = new;
        Ok(())
    }

    /// Applies the new settings.
    fn apply(&self, new: &Settings);
}

/// A [`Reloadable`] made of a name, keys and a function.
pub struct Callback<F> {
    name: String,
    keys: Vec<&'static str>,
    apply: F,
}

impl<F: Fn(&Settings) + Send + Sync> Callback<F> {
    pub fn new(name: impl Into<String>, keys: &[&'static str], apply: F) -> Self {
        Self {
            name: name.into(),
            keys: keys.to_vec(),
            apply,
        }
    }
}

impl<F> std::fmt::Debug for Callback<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callback")
            .field("name", &self.name)
            .field("keys", &self.keys)
            .finish_non_exhaustive()
    }
}

impl<F: Fn(&Settings) + Send + Sync> Reloadable for Callback<F> {
    fn name(&self) -> &str {
        &self.name
    }

    fn keys(&self) -> &[&'static str] {
        &self.keys
    }

    fn apply(&self, new: &Settings) {
        (self.apply)(new);
    }
}

/// What a reload did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReloadOutcome {
    /// The new configuration is in force for every setting that can change live.
    Applied {
        /// Settings now in force.
        live: Vec<SettingChange>,
        /// Settings that changed but wait for a restart.
        restart: Vec<SettingChange>,
    },
    /// The new configuration was refused; everything stays as it was.
    Refused(String),
}

/// Hands reloaded configuration to the parts of a running server. Cheap to clone.
#[derive(Clone)]
pub struct Reloader {
    inner: Arc<Inner>,
}

struct Inner {
    /// The settings in force, as `config show` would print them: what a reload compares with.
    in_force: Mutex<Vec<ValueEntry>>,
    parts: Mutex<Vec<Arc<dyn Reloadable>>>,
    notifier: Notifier,
    /// One reload at a time.
    serial: tokio::sync::Mutex<()>,
    /// Told after a reload that changed what `tools/list` shows.
    tools_changed: Option<Arc<mcp_server::App>>,
}

impl std::fmt::Debug for Reloader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let parts: Vec<String> = self.parts().iter().map(|p| p.name().to_owned()).collect();
        f.debug_struct("Reloader").field("parts", &parts).finish()
    }
}

/// Settings whose change alters the tool list sessions see.
const TOOL_LIST_KEYS: &[&str] = &[
    "features.tools",
    "tools.tiers",
    "tools.default_tier",
    "tools.disabled",
    "tools.read_only",
];

impl Reloader {
    pub(crate) fn new(
        in_force: Vec<ValueEntry>,
        notifier: Notifier,
        tools_changed: Option<Arc<mcp_server::App>>,
    ) -> Self {
        Self {
            inner: Arc::new(Inner {
                in_force: Mutex::new(in_force),
                parts: Mutex::new(Vec::new()),
                notifier,
                serial: tokio::sync::Mutex::new(()),
                tools_changed,
            }),
        }
    }

    /// Adds a part that applies settings live.
    pub fn register(&self, part: Arc<dyn Reloadable>) {
        self.inner
            .parts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(part);
    }

    fn parts(&self) -> Vec<Arc<dyn Reloadable>> {
        self.inner
            .parts
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Applies configuration loaded anew (or reports why it could not be loaded), telling
    /// systemd `RELOADING=1` before and `READY=1` after.
    pub async fn reload(&self, loaded: Result<Loaded, SettingsError>) -> ReloadOutcome {
        let _one_at_a_time = self.inner.serial.lock().await;
        self.inner.notifier.reloading();
        let outcome = self.apply(loaded).await;
        self.inner.notifier.ready();
        outcome
    }

    async fn apply(&self, loaded: Result<Loaded, SettingsError>) -> ReloadOutcome {
        let new = match loaded {
            Ok(new) => new,
            Err(e) => return refuse(e.to_string()),
        };
        let changes = {
            let in_force = self
                .inner
                .in_force
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            settings::changes(&in_force, &new.entries)
        };
        let parts = self.parts();
        let touched: Vec<&Arc<dyn Reloadable>> = parts
            .iter()
            .filter(|p| p.keys().is_empty() || changes.iter().any(|c| p.keys().contains(&c.key)))
            .collect();
        let problems: Vec<String> = touched
            .iter()
            .filter_map(|p| {
                p.check(&new.settings)
                    .err()
                    .map(|e| format!("{}: {e}", p.name()))
            })
            .collect();
        if !problems.is_empty() {
            return refuse(problems.join("; "));
        }
        for warning in &new.warnings {
            tracing::warn!(target: NOTICE, "{warning}");
        }
        for part in &touched {
            part.apply(&new.settings);
            if part.keys().is_empty() {
                tracing::info!(target: NOTICE, "configuration reload: {}", part.name());
            }
        }
        let (live, restart): (Vec<SettingChange>, Vec<SettingChange>) = changes
            .into_iter()
            .partition(|c| parts.iter().any(|p| p.keys().contains(&c.key)));
        for c in &live {
            tracing::info!(target: NOTICE, setting = c.env, "configuration reload: {c}");
        }
        for c in &restart {
            tracing::warn!(
                target: NOTICE,
                setting = c.env,
                "configuration reload: {c}, which needs a restart: the running server keeps the value it started with"
            );
        }
        {
            let mut in_force = self
                .inner
                .in_force
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            for c in &live {
                let now = new.entries.iter().find(|e| e.key == c.key);
                match (in_force.iter_mut().find(|e| e.key == c.key), now) {
                    (Some(old), Some(now)) => *old = now.clone(),
                    (None, Some(now)) => in_force.push(now.clone()),
                    (_, None) => {}
                }
            }
        }
        if live.is_empty() && restart.is_empty() {
            tracing::info!(target: NOTICE, "configuration reload: nothing changed");
        }
        if let Some(app) = &self.inner.tools_changed
            && live.iter().any(|c| TOOL_LIST_KEYS.contains(&c.key))
        {
            let told = app.notify_tools_changed().await;
            tracing::debug!(sessions = told, "told open sessions the tool list changed");
        }
        ReloadOutcome::Applied { live, restart }
    }
}

fn refuse(problem: String) -> ReloadOutcome {
    tracing::error!(
        target: NOTICE,
        "configuration reload refused, the configuration in force is kept: {problem}"
    );
    ReloadOutcome::Refused(problem)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    fn load(pairs: &[(&str, &str)]) -> Result<Loaded, SettingsError> {
        let mut env: Vec<(String, String)> = pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        env.push((
            "ROUTEROS_MCP_DATA_DIR".into(),
            "/tmp/routeros-mcp-reload-test".into(),
        ));
        settings::Loader::new(None, env).load()
    }

    /// Records the level it was handed; refuses "error" to stand for a part that disagrees.
    struct Level {
        applied: Mutex<Vec<String>>,
        checks: AtomicUsize,
    }

    impl Reloadable for Level {
        fn name(&self) -> &str {
            "log level"
        }

        fn keys(&self) -> &[&'static str] {
            &["log.level"]
        }

        fn check(&self, new: &Settings) -> Result<(), String> {
            self.checks.fetch_add(1, Ordering::SeqCst);
            if new.log.level == "error" {
                Err("not that one".into())
            } else {
                Ok(())
            }
        }

        fn apply(&self, new: &Settings) {
            self.applied.lock().unwrap().push(new.log.level.clone());
        }
    }

    fn reloader() -> (Reloader, Arc<Level>, Arc<AtomicUsize>) {
        let reloader = Reloader::new(
            load(&[("LOG_LEVEL", "info")]).unwrap().entries,
            Notifier::default(),
            None,
        );
        let level = Arc::new(Level {
            applied: Mutex::new(Vec::new()),
            checks: AtomicUsize::new(0),
        });
        reloader.register(level.clone());
        let every = Arc::new(AtomicUsize::new(0));
        let counted = Arc::clone(&every);
        reloader.register(Arc::new(Callback::new("key files", &[], move |_| {
            counted.fetch_add(1, Ordering::SeqCst);
        })));
        (reloader, level, every)
    }

    #[tokio::test]
    async fn live_settings_are_applied_and_the_others_wait_for_a_restart() {
        let (reloader, level, every) = reloader();
        let outcome = reloader
            .reload(load(&[("LOG_LEVEL", "debug"), ("MCP_HTTP_PORT", "9999")]))
            .await;
        let ReloadOutcome::Applied { live, restart } = outcome else {
            panic!("applied")
        };
        assert_eq!(live.len(), 1);
        assert_eq!(live[0].env, "LOG_LEVEL");
        assert_eq!(restart.len(), 1);
        assert_eq!(restart[0].env, "MCP_HTTP_PORT");
        assert_eq!(*level.applied.lock().unwrap(), ["debug"]);
        assert_eq!(
            every.load(Ordering::SeqCst),
            1,
            "a part without keys hears every reload"
        );

        // Nothing changed since: the level part is not bothered; the restart one is named again.
        let again = reloader
            .reload(load(&[("LOG_LEVEL", "debug"), ("MCP_HTTP_PORT", "9999")]))
            .await;
        let ReloadOutcome::Applied { live, restart } = again else {
            panic!("applied")
        };
        assert!(live.is_empty());
        assert_eq!(restart.len(), 1, "still waiting for a restart");
        assert_eq!(level.applied.lock().unwrap().len(), 1);
        assert_eq!(every.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_configuration_that_does_not_load_or_is_refused_changes_nothing() {
        let (reloader, level, every) = reloader();
        let outcome = reloader.reload(load(&[("LOG_LEVEL", "loud")])).await;
        assert!(
            matches!(&outcome, ReloadOutcome::Refused(p) if p.contains("LOG_LEVEL=\"loud\"")),
            "{outcome:?}"
        );
        let outcome = reloader
            .reload(load(&[("LOG_LEVEL", "error"), ("MCP_HTTP_PORT", "9999")]))
            .await;
        assert!(
            matches!(&outcome, ReloadOutcome::Refused(p) if p == "log level: not that one"),
            "{outcome:?}"
        );
        assert!(level.applied.lock().unwrap().is_empty());
        assert_eq!(every.load(Ordering::SeqCst), 0, "nobody applied anything");
        // The configuration in force is still the first one: going back to it changes nothing.
        let outcome = reloader.reload(load(&[("LOG_LEVEL", "info")])).await;
        assert_eq!(
            outcome,
            ReloadOutcome::Applied {
                live: vec![],
                restart: vec![]
            }
        );
    }
}
