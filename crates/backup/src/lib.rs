//! Configuration snapshots and drift.
//!
//! [`Backups::capture`] backs up ONE device: it reads the device's `/export` through its driver,
//! normalizes it ([`normalize`]: volatile header lines, status comments and dynamic items gone),
//! and stores a new snapshot only when the normalized text's hash differs from the device's
//! last one. A stored snapshot says what changed the configuration since the one before: the
//! first snapshot is the device's `baseline`; later ones name the `plan` the product applied
//! since (with its approver), or `outside` the product when no plan explains them.
//!
//! Drift is measured against the newest snapshot the product applied or accepted (cause
//! `baseline` or `plan`): every capture compares the device's configuration with it, records the
//! menus that differ and since when in `config_drift`, audits `config.drift_detected` the first
//! time (not on every check) and `config.drift_cleared` when the device is back in line, and
//! keeps the gauge `routeros_config_drift_devices`.
//!
//! Capture is independent of any schedule: the server's loop, the CLI, and the hook after each
//! plan apply all call the same function, one device at a time. With `show_sensitive` the export
//! includes keys and passwords and the snapshot is sealed under the master key; nothing here
//! returns snapshot text with secrets except [`Backups::content`], for callers that hide them.

pub mod binary;
pub mod diff;
pub mod normalize;

use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use routeros::ExportOptions;
use serde_json::json;
use store::snapshots::{CheckRow, DriftRow, SnapshotRow};
use store::{AuditContext, Device, StoreError};
use vault::{ExposeSecret, SecretString};

pub use binary::{BINARY_SAVED, BinaryOptions, BinaryTaken, OpenedBackup};
pub use diff::{MenuDiff, changed_menus, diff};
pub use normalize::{Normalized, normalize};

/// The audit action of drift first seen on a device.
pub const DRIFT_DETECTED: &str = "config.drift_detected";
/// The audit action of a drifted device back in line.
pub const DRIFT_CLEARED: &str = "config.drift_cleared";

/// Everything a backup can fail at.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BackupError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Fleet(#[from] fleet::FleetError),
    #[error(transparent)]
    Driver(#[from] routeros::DriverError),
    #[error(transparent)]
    Vault(#[from] vault::VaultError),
    #[error(transparent)]
    Transfer(#[from] routeros::TransferError),
    #[error("no backup \"{0}\"; `routeros-mcp backup list DEVICE` shows them")]
    NotFound(String),
    /// The backup was fetched but its file could not be removed from the device; nothing was
    /// stored.
    #[error(
        "the backup file {file} could not be removed from the device ({error}); nothing was stored: remove it by hand (/file remove {file})"
    )]
    LeftOnDevice { file: String, error: String },
    /// The backup failed, and so did removing its file from the device.
    #[error(
        "{error}; and the backup file {file} could not be removed from the device ({cleanup}): remove it by hand if it exists (/file remove {file})"
    )]
    FailedAndLeft {
        error: Box<BackupError>,
        file: String,
        cleanup: String,
    },
    /// A stored row the application would never have written.
    #[error("configuration snapshot {0} is unreadable: {1}")]
    Corrupt(String, &'static str),
}

/// How backups are taken and kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupOptions {
    /// Export with `show-sensitive` and seal the snapshot under the master key.
    pub show_sensitive: bool,
    /// Snapshots kept per device (the newest; at least one).
    pub keep: usize,
    /// Snapshots older than this are removed (but never a device's newest, nor what drift is
    /// measured against). `None`: by count only.
    pub max_age: Option<Duration>,
}

impl Default for BackupOptions {
    fn default() -> Self {
        Self {
            show_sensitive: false,
            keep: 30,
            max_age: Some(Duration::from_secs(90 * 86_400)),
        }
    }
}

/// Why a capture runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Trigger {
    /// The backup schedule.
    Schedule,
    /// An operator (`routeros-mcp backup run`).
    Operator,
    /// Right after the product applied (or rolled back) this plan on the device.
    Plan(String),
    /// A drift check asked by a tool or a job.
    DriftCheck,
}

