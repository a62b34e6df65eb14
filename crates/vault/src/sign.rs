//! Signing keys derived from the master key, for values the server issues and must later
//! recognise as its own (plan approval tokens, the state of an MCP request that waits for the
//! client's input). A [`SigningKey`] never leaves this crate; callers sign and verify through it.
//! Where a sealing library needs the key itself ([`MasterKey::derived_key`]), it gets derived
//! material for one purpose, zeroed when dropped — never the master key.

use hmac::{KeyInit, Mac};
use secrecy::{ExposeSecret, SecretBox};

use crate::MasterKey;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// An HMAC-SHA-256 key for one purpose, derived from the master key. `Debug` shows the purpose
/// only.
pub struct SigningKey {
    key: SecretBox<[u8; 32]>,
    purpose: &'static str,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("purpose", &self.purpose)
            .finish_non_exhaustive()
    }
}

#[allow(
    clippy::expect_used,
    reason = "HMAC accepts keys of any length, so construction cannot fail"
)]
fn mac(key: &[u8]) -> HmacSha256 {
    <HmacSha256 as KeyInit>::new_from_slice(key).expect("HMAC-SHA-256 accepts keys of any length")
}

impl MasterKey {
    /// The signing key for `purpose` (a fixed label such as `"plan approval v1"`): the same
    /// master key always gives the same signing key, and different purposes unrelated keys.
    pub fn signing_key(&self, purpose: &'static str) -> SigningKey {
        let mut m = mac(self.expose());
        m.update(b"routeros-mcp signing key: ");
        m.update(purpose.as_bytes());
        let derived: [u8; 32] = m.finalize().into_bytes().into();
        SigningKey {
            key: SecretBox::new(Box::new(derived)),
            purpose,
        }
    }

    /// The 32 bytes of the signing key for `purpose`, for a library that seals values with its
    /// own MAC (the MCP request-state codec). Every server holding this master key derives the
    /// same bytes, so a value sealed by one instance opens on another.
    pub fn derived_key(&self, purpose: &'static str) -> zeroize::Zeroizing<Vec<u8>> {
        zeroize::Zeroizing::new(self.signing_key(purpose).key.expose_secret().to_vec())
    }
}

impl SigningKey {
    /// The 32-byte tag of `message`.
    pub fn sign(&self, message: &[u8]) -> [u8; 32] {
        let mut m = mac(self.key.expose_secret());
        m.update(message);
        m.finalize().into_bytes().into()
    }

    /// Whether `tag` is `message`'s tag (compared in constant time).
    pub fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        let mut m = mac(self.key.expose_secret());
        m.update(message);
        m.verify_slice(tag).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_verify_under_the_same_key_and_purpose_only() {
        let key = MasterKey::generate().unwrap();
        let a = key.signing_key("plan approval v1");
        let tag = a.sign(b"plan 1");
        assert!(a.verify(b"plan 1", &tag));
        assert!(!a.verify(b"plan 2", &tag));
        assert!(!a.verify(b"plan 1", &tag[..31]));
        assert!(!key.signing_key("other").verify(b"plan 1", &tag));
        assert!(
            !MasterKey::generate()
                .unwrap()
                .signing_key("plan approval v1")
                .verify(b"plan 1", &tag)
        );
        assert!(key.signing_key("plan approval v1").verify(b"plan 1", &tag));
        assert_eq!(key.derived_key("plan approval v1").len(), 32);
        assert_eq!(
            *key.derived_key("request state v1"),
            *key.derived_key("request state v1")
        );
        assert_ne!(
            *key.derived_key("request state v1"),
            *key.derived_key("plan approval v1")
        );
        assert_eq!(
            format!("{a:?}"),
            "SigningKey { purpose: \"plan approval v1\", .. }"
        );
    }
}
