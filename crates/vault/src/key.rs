//! Master keys: generation, their ids, and where they come from.
//!
//! A key's id is derived from the key itself (HMAC-SHA-256 of a fixed label), so a wrong key is
//! recognised before any decryption is attempted and the error can name both ids. The id reveals
//! nothing useful about the key.
//!
//! Key sources, in the order they are consulted: an inline key (`ROUTEROS_MCP_MASTER_KEY`), a key
//! file (`ROUTEROS_MCP_MASTER_KEY_FILE`), and — only where the environment allows it (lab) — a
//! key file the server generated in its data directory on first run.

use std::fmt;
use std::fs;
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{KeyInit, Mac};
use secrecy::{ExposeSecret, SecretBox, SecretString};
use zeroize::Zeroizing;

use crate::{VaultError, random_bytes};

/// File name of the key generated into the data directory in lab.
pub const GENERATED_KEY_FILE: &str = "master.key";

/// Identifies a master key without revealing it: `mk-` and 16 hex digits.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct KeyId(String);

impl KeyId {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Accepts a key id read back from storage. Ids are not secret; any text is kept as is
    /// so that a corrupted id still shows up verbatim in the mismatch error.
    pub fn from_stored(text: impl Into<String>) -> Self {
        Self(text.into())
    }
}

impl fmt::Display for KeyId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A 256-bit master key. `Debug` shows only its id.
pub struct MasterKey {
    bytes: SecretBox<[u8; 32]>,
    id: KeyId,
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id)
            .finish_non_exhaustive()
    }
}

impl MasterKey {
    fn from_bytes(bytes: [u8; 32]) -> Self {
        let bytes = SecretBox::new(Box::new(bytes));
        let id = derive_id(bytes.expose_secret());
        Self { bytes, id }
    }

    /// A fresh random key.
    pub fn generate() -> Result<Self, VaultError> {
        let mut bytes = Zeroizing::new([0u8; 32]);
        random_bytes(bytes.as_mut())?;
        Ok(Self::from_bytes(*bytes))
    }

    /// Parses the base64 text form (surrounding whitespace ignored). `source_name` says where
    /// the text came from, for the error message only.
    pub fn from_base64(text: &SecretString, source_name: &str) -> Result<Self, VaultError> {
        let invalid = |reason| VaultError::InvalidKey {
            source_name: source_name.to_owned(),
            reason,
        };
        let decoded = Zeroizing::new(
            STANDARD
                .decode(text.expose_secret().trim())
                .map_err(|_| invalid("expected base64 text"))?,
        );
        let bytes: [u8; 32] = decoded
            .as_slice()
            .try_into()
            .map_err(|_| invalid("expected exactly 32 bytes once base64-decoded"))?;
        Ok(Self::from_bytes(bytes))
    }

    /// The base64 text form, for `routeros-mcp key generate` and key files.
    pub fn to_base64(&self) -> SecretString {
        SecretString::from(STANDARD.encode(self.bytes.expose_secret()))
    }

    pub fn id(&self) -> &KeyId {
        &self.id
    }

    pub(crate) fn expose(&self) -> &[u8; 32] {
        self.bytes.expose_secret()
    }

    /// Writes this key to `path` as base64 with mode 0600. Refuses to overwrite an existing file.
    pub fn write_new_file(&self, path: &Path) -> Result<(), VaultError> {
        let io = |source| VaultError::Io {
            path: path.to_owned(),
            source,
        };
        let mut file = fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(path)
            .map_err(io)?;
        let text = self.to_base64();
        file.write_all(text.expose_secret().as_bytes())
            .and_then(|()| file.write_all(b"\n"))
            .and_then(|()| file.sync_all())
            .map_err(io)
    }

    /// Reads a key file written by [`MasterKey::write_new_file`] or by an operator.
    pub fn read_file(path: &Path) -> Result<(Self, KeyFileStatus), VaultError> {
        let io = |source| VaultError::Io {
            path: path.to_owned(),
            source,
        };
        let meta = fs::metadata(path).map_err(io)?;
        let text = SecretString::from(fs::read_to_string(path).map_err(io)?);
        let key = Self::from_base64(&text, &path.display().to_string())?;
        let mode = meta.permissions().mode();
        let status = if mode & 0o077 != 0 {
            KeyFileStatus::ReadableByOthers {
                mode: mode & 0o7777,
            }
        } else {
            KeyFileStatus::Private
        };
        Ok((key, status))
    }
}

