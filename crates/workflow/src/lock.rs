//! Write locks shared by every server process that uses one database: one apply (or rollback,
//! or recovery) writes to a device at a time, and a plan being applied is never recovered by
//! another process.
//!
//! Two kinds of lock, each held for as long as the work it guards:
//!
//! - a **device lock** while a device is written (its changes, their verification and
//!   confirmation, or their undoing);
//! - a **plan lock** for the whole of an apply, from before the plan becomes `applying` until its
//!   outcome is recorded. Recovery at startup skips every `applying` plan whose plan lock a live
//!   process holds: that process is still working on it.
//!
//! Within a process a mutex per key makes waiters queue. Across processes:
//!
//! - on PostgreSQL, a session advisory lock held on a connection of its own;
//! - on SQLite, an exclusive file lock (`flock`) on a file per key in a `locks` directory beside
//!   the database file (`registry.sqlite.locks/`). Every process that opens the same database
//!   file uses the same lock files, so Claude Desktop's stdio server and `serve --transport
//!   http` on one data directory wait for each other per device instead of writing one router at
//!   once; each process may still read, plan and approve freely. The holder writes its process id
//!   into the file so a refusal can name it.
//!
//! A process that dies loses its connection or its open files, and with them its locks: a lock
//! never outlives its holder.

use std::collections::HashMap;
use std::fs::{File, OpenOptions, TryLockError};
use std::io::{Read, Seek, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use domain::DeviceId;
use sha2::{Digest, Sha256};
use sqlx::AnyConnection;
use sqlx::Connection as _;
use store::{Backend, Store};
use tokio::sync::OwnedMutexGuard;

use crate::error::WorkflowError;

/// First key of the two-key advisory lock space for devices: "rmcp" in ASCII.
const DEVICE_CLASS: i32 = 0x726d_6370;
/// First key of the two-key advisory lock space for plans: "rmpl" in ASCII.
const PLAN_CLASS: i32 = 0x726d_706c;

/// What a lock guards.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum LockKey {
    Device(DeviceId),
    Plan(String),
}

impl LockKey {
    fn class(&self) -> i32 {
        match self {
            LockKey::Device(_) => DEVICE_CLASS,
            LockKey::Plan(_) => PLAN_CLASS,
        }
    }

    fn text(&self) -> String {
        match self {
            LockKey::Device(d) => format!("device-{d}"),
            LockKey::Plan(p) => format!("plan-{p}"),
        }
    }

    /// Second key of the advisory lock.
    fn pg_key(&self) -> i32 {
        let digest = Sha256::digest(self.text().as_bytes());
        i32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
    }

    /// The lock file's name: a digest, so no caller-supplied text becomes a path.
    fn file_name(&self) -> String {
        let digest = Sha256::digest(self.text().as_bytes());
        format!("{}.lock", hex::encode(&digest[..16]))
    }
}

#[derive(Debug, Default)]
pub(crate) struct Locks {
    local: Mutex<HashMap<LockKey, Arc<tokio::sync::Mutex<()>>>>,
}

/// How a held lock is shared with other processes.
#[derive(Debug)]
enum Shared {
    /// A connection taken out of the pool for as long as the lock is held, so held locks never
    /// starve the pool that the work under them needs.
    Postgres {
        conn: AnyConnection,
        key: i32,
        class: i32,
    },
    File(File),
    /// SQLite without a file path (never in production): the process-local mutex is all there is.
    None,
}

/// A held lock; released when dropped (the PostgreSQL lock explicitly, see `release`).
#[derive(Debug)]
pub(crate) struct Held {
    _local: OwnedMutexGuard<()>,
    shared: Shared,
}

/// Why a lock could not be had right now.
enum Busy {
    /// Another process holds it (its description, when known).
    Elsewhere(Option<String>),
}

/// The directory of SQLite lock files for a database file.
fn lock_dir(db: &Path) -> PathBuf {
    let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".locks");
    db.with_file_name(name)
}