impl Trigger {
    fn as_str(&self) -> &'static str {
        match self {
            Trigger::Schedule => "schedule",
            Trigger::Operator => "operator",
            Trigger::Plan(_) => "plan",
            Trigger::DriftCheck => "drift_check",
        }
    }
}

/// Where a device stands against what the product applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    /// Console menus that differ from the baseline.
    pub menus: Vec<String>,
    /// When the first snapshot that differs was taken.
    pub since: String,
    pub baseline_id: String,
}

/// What a capture did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Captured {
    /// The device's current snapshot (new or unchanged).
    pub snapshot_id: String,
    /// Whether a new snapshot was stored (the configuration changed).
    pub stored: bool,
    /// The snapshot's cause: `baseline`, `plan` or `outside`.
    pub cause: String,
    pub plan_id: Option<String>,
    /// Menus that differ from the snapshot before (empty when nothing changed).
    pub changed_menus: Vec<String>,
    pub drift: Option<Drift>,
    /// This capture saw the drift first (and audited it).
    pub drift_first_seen: bool,
    /// Snapshots removed by retention.
    pub pruned: u64,
}

/// The backup service: one per process, cheap to clone.
#[derive(Debug, Clone)]
pub struct Backups {
    fleet: fleet::Fleet,
    options: BackupOptions,
    binary: BinaryOptions,
    drift_gauge: Option<prometheus::IntGauge>,
}

impl Backups {
    pub fn new(fleet: fleet::Fleet, options: BackupOptions) -> Self {
        Self {
            fleet,
            options,
            binary: BinaryOptions::default(),
            drift_gauge: None,
        }
    }

    /// Uses `binary` for binary backups (size cap, download deadline).
    pub fn with_binary_options(mut self, binary: BinaryOptions) -> Self {
        self.binary = binary;
        self
    }

    pub fn binary_options(&self) -> &BinaryOptions {
        &self.binary
    }

    /// Registers `routeros_config_drift_devices` in `registry` and keeps it.
    pub fn with_metrics(
        mut self,
        registry: &prometheus::Registry,
    ) -> Result<Self, prometheus::Error> {
        let gauge = prometheus::IntGauge::new(
            "routeros_config_drift_devices",
            "Devices whose running configuration differs from the last state the product applied",
        )?;
        registry.register(Box::new(gauge.clone()))?;
        self.drift_gauge = Some(gauge);
        Ok(self)
    }

    pub fn options(&self) -> &BackupOptions {
        &self.options
    }

    pub fn fleet(&self) -> &fleet::Fleet {
        &self.fleet
    }

    /// Sets the drift gauge from the database (after a capture, and at start).
    pub async fn refresh_gauge(&self) -> Result<(), BackupError> {
        if let Some(g) = &self.drift_gauge {
            let n = self.fleet.store().drift_list().await?.len();
            g.set(i64::try_from(n).unwrap_or(i64::MAX));
        }
        Ok(())
    }

    /// Backs up `device` (see the module documentation). A failure to read the device is
    /// recorded as the device's last check and returned.
    pub async fn capture(
        &self,
        device: &Device,
        trigger: Trigger,
    ) -> Result<Captured, BackupError> {
        let result = self.capture_inner(device, &trigger).await;
        let check = CheckRow {
            device_id: device.id.to_string(),
            checked_at: store::time::now(),
            status: if result.is_ok() { "ok" } else { "failed" }.into(),
            error: result.as_ref().err().map(ToString::to_string),
        };
        self.fleet.store().check_record(&check).await?;
        result
    }

