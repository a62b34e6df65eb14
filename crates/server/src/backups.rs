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

/// Devices one instance backs up at once.
pub const CONCURRENCY: usize = 8;
/// The job kind of scheduled backups (one job per device, keyed by its id).
pub const BACKUP_JOB: &str = "backup";

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

/// The job kind a device's backup runs as: one job per active device, claimed through the
/// database's leases (so several instances on one PostgreSQL split the fleet and a dead
/// instance's devices are taken over when its leases expire), due again `interval` after it
/// ran. Each run is one [`Backups::capture`], which is also the device's drift check. A device
/// that does not answer is tried again after 5 minutes, backing off up to the interval.
pub fn job_kind(backups: Backups, interval: Duration) -> jobs::Kind {
    let store = backups.fleet().store().clone();
    jobs::Kind::new(BACKUP_JOB, move |key: String| {
        let backups = backups.clone();
        async move {
            let device = backups.fleet().store().find_device(None, &key).await?;
            let captured = backups.capture(&device, Trigger::Schedule).await?;
            if captured.drift_first_seen {
                tracing::warn!(device = %device.name, "configuration drift: changed outside the product");
            }
            Ok(interval)
        }
    })
    .keys_from(Duration::from_secs(60), move || {
        let store = store.clone();
        async move {
            Ok(store
                .list_devices(&DeviceFilter {
                    status: Some(DeviceStatus::Active),
                    ..DeviceFilter::default()
                })
                .await?
                .into_iter()
                .map(|d| d.id.to_string())
                .collect())
        }
    })
    .concurrency(CONCURRENCY)
    .lease(Duration::from_secs(300))
    .retry(Duration::from_secs(300).min(interval), interval)
}