fn io_error(what: &str, path: &Path, e: &std::io::Error) -> WorkflowError {
    WorkflowError::Refused(format!(
        "cannot use the lock file {} ({what}): {e}; the data directory must be writable by the server",
        path.display()
    ))
}

/// Tries to take the file lock for `key`; on success the file names this process.
fn try_file_lock(
    db: &Path,
    key: &LockKey,
    holder: &str,
) -> Result<Result<File, Busy>, WorkflowError> {
    let dir = lock_dir(db);
    std::fs::create_dir_all(&dir).map_err(|e| io_error("create", &dir, &e))?;
    let path = dir.join(key.file_name());
    let mut options = OpenOptions::new();
    options.read(true).write(true).create(true).truncate(false);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options
        .open(&path)
        .map_err(|e| io_error("open", &path, &e))?;
    match file.try_lock() {
        Ok(()) => {
            // Best effort: the note only serves messages.
            let _ = file.set_len(0);
            let _ = file.rewind();
            let _ = write!(file, "{holder}");
            Ok(Ok(file))
        }
        Err(TryLockError::WouldBlock) => {
            let mut text = String::new();
            let _ = file.read_to_string(&mut text);
            let text: String = domain::text::escape(text.trim())
                .chars()
                .take(120)
                .collect();
            Ok(Err(Busy::Elsewhere((!text.is_empty()).then_some(text))))
        }
        Err(TryLockError::Error(e)) => Err(io_error("lock", &path, &e)),
    }
}

impl Locks {
    fn local(&self, key: &LockKey) -> Arc<tokio::sync::Mutex<()>> {
        let mut map = self
            .local
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        Arc::clone(map.entry(key.clone()).or_default())
    }

    /// One attempt at the cross-process half of `key`'s lock.
    async fn try_shared(
        store: &Store,
        key: &LockKey,
        holder: &str,
        conn: &mut Option<AnyConnection>,
    ) -> Result<Result<Shared, Busy>, WorkflowError> {
        match store.backend() {
            Backend::Postgres => {
                let c = match conn {
                    Some(c) => c,
                    None => conn.insert(store.pool().acquire().await?.detach()),
                };
                let got: bool = sqlx::query_scalar("SELECT pg_try_advisory_lock($1, $2)")
                    .bind(key.class())
                    .bind(key.pg_key())
                    .fetch_one(&mut *c)
                    .await?;
                if !got {
                    return Ok(Err(Busy::Elsewhere(None)));
                }
                match conn.take() {
                    Some(conn) => Ok(Ok(Shared::Postgres {
                        conn,
                        key: key.pg_key(),
                        class: key.class(),
                    })),
                    None => Ok(Err(Busy::Elsewhere(None))),
                }
            }
            Backend::Sqlite => match store.sqlite_path() {
                Some(db) => Ok(try_file_lock(db, key, holder)?.map(Shared::File)),
                None => Ok(Ok(Shared::None)),
            },
        }
    }

