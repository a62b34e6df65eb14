//! Sealing and opening secrets with XChaCha20-Poly1305.
//!
//! The 192-bit nonce is random per seal (safe to draw at random at this size), and the
//! associated data is `routeros-mcp/v1|<key id>|<context>`: the caller's context names the record
//! a ciphertext belongs to (for a credential: device id and version), so moving a ciphertext to
//! another record is detected exactly like editing it.

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

use crate::{KeyId, MasterKey, VaultError, random_bytes};

/// Nonce length of XChaCha20-Poly1305.
pub const NONCE_LEN: usize = 24;

/// A sealed secret as stored: which key sealed it, the nonce, and ciphertext with its tag.
#[derive(Clone, PartialEq, Eq)]
pub struct Sealed {
    pub key_id: KeyId,
    pub nonce: Vec<u8>,
    pub ciphertext: Vec<u8>,
}

impl std::fmt::Debug for Sealed {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sealed")
            .field("key_id", &self.key_id)
            .field("ciphertext_len", &self.ciphertext.len())
            .finish_non_exhaustive()
    }
}

fn aad(key_id: &KeyId, context: &str) -> Vec<u8> {
    format!("routeros-mcp/v1|{key_id}|{context}").into_bytes()
}

fn cipher(key: &MasterKey) -> XChaCha20Poly1305 {
    XChaCha20Poly1305::new(key.expose().into())
}

impl MasterKey {
    /// Seals `secret`, binding it to `context` (e.g. `credential|device=<id>|version=3`).
    pub fn seal(&self, secret: &SecretString, context: &str) -> Result<Sealed, VaultError> {
        self.seal_bytes(secret.expose_secret().as_bytes(), context)
    }

    /// Seals arbitrary bytes (a device's binary backup file), binding them to `context`.
    pub fn seal_bytes(&self, secret: &[u8], context: &str) -> Result<Sealed, VaultError> {
        let mut nonce = [0u8; NONCE_LEN];
        random_bytes(&mut nonce)?;
        let ciphertext = cipher(self)
            .encrypt(
                &XNonce::from(nonce),
                Payload {
                    msg: secret,
                    aad: &aad(self.id(), context),
                },
            )
            // Encryption fails only for messages beyond 256 GiB.
            .map_err(|_| VaultError::Tampered {
                context: context.to_owned(),
            })?;
        Ok(Sealed {
            key_id: self.id().clone(),
            nonce: nonce.to_vec(),
            ciphertext,
        })
    }

    /// Opens a sealed secret. A value sealed under another key is a [`VaultError::KeyMismatch`];
    /// any alteration (ciphertext, nonce, key id, or the record it is bound to) is
    /// [`VaultError::Tampered`].
    pub fn open(&self, sealed: &Sealed, context: &str) -> Result<SecretString, VaultError> {
        let plain = self.open_bytes(sealed, context)?;
        let text = std::str::from_utf8(&plain).map_err(|_| VaultError::Tampered {
            context: context.to_owned(),
        })?;
        Ok(SecretString::from(text.to_owned()))
    }

    /// Opens bytes sealed with [`MasterKey::seal_bytes`] (same errors as [`MasterKey::open`]).
    pub fn open_bytes(
        &self,
        sealed: &Sealed,
        context: &str,
    ) -> Result<Zeroizing<Vec<u8>>, VaultError> {
        if &sealed.key_id != self.id() {
            return Err(VaultError::KeyMismatch {
                recorded: sealed.key_id.clone(),
                configured: self.id().clone(),
            });
        }
        let tampered = || VaultError::Tampered {
            context: context.to_owned(),
        };
        let nonce: [u8; NONCE_LEN] = sealed.nonce.as_slice().try_into().map_err(|_| tampered())?;
        let plain = Zeroizing::new(
            cipher(self)
                .decrypt(
                    &XNonce::from(nonce),
                    Payload {
                        msg: &sealed.ciphertext,
                        aad: &aad(&sealed.key_id, context),
                    },
                )
                .map_err(|_| tampered())?,
        );
        Ok(plain)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.to_owned())
    }

    #[test]
    fn bytes_round_trip_and_are_bound_to_their_context() {
        let key = MasterKey::generate().unwrap();
        let bytes: Vec<u8> = (0..=255u8).cycle().take(4000).collect();
        let sealed = key.seal_bytes(&bytes, "backup|a").unwrap();
        assert!(!sealed.ciphertext.windows(64).any(|w| w == &bytes[..64]));
        assert_eq!(*key.open_bytes(&sealed, "backup|a").unwrap(), bytes);
        assert!(matches!(
            key.open_bytes(&sealed, "backup|b"),
            Err(VaultError::Tampered { .. })
        ));
    }

    #[test]
    fn round_trip_and_fresh_nonce_each_time() {
        let key = MasterKey::generate().unwrap();
        let a = key.seal(&secret("hunter2"), "ctx").unwrap();
        let b = key.seal(&secret("hunter2"), "ctx").unwrap();
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
        assert_eq!(key.open(&a, "ctx").unwrap().expose_secret(), "hunter2");
        assert!(!a.ciphertext.windows(7).any(|w| w == b"hunter2"));
    }

    #[test]
    fn wrong_key_names_both_ids() {
        let k1 = MasterKey::generate().unwrap();
        let k2 = MasterKey::generate().unwrap();
        let sealed = k1.seal(&secret("pw"), "ctx").unwrap();
        let err = k2.open(&sealed, "ctx").unwrap_err();
        let msg = err.to_string();
        assert!(msg.starts_with(&format!("master key does not match key id {}", k1.id())));
        assert!(msg.contains(k2.id().as_str()));
    }

    #[test]
    fn any_alteration_is_tampering() {
        let key = MasterKey::generate().unwrap();
        let sealed = key.seal(&secret("password"), "device=1").unwrap();

        let mut flipped = sealed.clone();
        flipped.ciphertext[0] ^= 1;
        let mut truncated = sealed.clone();
        truncated.ciphertext.truncate(5);
        let mut empty = sealed.clone();
        empty.ciphertext.clear();
        let mut bad_nonce = sealed.clone();
        bad_nonce.nonce.pop();
        let mut other_nonce = sealed.clone();
        other_nonce.nonce[3] ^= 0x80;

        for (what, s, ctx) in [
            ("flipped", &flipped, "device=1"),
            ("truncated", &truncated, "device=1"),
            ("empty", &empty, "device=1"),
            ("short nonce", &bad_nonce, "device=1"),
            ("other nonce", &other_nonce, "device=1"),
            ("moved to another record", &sealed, "device=2"),
        ] {
            let err = key.open(s, ctx).unwrap_err();
            assert!(matches!(err, VaultError::Tampered { .. }), "{what}: {err}");
            assert!(err.to_string().contains("truncated or tampered"));
        }
    }

    #[test]
    fn a_forged_key_id_is_not_accepted() {
        let key = MasterKey::generate().unwrap();
        let mut sealed = key.seal(&secret("pw"), "ctx").unwrap();
        sealed.key_id = KeyId::from_stored("mk-0000000000000000");
        assert!(matches!(
            key.open(&sealed, "ctx"),
            Err(VaultError::KeyMismatch { .. })
        ));
    }
}
