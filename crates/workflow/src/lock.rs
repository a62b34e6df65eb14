//! Per-device write locks: one apply (or rollback, or recovery) writes to a device at a time.
//!
//! Within a process a mutex per device; on PostgreSQL also a session advisory lock, held on a
//! connection of its own for as long as the device is being written, so server processes sharing
//! the database never write one device at once. A process that dies loses its connection and
//! with it the lock. SQLite serves one process, so the mutex is the whole lock there.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use domain::DeviceId;
use sha2::{Digest, Sha256};
use sqlx::Any;
use sqlx::pool::PoolConnection;
use store::{Backend, Store};
use tokio::sync::OwnedMutexGuard;

use crate::error::WorkflowError;

/// First key of the two-key advisory lock space: "rmcp" in ASCII.
const LOCK_CLASS: i32 = 0x726d_6370;

#[derive(Debug, Default)]
pub(crate) struct DeviceLocks {
    local: Mutex<HashMap<DeviceId, Arc<tokio::sync::Mutex<()>>>>,
}

/// A held device lock; released when dropped (the PostgreSQL lock explicitly, see `release`).
#[derive(Debug)]
pub(crate) struct DeviceLock {
    _local: OwnedMutexGuard<()>,
    pg: Option<(PoolConnection<Any>, i32)>,
}

fn device_key(device: &DeviceId) -> i32 {
    let digest = Sha256::digest(device.to_string().as_bytes());
    i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

impl DeviceLocks {
    /// Waits up to `timeout` for the device's lock.
    pub(crate) async fn acquire(
        &self,
        store: &Store,
        device: &DeviceId,
        name: &str,
        timeout: Duration,
    ) -> Result<DeviceLock, WorkflowError> {
        let started = Instant::now();
        let busy = || {
            WorkflowError::Refused(format!(
                "device {name} is being changed by another apply; waited {} s for it to finish",
                timeout.as_secs()
            ))
        };
        let mutex = {
            let mut map = self
                .local
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            Arc::clone(map.entry(*device).or_default())
        };
        let local = tokio::time::timeout(timeout, mutex.lock_owned())
            .await
            .map_err(|_| busy())?;
        if store.backend() != Backend::Postgres {
            return Ok(DeviceLock {
                _local: local,
                pg: None,
            });
        }
        let key = device_key(device);
        let mut conn = store.pool().acquire().await?;
        loop {
            let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
                .bind(LOCK_CLASS)
                .bind(key)
                .fetch_one(&mut *conn)
                .await?;
            if got {
                return Ok(DeviceLock {
                    _local: local,
                    pg: Some((conn, key)),
                });
            }
            if started.elapsed() >= timeout {
                return Err(busy());
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl DeviceLock {
    /// Releases the lock. On PostgreSQL the unlock is explicit; if it fails the connection is
    /// closed instead, which releases the lock too.
    pub(crate) async fn release(mut self) {
        if let Some((mut conn, key)) = self.pg.take() {
            let unlocked = sqlx::query("SELECT pg_advisory_unlock($1, $2)")
                .bind(LOCK_CLASS)
                .bind(key)
                .execute(&mut *conn)
                .await;
            if unlocked.is_err() {
                let _ = conn.close().await;
            }
        }
    }
}

impl Drop for DeviceLock {
    fn drop(&mut self) {
        // Dropped without `release` (a panic, a cancelled future): never return a connection
        // that still holds the lock to the pool.
        if let Some((conn, _)) = self.pg.take() {
            drop(conn.detach());
        }
    }
}