#[allow(
    clippy::expect_used,
    reason = "HMAC accepts keys of any length, so construction cannot fail"
)]
fn derive_id(key: &[u8; 32]) -> KeyId {
    // Fixed label: the id must be stable across releases.
    let mut mac = <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(key)
        .expect("HMAC-SHA-256 accepts keys of any length");
    mac.update(b"routeros-mcp master key id v1");
    let digest = mac.finalize().into_bytes();
    KeyId(format!("mk-{}", hex::encode(&digest[..8])))
}

/// Whether a key file is open to other users (it should not be).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyFileStatus {
    Private,
    /// Group or others have some permission on the file; `mode` is its permission bits.
    ReadableByOthers {
        mode: u32,
    },
}

/// Where the master key in use came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyOrigin {
    /// `ROUTEROS_MCP_MASTER_KEY`.
    Inline,
    /// `ROUTEROS_MCP_MASTER_KEY_FILE`.
    File(PathBuf),
    /// The key the server generated in its data directory on an earlier lab run.
    DataDir(PathBuf),
    /// Generated into the data directory just now.
    Generated(PathBuf),
}

impl KeyOrigin {
    /// The file holding the key, when the server manages one.
    pub fn path(&self) -> Option<&Path> {
        match self {
            KeyOrigin::Inline => None,
            KeyOrigin::File(p) | KeyOrigin::DataDir(p) | KeyOrigin::Generated(p) => Some(p),
        }
    }
}

impl fmt::Display for KeyOrigin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyOrigin::Inline => f.write_str("ROUTEROS_MCP_MASTER_KEY"),
            KeyOrigin::File(p) => write!(f, "key file {}", p.display()),
            KeyOrigin::DataDir(p) => write!(f, "generated key file {}", p.display()),
            KeyOrigin::Generated(p) => write!(f, "newly generated key file {}", p.display()),
        }
    }
}

/// What the configuration says about the master key.
#[derive(Debug)]
pub struct KeyRequest<'a> {
    pub inline: Option<&'a SecretString>,
    pub file: Option<&'a Path>,
    pub data_dir: &'a Path,
    /// Lab only: use or create `<data_dir>/master.key` when nothing is configured.
    pub generate_if_missing: bool,
}

/// A loaded key, where it came from, and whether its file is too widely readable.
#[derive(Debug)]
pub struct LoadedKey {
    pub key: MasterKey,
    pub origin: KeyOrigin,
    pub file_status: KeyFileStatus,
}

impl LoadedKey {
    /// When the key's file is open to group or others: what is wrong, naming the file and its
    /// mode, and the fix. Staging and prod refuse such a key; lab only warns.
    pub fn exposure(&self) -> Option<String> {
        match (self.file_status, self.origin.path()) {
            (KeyFileStatus::ReadableByOthers { mode }, Some(path)) => Some(format!(
                "the master key file {} has mode {mode:04o}, so other users can read it; run \
                 chmod 600 {}",
                path.display(),
                path.display()
            )),
            (KeyFileStatus::ReadableByOthers { .. }, None) | (KeyFileStatus::Private, _) => None,
        }
    }
}

