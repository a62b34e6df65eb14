//! Binary backups: a device's own `/system backup save` file, on request, kept sealed.
//!
//! [`Backups::binary`] generates a random password, has the device save
//! `rmcp-<backup id>.backup` encrypted with it (`encryption=aes-sha256`, through REST or SSH as
//! the device's driver does writes), downloads the file over SFTP (pinned host key, size cap,
//! deadline), removes it from the device — also when the download failed — and stores the
//! file and the password sealed under the master key, each bound to the device and the backup
//! id, with an audit event naming who asked (never the password). Only [`Backups::binary_open`]
//! returns the file and the password, for an operator writing them to disk.

use std::time::Duration;

use base64::Engine;
use domain::ProjectRef;
use routeros::{DeviceClient, DownloadLimits, MenuPath, PrintQuery, RosId};
use serde_json::json;
use sha2::Digest;
use store::binary_backups::BinaryBackupRow;
use store::{AuditContext, Device};
use vault::SecretString;
use zeroize::Zeroizing;

use crate::{BackupError, Backups};

/// The audit action of a stored binary backup.
pub const BINARY_SAVED: &str = "backup.binary_saved";

/// How binary backups are fetched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BinaryOptions {
    /// Largest `.backup` file accepted.
    pub max_bytes: u64,
    /// Deadline of one download.
    pub timeout: Duration,
}

impl Default for BinaryOptions {
    fn default() -> Self {
        Self {
            max_bytes: routeros::MAX_FILE_BYTES,
            timeout: Duration::from_secs(120),
        }
    }
}

/// What a binary backup did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryTaken {
    pub backup_id: String,
    pub size_bytes: u64,
    pub file_sha256: String,
    /// Older binary backups removed by retention.
    pub pruned: u64,
}

/// A stored binary backup, opened: the device's `.backup` file and its password.
pub struct OpenedBackup {
    pub row: BinaryBackupRow,
    pub file: Zeroizing<Vec<u8>>,
    pub password: SecretString,
}

impl std::fmt::Debug for OpenedBackup {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedBackup")
            .field("row", &self.row)
            .field("file_len", &self.file.len())
            .finish_non_exhaustive()
    }
}

/// What a sealed file is bound to.
fn file_context(device_id: &str, backup_id: &str) -> String {
    format!("binary-backup|file|device={device_id}|backup={backup_id}")
}

/// What a sealed password is bound to.
fn password_context(device_id: &str, backup_id: &str) -> String {
    format!("binary-backup|password|device={device_id}|backup={backup_id}")
}

/// A fresh backup password: 32 random bytes as hex (plain characters any console accepts).
fn new_password() -> Result<SecretString, BackupError> {
    let mut raw = Zeroizing::new([0u8; 32]);
    vault::random_bytes(raw.as_mut())?;
    Ok(SecretString::from(hex::encode(raw.as_ref())))
}

