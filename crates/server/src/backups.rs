//! Configuration backups while serving: the snapshot taken right after every plan apply (so the
//! product knows what it applied), and a small schedule that backs up each active device whose
//! last backup is older than `ROUTEROS_MCP_BACKUP_INTERVAL`, a few devices at a time, pruning by
//! the retention settings as it goes. Each backup is one call of `backup::Backups::capture`; the
//! schedule only decides who is due.

use std::sync::Arc;
use std::time::Duration;

use backup::{BackupOptions, Backups, Trigger};
use domain::DeviceStatus;
use futures::StreamExt;
use settings::Settings;
use store::DeviceFilter;
use tokio_util::sync::CancellationToken;

/// Devices backed up at once by the schedule.
pub const CONCURRENCY: usize = 8;
/// How often the schedule looks for devices that are due (at most; sooner for short intervals).
const LOOK_EVERY: Duration = Duration::from_secs(60);

/// The backup options the settings ask for.
pub fn options(s: &Settings) -> BackupOptions {
    BackupOptions {
        show_sensitive: s.backup.show_sensitive,
        keep: s.backup.keep,
        max_age: s.backup.max_age,
    }
}

/// The workflow's after-apply hook: a snapshot of every device of the applied plan, marked with
/// the plan. Runs in the background; a failure is logged (the next backup catches up).
pub fn after_apply(backups: Backups) -> workflow::AfterApply {
    workflow::AfterApply(Arc::new(
        move |plan_id: &str, devices: &[domain::DeviceId]| {
            let backups = backups.clone();
            let plan_id = plan_id.to_owned();
            let devices = devices.to_vec();
            tokio::spawn(async move {
                for id in devices {
                    let device = match backups
                        .fleet()
                        .store()
                        .find_device(None, &id.to_string())
                        .await
                    {
                        Ok(d) => d,
                        Err(e) => {
                            tracing::warn!(device = %id, error = %e, "snapshot after apply: device not found");
                            continue;
                        }
                    };
                    if let Err(e) = backups
                        .capture(&device, Trigger::Plan(plan_id.clone()))
                        .await
                    {
                        tracing::warn!(device = %device.name, plan = %plan_id, error = %e, "snapshot after apply failed");
                    }
                }
            });
        },
    ))
}

/// The active devices whose last backup check is older than `interval` (or never happened).
pub async fn due(
    backups: &Backups,
    interval: Duration,
) -> Result<Vec<store::Device>, store::StoreError> {
    let store = backups.fleet().store();
    let cutoff = store::time::ago(interval);
    let checked: std::collections::HashMap<String, String> = store
        .check_list()
        .await?
        .into_iter()
        .map(|c| (c.device_id, c.checked_at))
        .collect();
    let mut devices = store
        .list_devices(&DeviceFilter {
            status: Some(DeviceStatus::Active),
            ..DeviceFilter::default()
        })
        .await?;
    devices.retain(|d| {
        checked
            .get(&d.id.to_string())
            .is_none_or(|at| at.as_str() <= cutoff.as_str())
    });
    Ok(devices)
}

/// Backs up `devices` with at most `concurrency` at once; returns (succeeded, failed).
pub async fn run(
    backups: &Backups,
    devices: Vec<store::Device>,
    trigger: Trigger,
    concurrency: usize,
) -> (usize, usize) {
    let results: Vec<bool> = futures::stream::iter(devices)
        .map(|d| {
            let trigger = trigger.clone();
            async move {
                match backups.capture(&d, trigger).await {
                    Ok(c) => {
                        if c.drift_first_seen {
                            tracing::warn!(device = %d.name, "configuration drift: changed outside the product");
                        }
                        true
                    }
                    Err(e) => {
                        tracing::warn!(device = %d.name, error = %e, "configuration backup failed");
                        false
                    }
                }
            }
        })
        .buffer_unordered(concurrency.max(1))
        .collect()
        .await;
    let ok = results.iter().filter(|r| **r).count();
    (ok, results.len() - ok)
}

/// The backup schedule, until `stop`; nothing when `interval` is `None` (backups off).
pub fn spawn_schedule(backups: Backups, interval: Option<Duration>, stop: CancellationToken) {
    let Some(interval) = interval else {
        return;
    };
    tokio::spawn(async move {
        if let Err(e) = backups.refresh_gauge().await {
            tracing::warn!(error = %e, "reading configuration drift failed");
        }
        loop {
            match due(&backups, interval).await {
                Ok(devices) if !devices.is_empty() => {
                    let n = devices.len();
                    let (ok, failed) = run(&backups, devices, Trigger::Schedule, CONCURRENCY).await;
                    tracing::info!(
                        devices = n,
                        ok,
                        failed,
                        "scheduled configuration backups done"
                    );
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "finding devices due for a backup failed"),
            }
            tokio::select! {
                () = stop.cancelled() => break,
                () = tokio::time::sleep(LOOK_EVERY.min(interval)) => {}
            }
        }
    });
}
