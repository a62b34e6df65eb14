//! Files from the device over SFTP, on the SSH driver's pinned host key and credentials.
//!
//! RouterOS serves its files (`/file`) over SFTP to users with the `ftp` policy; backup tools
//! fetch `*.backup` files this way. A download opens an SSH connection of its own (the driver's
//! command connection stays free), checks the host key against the pin exactly as commands do,
//! asks the file's size first and refuses a file over the cap before reading a byte, and stops
//! reading at the cap should the file grow meanwhile. Every step runs under one deadline.

use std::time::Duration;

use tokio::io::AsyncReadExt;

use super::SshDriver;
use crate::error::{DriverError, ErrorKind};

/// The default cap on one downloaded file.
pub const MAX_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// How a download is bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DownloadLimits {
    /// Largest file accepted, in bytes.
    pub max_bytes: u64,
    /// Deadline of the whole download (connect, log in, read).
    pub timeout: Duration,
}

impl Default for DownloadLimits {
    fn default() -> Self {
        Self {
            max_bytes: MAX_FILE_BYTES,
            timeout: Duration::from_secs(120),
        }
    }
}

/// Why a file could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransferError {
    /// The device has no such file.
    #[error("device {device}: no file \"{path}\" on the device")]
    Missing { device: String, path: String },
    /// The file is bigger than the cap; nothing (more) was read.
    #[error(
        "device {device}: file \"{path}\" is larger than the {limit}-byte limit (size {size}); nothing was kept"
    )]
    TooLarge {
        device: String,
        path: String,
        size: u64,
        limit: u64,
    },
    /// The device refused SFTP (the user's group lacks the `ftp` policy, or the SSH service
    /// offers no SFTP) or an SFTP request.
    #[error(
        "device {device}: SFTP refused: {detail}; the device user's group needs the ftp policy"
    )]
    Refused { device: String, detail: String },
    /// The download did not finish in time.
    #[error("device {device}: the download of \"{path}\" did not finish within {secs} s")]
    Timeout {
        device: String,
        path: String,
        secs: u64,
    },
    /// Connecting or logging in failed: unreachable, authentication, host key mismatch.
    #[error(transparent)]
    Driver(#[from] DriverError),
}

impl TransferError {
    /// The driver's taxonomy code of this failure (for metrics and tool output).
    pub fn code(&self) -> &'static str {
        match self {
            TransferError::Missing { .. } => "not_found",
            TransferError::TooLarge { .. } | TransferError::Refused { .. } => "device_error",
            TransferError::Timeout { .. } => "timeout",
            TransferError::Driver(e) => e.kind.code(),
        }
    }
}

/// Whether `name` is a plain file name the product may ask a device for: 1–128 letters, digits,
/// `.`, `_` and `-`, not starting with a dot.
pub fn check_file_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 128
        && !name.starts_with('.')
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "invalid file name {name:?}: use 1-128 letters, digits, '.', '_' or '-', not starting with '.'"
        ))
    }
}

impl SshDriver {
    /// Downloads the device file `path` (a name from `/file`) over SFTP.
    pub async fn download(
        &self,
        path: &str,
        limits: DownloadLimits,
    ) -> Result<Vec<u8>, TransferError> {
        check_file_name(path).map_err(|e| self.err(ErrorKind::InvalidRequest(e)))?;
        match tokio::time::timeout(limits.timeout, self.download_inner(path, limits.max_bytes))
            .await
        {
            Ok(result) => result,
            Err(_) => Err(TransferError::Timeout {
                device: self.name.clone(),
                path: path.to_owned(),
                secs: limits.timeout.as_secs().max(1),
            }),
        }
    }

    async fn download_inner(&self, path: &str, max_bytes: u64) -> Result<Vec<u8>, TransferError> {
        let refused = |detail: String| TransferError::Refused {
            device: self.name.clone(),
            detail,
        };
        let handle = self.connect().await?;
        let channel = handle
            .channel_open_session()
            .await
            .map_err(|e| self.err(ErrorKind::Unreachable(format!("SSH channel: {e}"))))?;
        channel
            .request_subsystem(true, "sftp")
            .await
            .map_err(|e| refused(format!("subsystem request failed ({e})")))?;
        let sftp = russh_sftp::client::SftpSession::new(channel.into_stream())
            .await
            .map_err(|e| refused(format!("no SFTP session ({e})")))?;
        let status = |e: russh_sftp::client::error::Error| match &e {
            russh_sftp::client::error::Error::Status(s)
                if s.status_code == russh_sftp::protocol::StatusCode::NoSuchFile =>
            {
                TransferError::Missing {
                    device: self.name.clone(),
                    path: path.to_owned(),
                }
            }
            _ => refused(e.to_string()),
        };
        let size = sftp.metadata(path).await.map_err(status)?.len();
        let too_large = |size: u64| TransferError::TooLarge {
            device: self.name.clone(),
            path: path.to_owned(),
            size,
            limit: max_bytes,
        };
        if size > max_bytes {
            return Err(too_large(size));
        }
        let file = sftp.open(path).await.map_err(status)?;
        let mut out = Vec::with_capacity(usize::try_from(size).unwrap_or(0));
        // One byte over the cap is enough to know the file grew past it.
        let mut bounded = file.take(max_bytes.saturating_add(1));
        bounded
            .read_to_end(&mut out)
            .await
            .map_err(|e| refused(format!("read failed ({e})")))?;
        if out.len() as u64 > max_bytes {
            return Err(too_large(out.len() as u64));
        }
        let _ = sftp.close().await;
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_plain_names() {
        for good in ["a.backup", "rmcp-0193c1f2-aa.backup", "X_1-2.rsc"] {
            assert!(check_file_name(good).is_ok(), "{good}");
        }
        for bad in [
            "",
            ".hidden",
            "../etc/passwd",
            "/abs",
            "a/b",
            "sp ace",
            "q\"",
            "semi;colon",
            &"n".repeat(129),
        ] {
            let err = check_file_name(bad).unwrap_err();
            assert!(err.contains("letters, digits"), "{bad}: {err}");
        }
    }
}
