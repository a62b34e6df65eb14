//! Credential encryption at rest.
//!
//! Device passwords are sealed with XChaCha20-Poly1305 under a 256-bit master key. Every sealed
//! value records the id of the key that sealed it and its own random 192-bit nonce, and is bound
//! (as associated data) to the record it belongs to, so a ciphertext copied onto another device's
//! row, truncated, or edited fails authentication instead of decrypting to garbage.
//!
//! Plaintext exists only inside [`SecretString`] (zeroized on drop, redacted in `Debug`), and no
//! error of this crate ever carries key material or plaintext.

mod key;
mod seal;
mod sign;

pub use key::{
    GENERATED_KEY_FILE, KeyFileStatus, KeyId, KeyOrigin, KeyRequest, LoadedKey, MasterKey,
};
pub use seal::Sealed;
pub use secrecy::{ExposeSecret, SecretString};
pub use sign::SigningKey;

use std::path::PathBuf;

/// Everything that can go wrong with keys and sealed values.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VaultError {
    /// The value was sealed under a different key than the one configured.
    #[error(
        "master key does not match key id {recorded}: the stored credentials were encrypted under \
         key {recorded}, but the configured master key has id {configured}"
    )]
    KeyMismatch { recorded: KeyId, configured: KeyId },
    /// Authentication failed: the ciphertext, nonce or the record it is bound to was altered.
    #[error(
        "encrypted credential failed authentication: it was truncated or tampered with ({context})"
    )]
    Tampered { context: String },
    /// The supplied key text is not a valid master key.
    #[error("invalid master key from {source_name}: {reason}")]
    InvalidKey {
        source_name: String,
        reason: &'static str,
    },
    /// No key was configured and generating one is not allowed in this environment.
    #[error(
        "no master key configured: set ROUTEROS_MCP_MASTER_KEY (base64 of 32 random bytes) or \
         ROUTEROS_MCP_MASTER_KEY_FILE (a file holding it); create one with `routeros-mcp key generate`"
    )]
    Missing,
    /// Both an inline key and a key file were configured.
    #[error(
        "both ROUTEROS_MCP_MASTER_KEY and ROUTEROS_MCP_MASTER_KEY_FILE are set; configure exactly one"
    )]
    Conflicting,
    /// Reading or writing a key file failed.
    #[error("master key file {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// The operating system's random number generator failed.
    #[error("the system random number generator failed")]
    Random,
}

/// Fills `buf` from the operating system's CSPRNG.
pub fn random_bytes(buf: &mut [u8]) -> Result<(), VaultError> {
    getrandom::fill(buf).map_err(|_| VaultError::Random)
}