impl Backups {
    /// Takes a binary backup of `device` for `requested_by` (see the module documentation).
    pub async fn binary(
        &self,
        device: &Device,
        requested_by: &str,
    ) -> Result<BinaryTaken, BackupError> {
        let client = self.fleet().client(device).await?;
        let device_id = device.id.to_string();
        let backup_id = domain::DeviceId::new().to_string();
        let name = format!("rmcp-{backup_id}");
        let file_name = format!("{name}.backup");
        let password = new_password()?;
        tracing::debug!(device = %device.name, file = %file_name, requested_by, "saving a binary backup");
        let saved = client.save_backup(&name, &password).await;
        let fetched = match &saved {
            Ok(()) => Some(
                client
                    .download(
                        &file_name,
                        DownloadLimits {
                            max_bytes: self.binary_options().max_bytes,
                            timeout: self.binary_options().timeout,
                        },
                    )
                    .await,
            ),
            Err(_) => None,
        };
        // Whatever happened after the save was asked for, the file must not stay on the device.
        let removed = remove_file(&client, &file_name).await;
        let bytes = match (saved, fetched) {
            (Err(e), _) => {
                return Err(with_cleanup(BackupError::Driver(e), removed, &file_name));
            }
            (Ok(()), Some(Err(e))) => {
                return Err(with_cleanup(BackupError::Transfer(e), removed, &file_name));
            }
            (Ok(()), None) => {
                return Err(BackupError::Corrupt(backup_id, "saved but not fetched"));
            }
            (Ok(()), Some(Ok(bytes))) => Zeroizing::new(bytes),
        };
        if let Err(e) = removed {
            return Err(BackupError::LeftOnDevice {
                file: file_name,
                error: e.to_string(),
            });
        }
        let key = self.fleet().master_key();
        let sealed_file = key.seal_bytes(&bytes, &file_context(&device_id, &backup_id))?;
        let sealed_pw = key.seal(&password, &password_context(&device_id, &backup_id))?;
        let b64 = base64::engine::general_purpose::STANDARD;
        let sha = hex::encode(sha2::Sha256::digest(bytes.as_slice()));
        let size = bytes.len() as u64;
        let row = BinaryBackupRow {
            id: backup_id.clone(),
            device_id: device_id.clone(),
            taken_at: store::time::now(),
            requested_by: requested_by.to_owned(),
            file_name: file_name.clone(),
            size_bytes: i64::try_from(size).unwrap_or(i64::MAX),
            file_sha256: sha.clone(),
            routeros_version: device.routeros_version.clone(),
            key_id: sealed_file.key_id.as_str().to_owned(),
            content: b64.encode(&sealed_file.ciphertext),
            content_nonce: hex::encode(&sealed_file.nonce),
            password: b64.encode(&sealed_pw.ciphertext),
            password_nonce: hex::encode(&sealed_pw.nonce),
        };
        let store = self.fleet().store();
        store
            .binary_backup_insert(
                &row,
                &AuditContext::new(requested_by),
                BINARY_SAVED,
                json!({
                    "device": device.name,
                    "backup": backup_id,
                    "size_bytes": size,
                    "file_sha256": sha,
                }),
            )
            .await?;
        tracing::info!(device = %device.name, backup = %backup_id, size, requested_by, "binary backup stored");
        let pruned = store
            .binary_backup_prune(
                &device_id,
                self.options().keep,
                self.options().max_age.map(store::time::ago).as_deref(),
            )
            .await?;
        Ok(BinaryTaken {
            backup_id,
            size_bytes: size,
            file_sha256: sha,
            pruned,
        })
    }

    /// One stored binary backup, opened. With `project`, a backup of a device in another
    /// project is answered exactly like one that does not exist.
    pub async fn binary_open(
        &self,
        id: &str,
        project: Option<&ProjectRef>,
    ) -> Result<OpenedBackup, BackupError> {
        let id = id.trim();
        let not_found = || BackupError::NotFound(id.to_owned());
        let store = self.fleet().store();
        let row = store.binary_backup_get(id).await?.ok_or_else(not_found)?;
        if let Some(p) = project {
            let device_id: domain::DeviceId = row.device_id.parse().map_err(|_| not_found())?;
            let device = store.device_by_id(&device_id).await?;
            if &device.project != p {
                return Err(not_found());
            }
        }
        let corrupt = |what| BackupError::Corrupt(row.id.clone(), what);
        let b64 = base64::engine::general_purpose::STANDARD;
        let sealed = |ct: &str, nonce: &str| -> Result<vault::Sealed, BackupError> {
            Ok(vault::Sealed {
                key_id: vault::KeyId::from_stored(row.key_id.clone()),
                nonce: hex::decode(nonce).map_err(|_| corrupt("nonce is not hex"))?,
                ciphertext: b64
                    .decode(ct)
                    .map_err(|_| corrupt("ciphertext is not base64"))?,
            })
        };
        let key = self.fleet().master_key();
        let file = key.open_bytes(
            &sealed(&row.content, &row.content_nonce)?,
            &file_context(&row.device_id, &row.id),
        )?;
        let password = key.open(
            &sealed(&row.password, &row.password_nonce)?,
            &password_context(&row.device_id, &row.id),
        )?;
        Ok(OpenedBackup {
            row,
            file,
            password,
        })
    }
}

/// Removes `file_name` from the device's files if it is there.
async fn remove_file(client: &DeviceClient, file_name: &str) -> Result<(), routeros::DriverError> {
    let menu = MenuPath::parse("file").map_err(|e| routeros::DriverError {
        device: client.target().name.clone(),
        kind: routeros::ErrorKind::InvalidRequest(e.to_string()),
    })?;
    client.invalidate_cache();
    let found = client
        .print(&menu, &PrintQuery::all().filter("name", file_name))
        .await?;
    for record in found {
        if let Some(id) = record.get(".id").and_then(|i| RosId::parse(i).ok()) {
            client.remove(&menu, &id).await?;
        }
    }
    Ok(())
}

fn with_cleanup(
    error: BackupError,
    removed: Result<(), routeros::DriverError>,
    file_name: &str,
) -> BackupError {
    match removed {
        Ok(()) => error,
        Err(e) => BackupError::FailedAndLeft {
            error: Box::new(error),
            file: file_name.to_owned(),
            cleanup: e.to_string(),
        },
    }
}