impl KeyRequest<'_> {
    /// Resolves the configured key, generating one only when allowed.
    pub fn load(&self) -> Result<LoadedKey, VaultError> {
        match (self.inline, self.file) {
            (Some(_), Some(_)) => Err(VaultError::Conflicting),
            (Some(text), None) => Ok(LoadedKey {
                key: MasterKey::from_base64(text, "ROUTEROS_MCP_MASTER_KEY")?,
                origin: KeyOrigin::Inline,
                file_status: KeyFileStatus::Private,
            }),
            (None, Some(path)) => {
                let (key, file_status) = MasterKey::read_file(path)?;
                Ok(LoadedKey {
                    key,
                    origin: KeyOrigin::File(path.to_owned()),
                    file_status,
                })
            }
            (None, None) if self.generate_if_missing => {
                let path = self.data_dir.join(GENERATED_KEY_FILE);
                if path.exists() {
                    let (key, file_status) = MasterKey::read_file(&path)?;
                    return Ok(LoadedKey {
                        key,
                        origin: KeyOrigin::DataDir(path),
                        file_status,
                    });
                }
                let key = MasterKey::generate()?;
                key.write_new_file(&path)?;
                Ok(LoadedKey {
                    key,
                    origin: KeyOrigin::Generated(path),
                    file_status: KeyFileStatus::Private,
                })
            }
            (None, None) => Err(VaultError::Missing),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_ids_are_stable_and_distinct() {
        let text = SecretString::from(STANDARD.encode([7u8; 32]));
        let a = MasterKey::from_base64(&text, "test").unwrap();
        let b = MasterKey::from_base64(&text, "test").unwrap();
        assert_eq!(a.id(), b.id());
        assert!(a.id().as_str().starts_with("mk-"));
        assert_ne!(a.id(), MasterKey::generate().unwrap().id());
    }

    #[test]
    fn debug_never_shows_key_material() {
        let key = MasterKey::generate().unwrap();
        let shown = format!("{key:?}");
        assert!(!shown.contains(key.to_base64().expose_secret()));
        assert!(shown.contains(key.id().as_str()));
    }

    #[test]
    fn invalid_key_text_is_named_without_echoing_it() {
        let short = SecretString::from(STANDARD.encode([1u8; 16]));
        let err = MasterKey::from_base64(&short, "ROUTEROS_MCP_MASTER_KEY").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid master key from ROUTEROS_MCP_MASTER_KEY: expected exactly 32 bytes once base64-decoded"
        );
        let junk = SecretString::from("not base64!!".to_owned());
        let err = MasterKey::from_base64(&junk, "x").unwrap_err();
        assert!(!err.to_string().contains("not base64!!"));
    }

    #[test]
    fn lab_generates_a_private_key_once_and_reuses_it() {
        let dir = tempfile::tempdir().unwrap();
        let req = KeyRequest {
            inline: None,
            file: None,
            data_dir: dir.path(),
            generate_if_missing: true,
        };
        let first = req.load().unwrap();
        assert!(matches!(first.origin, KeyOrigin::Generated(_)));
        let path = dir.path().join(GENERATED_KEY_FILE);
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        let second = req.load().unwrap();
        assert!(matches!(second.origin, KeyOrigin::DataDir(_)));
        assert_eq!(first.key.id(), second.key.id());
    }

    #[test]
    fn without_permission_to_generate_a_missing_key_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let req = KeyRequest {
            inline: None,
            file: None,
            data_dir: dir.path(),
            generate_if_missing: false,
        };
        assert!(matches!(req.load(), Err(VaultError::Missing)));
        assert!(!dir.path().join(GENERATED_KEY_FILE).exists());
    }

    #[test]
    fn a_world_readable_key_file_is_reported() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k");
        MasterKey::generate()
            .unwrap()
            .write_new_file(&path)
            .unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        let (key, status) = MasterKey::read_file(&path).unwrap();
        assert_eq!(status, KeyFileStatus::ReadableByOthers { mode: 0o644 });
        let loaded = LoadedKey {
            key,
            origin: KeyOrigin::File(path.clone()),
            file_status: status,
        };
        let text = loaded.exposure().unwrap();
        assert!(
            text.contains("has mode 0644") && text.contains("chmod 600"),
            "{text}"
        );
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        let (_, status) = MasterKey::read_file(&path).unwrap();
        assert_eq!(status, KeyFileStatus::ReadableByOthers { mode: 0o640 });
        fs::set_permissions(&path, fs::Permissions::from_mode(0o600)).unwrap();
        let (_, status) = MasterKey::read_file(&path).unwrap();
        assert_eq!(status, KeyFileStatus::Private);
    }
}