    /// Waits up to `timeout` for `key`'s lock; `busy` words the refusal (given who holds it, when
    /// known).
    pub(crate) async fn acquire(
        &self,
        store: &Store,
        key: &LockKey,
        holder: &str,
        timeout: Duration,
        busy: impl Fn(Option<&str>) -> String,
    ) -> Result<Held, WorkflowError> {
        let started = tokio::time::Instant::now();
        let local = tokio::time::timeout(timeout, self.local(key).lock_owned())
            .await
            .map_err(|_| WorkflowError::Refused(busy(None)))?;
        let mut conn = None;
        loop {
            match Self::try_shared(store, key, holder, &mut conn).await? {
                Ok(shared) => {
                    return Ok(Held {
                        _local: local,
                        shared,
                    });
                }
                Err(Busy::Elsewhere(who)) => {
                    if started.elapsed() >= timeout {
                        return Err(WorkflowError::Refused(busy(who.as_deref())));
                    }
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Takes `key`'s lock only if nobody holds it now: `Ok(None)` when another task or process
    /// does (with its description, when known).
    pub(crate) async fn try_acquire(
        &self,
        store: &Store,
        key: &LockKey,
        holder: &str,
    ) -> Result<Result<Held, Option<String>>, WorkflowError> {
        let Ok(local) = self.local(key).try_lock_owned() else {
            return Ok(Err(Some("this process".into())));
        };
        let mut conn = None;
        Ok(
            match Self::try_shared(store, key, holder, &mut conn).await? {
                Ok(shared) => Ok(Held {
                    _local: local,
                    shared,
                }),
                Err(Busy::Elsewhere(who)) => Err(who),
            },
        )
    }

    /// A device's lock, waiting up to `timeout`.
    pub(crate) async fn device(
        &self,
        store: &Store,
        device: &DeviceId,
        name: &str,
        holder: &str,
        timeout: Duration,
    ) -> Result<Held, WorkflowError> {
        self.acquire(store, &LockKey::Device(*device), holder, timeout, |who| {
            format!(
                "device {name} is being changed by another apply{}; waited {} s for it to finish",
                who.map(|w| format!(" ({w})")).unwrap_or_default(),
                timeout.as_secs()
            )
        })
        .await
    }
}

impl Locks {
    /// Removes a plan's lock file once the plan has ended: no process locks an ended plan again
    /// (apply needs an approved plan, recovery an applying one), so the file can go without a
    /// race, and the lock directory holds one file per router rather than one per plan ever
    /// applied.
    pub(crate) fn discard_plan(store: &Store, plan_id: &str) {
        if let Some(db) = store.sqlite_path() {
            let path = lock_dir(db).join(LockKey::Plan(plan_id.to_owned()).file_name());
            let _ = std::fs::remove_file(path);
        }
    }
}

impl Held {
    /// Releases the lock. On PostgreSQL the lock's own connection is unlocked and closed.
    pub(crate) async fn release(mut self) {
        if let Shared::Postgres {
            mut conn,
            key,
            class,
        } = std::mem::replace(&mut self.shared, Shared::None)
        {
            // Closing the session releases the lock too; unlocking first says so explicitly.
            let _ = sqlx::query("SELECT pg_advisory_unlock($1, $2)")
                .bind(class)
                .bind(key)
                .execute(&mut conn)
                .await;
            let _ = conn.close().await;
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        // Dropped without `release` (a panic, a cancelled future): the lock's own connection is
        // dropped, which ends its session and the lock. A lock file is unlocked when closed.
        match std::mem::replace(&mut self.shared, Shared::None) {
            Shared::Postgres { conn, .. } => drop(conn),
            Shared::File(file) => drop(file),
            Shared::None => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lock_files_live_beside_the_database_and_are_named_by_digest() {
        let dir = lock_dir(Path::new("/var/lib/routeros-mcp/registry.sqlite"));
        assert_eq!(
            dir,
            PathBuf::from("/var/lib/routeros-mcp/registry.sqlite.locks")
        );
        let name = LockKey::Plan("../../etc/passwd".into()).file_name();
        assert!(!name.contains('/') && name.ends_with(".lock"), "{name}");
        assert_ne!(
            LockKey::Plan("a".into()).file_name(),
            LockKey::Device(DeviceId::new()).file_name()
        );
    }

    #[test]
    fn a_file_lock_excludes_a_second_holder_until_released() {
        let tmp = tempfile::tempdir().unwrap_or_else(|e| unreachable!("{e}"));
        let db = tmp.path().join("registry.sqlite");
        let key = LockKey::Plan("p1".into());
        let first = try_file_lock(&db, &key, "process 1")
            .unwrap_or_else(|e| unreachable!("{e}"))
            .unwrap_or_else(|_| unreachable!("free"));
        match try_file_lock(&db, &key, "process 2").unwrap_or_else(|e| unreachable!("{e}")) {
            Ok(_) => unreachable!("a held lock was taken twice"),
            Err(Busy::Elsewhere(who)) => assert_eq!(who.as_deref(), Some("process 1")),
        }
        drop(first);
        assert!(
            try_file_lock(&db, &key, "process 2")
                .unwrap_or_else(|e| unreachable!("{e}"))
                .is_ok()
        );
    }
}