    async fn capture_inner(
        &self,
        device: &Device,
        trigger: &Trigger,
    ) -> Result<Captured, BackupError> {
        let store = self.fleet.store();
        let device_id = device.id.to_string();
        let client = self.fleet.client(device).await?;
        let options = ExportOptions {
            verbose: false,
            show_sensitive: self.options.show_sensitive,
        };
        // A backup reads the device as it is now, never a cached export.
        client.invalidate_cache();
        let raw = client.export(&options).await?;
        let normalized = normalize(&raw);
        let hash = normalized.hash();
        let latest = store.snapshot_latest(&device_id).await?;
        let mut captured = match &latest {
            Some(last) if last.content_hash == hash => Captured {
                snapshot_id: last.id.clone(),
                stored: false,
                cause: last.cause.clone(),
                plan_id: last.plan_id.clone(),
                changed_menus: Vec::new(),
                drift: None,
                drift_first_seen: false,
                pruned: 0,
            },
            _ => {
                self.store_snapshot(device, trigger, &normalized, &hash, latest.as_ref())
                    .await?
            }
        };
        self.check_drift(device, &normalized, &hash, &mut captured)
            .await?;
        captured.pruned = store
            .snapshot_prune(
                &device_id,
                self.options.keep,
                self.options.max_age.map(store::time::ago).as_deref(),
            )
            .await?;
        self.refresh_gauge().await?;
        Ok(captured)
    }

    async fn store_snapshot(
        &self,
        device: &Device,
        trigger: &Trigger,
        normalized: &Normalized,
        hash: &str,
        previous: Option<&SnapshotRow>,
    ) -> Result<Captured, BackupError> {
        let store = self.fleet.store();
        let device_id = device.id.to_string();
        let (cause, plan_id, changed_by, changed) = match previous {
            None => ("baseline", None, None, Vec::new()),
            Some(prev) => {
                let before = self.lines(prev)?;
                let changed = changed_menus(&before, &normalized.lines);
                let applied = store
                    .plans_applied_since(&device_id, Some(&prev.taken_at))
                    .await?;
                let named = match trigger {
                    Trigger::Plan(id) => applied
                        .iter()
                        .find(|p| &p.plan_id == id)
                        .cloned()
                        .or_else(|| {
                            Some(store::snapshots::AppliedPlan {
                                plan_id: id.clone(),
                                approver: None,
                                applied_at: String::new(),
                            })
                        }),
                    Trigger::Schedule | Trigger::Operator | Trigger::DriftCheck => {
                        applied.into_iter().next()
                    }
                };
                match named {
                    Some(p) => ("plan", Some(p.plan_id), p.approver, changed),
                    None => ("outside", None, None, changed),
                }
            }
        };
        let id = domain::DeviceId::new().to_string();
        let text = normalized.text();
        let (content, key_id, nonce) = if self.options.show_sensitive {
            let key = self.fleet.master_key();
            let sealed = key.seal(&SecretString::from(text), &seal_context(&device_id, &id))?;
            (
                base64::engine::general_purpose::STANDARD.encode(&sealed.ciphertext),
                Some(sealed.key_id.as_str().to_owned()),
                Some(hex::encode(&sealed.nonce)),
            )
        } else {
            (text, None, None)
        };
        let row = SnapshotRow {
            id: id.clone(),
            device_id,
            taken_at: store::time::now(),
            content_hash: hash.to_owned(),
            content,
            key_id,
            nonce,
            line_count: i64::try_from(normalized.lines.len()).unwrap_or(i64::MAX),
            routeros_version: normalized.routeros_version.clone(),
            trigger_kind: trigger.as_str().into(),
            cause: cause.into(),
            plan_id: plan_id.clone(),
            changed_by,
            changed_menus: json!(changed).to_string(),
        };
        store.snapshot_insert(&row).await?;
        Ok(Captured {
            snapshot_id: id,
            stored: true,
            cause: cause.into(),
            plan_id,
            changed_menus: changed,
            drift: None,
            drift_first_seen: false,
            pruned: 0,
        })
    }

    async fn check_drift(
        &self,
        device: &Device,
        current: &Normalized,
        hash: &str,
        captured: &mut Captured,
    ) -> Result<(), BackupError> {
        let store = self.fleet.store();
        let device_id = device.id.to_string();
        let audit = AuditContext::new("system:backup");
        let Some(baseline) = store.snapshot_baseline(&device_id).await? else {
            return Ok(());
        };
        if baseline.content_hash == hash {
            store
                .drift_clear(
                    &device_id,
                    &audit,
                    DRIFT_CLEARED,
                    json!({"device": device.name, "baseline": baseline.id}),
                )
                .await?;
            return Ok(());
        }
        let menus = changed_menus(&self.lines(&baseline)?, &current.lines);
        let since = store
            .snapshot_first_after(&device_id, &baseline.taken_at)
            .await?
            .map_or_else(store::time::now, |s| s.taken_at);
        let row = DriftRow {
            device_id: device_id.clone(),
            since: since.clone(),
            baseline_id: baseline.id.clone(),
            snapshot_id: captured.snapshot_id.clone(),
            menus: json!(menus).to_string(),
            checked_at: store::time::now(),
        };
        captured.drift_first_seen = store
            .drift_record(
                &row,
                &audit,
                DRIFT_DETECTED,
                json!({
                    "device": device.name,
                    "menus": menus,
                    "since": since,
                    "baseline": baseline.id,
                    "snapshot": captured.snapshot_id,
                }),
            )
            .await?;
        captured.drift = Some(Drift {
            menus,
            since,
            baseline_id: baseline.id,
        });
        Ok(())
    }

    /// A snapshot's text, opened if it was sealed. It may hold secrets when backups show them:
    /// hide them before the text leaves the server.
    pub fn content(&self, row: &SnapshotRow) -> Result<String, BackupError> {
        match (&row.key_id, &row.nonce) {
            (None, None) => Ok(row.content.clone()),
            (Some(key_id), Some(nonce)) => {
                let corrupt = |what| BackupError::Corrupt(row.id.clone(), what);
                let sealed = vault::Sealed {
                    key_id: vault::KeyId::from_stored(key_id.clone()),
                    nonce: hex::decode(nonce).map_err(|_| corrupt("nonce is not hex"))?,
                    ciphertext: base64::engine::general_purpose::STANDARD
                        .decode(&row.content)
                        .map_err(|_| corrupt("ciphertext is not base64"))?,
                };
                let opened = self
                    .fleet
                    .master_key()
                    .open(&sealed, &seal_context(&row.device_id, &row.id))?;
                Ok(opened.expose_secret().to_owned())
            }
            (Some(_), None) | (None, Some(_)) => Err(BackupError::Corrupt(
                row.id.clone(),
                "sealed without both key id and nonce",
            )),
        }
    }

    /// A snapshot's lines (opened if sealed).
    pub fn lines(&self, row: &SnapshotRow) -> Result<Vec<String>, BackupError> {
        Ok(self.content(row)?.lines().map(str::to_owned).collect())
    }

    /// One snapshot by id.
    pub async fn snapshot(&self, id: &str) -> Result<SnapshotRow, BackupError> {
        self.fleet
            .store()
            .snapshot_get(id.trim())
            .await?
            .ok_or_else(|| BackupError::NotFound(id.trim().to_owned()))
    }

    /// The device's configuration now, normalized (for comparing with a snapshot; never stored).
    pub async fn running(&self, device: &Device) -> Result<Normalized, BackupError> {
        let client = self.fleet.client(device).await?;
        client.invalidate_cache();
        let raw = client
            .export(&ExportOptions {
                verbose: false,
                show_sensitive: self.options.show_sensitive,
            })
            .await?;
        Ok(normalize(&raw))
    }
}

/// What a sealed snapshot is bound to: its device and its own id, so a ciphertext moved to
/// another row fails to open.
fn seal_context(device_id: &str, snapshot_id: &str) -> String {
    format!("config-snapshot|device={device_id}|snapshot={snapshot_id}")
}

/// A shared handle.
pub type SharedBackups = Arc<Backups>;

#[cfg(test)]
mod tests;
