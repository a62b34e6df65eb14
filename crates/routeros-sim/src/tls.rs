//! Device identity keys: the self-signed HTTPS certificate and the SSH host key.
//!
//! A RouterOS router serves REST over HTTPS with a self-signed certificate, and clients pin it
//! (and the SSH host key) on first use. Tests need both to be stable when they want stability —
//! `--key-seed` derives the keys deterministically, so a restarted simulator presents the same
//! fingerprints — and to change on demand ([`crate::fleet::SimDevice::regenerate_keys`]) to
//! provoke a pin mismatch.
//!
//! Both keys are Ed25519 (deterministic from a 32-byte seed, fast to generate for a thousand
//! devices). The certificate has fixed validity dates and a serial derived from the key, so the
//! same seed yields a byte-identical certificate.
//!
//! Fingerprint formats (as the manifest carries them):
//! - `tls_sha256`: lowercase hex SHA-256 of the DER certificate, no separators;
//! - `ssh_host_key_sha256`: OpenSSH form `SHA256:<unpadded base64>` of the public key blob,
//!   as `ssh-keygen -l` prints it.

use std::fmt;
use std::net::Ipv4Addr;
use std::sync::Arc;

use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use sha2::{Digest, Sha256};

/// PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410); the 32-byte seed follows.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

/// Why keys could not be made.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Certificate generation failed.
    #[error("certificate generation failed: {0}")]
    Certificate(String),
    /// The TLS configuration was refused.
    #[error("TLS configuration failed: {0}")]
    Tls(String),
}

/// The keys of one device.
#[derive(Clone)]
pub struct DeviceKeys {
    tls: Arc<rustls::ServerConfig>,
    cert_der: CertificateDer<'static>,
    tls_sha256: String,
    ssh_host_key: russh::keys::PrivateKey,
    ssh_host_key_sha256: String,
}

impl fmt::Debug for DeviceKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceKeys")
            .field("tls_sha256", &self.tls_sha256)
            .field("ssh_host_key_sha256", &self.ssh_host_key_sha256)
            .finish_non_exhaustive()
    }
}

/// Where key material comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySource {
    /// Fresh random keys.
    Random,
    /// Keys derived from a seed, a device index and a generation (bumped by regeneration).
    Seeded {
        /// The `--key-seed`.
        seed: u64,
        /// Device index in the fleet.
        index: u32,
        /// How many times keys were regenerated.
        generation: u64,
    },
}

impl KeySource {
    fn seed(&self, purpose: &str) -> [u8; 32] {
        match self {
            KeySource::Random => rand::random(),
            KeySource::Seeded {
                seed,
                index,
                generation,
            } => {
                let mut h = Sha256::new();
                h.update(b"routeros-sim key ");
                h.update(purpose.as_bytes());
                h.update(seed.to_le_bytes());
                h.update(index.to_le_bytes());
                h.update(generation.to_le_bytes());
                h.finalize().into()
            }
        }
    }
}

impl DeviceKeys {
    /// Generates the certificate (for `identity` and `address`) and the SSH host key.
    pub fn generate(
        identity: &str,
        address: Ipv4Addr,
        source: KeySource,
    ) -> Result<Self, KeyError> {
        let tls_seed = source.seed("tls");
        let mut pkcs8 = Vec::with_capacity(48);
        pkcs8.extend_from_slice(&ED25519_PKCS8_PREFIX);
        pkcs8.extend_from_slice(&tls_seed);
        let key_der = PrivatePkcs8KeyDer::from(pkcs8);
        let key_pair = rcgen::KeyPair::from_pkcs8_der_and_sign_algo(&key_der, &rcgen::PKCS_ED25519)
            .map_err(|e| KeyError::Certificate(e.to_string()))?;
        let mut params = rcgen::CertificateParams::new(vec![identity.to_string()])
            .map_err(|e| KeyError::Certificate(e.to_string()))?;
        params
            .subject_alt_names
            .push(rcgen::SanType::IpAddress(std::net::IpAddr::V4(address)));
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, identity);
        let cert = params
            .self_signed(&key_pair)
            .map_err(|e| KeyError::Certificate(e.to_string()))?;
        let cert_der = cert.der().clone();
        let tls_sha256 = hex::encode(Sha256::digest(cert_der.as_ref()));
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| KeyError::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(vec![cert_der.clone()], PrivateKeyDer::Pkcs8(key_der))
            .map_err(|e| KeyError::Tls(e.to_string()))?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];

        let ssh_seed = source.seed("ssh");
        let keypair = russh::keys::ssh_key::private::Ed25519Keypair::from_seed(&ssh_seed);
        let ssh_host_key = russh::keys::PrivateKey::from(keypair);
        let ssh_host_key_sha256 = ssh_host_key
            .public_key()
            .fingerprint(russh::keys::HashAlg::Sha256)
            .to_string();
        Ok(DeviceKeys {
            tls: Arc::new(config),
            cert_der,
            tls_sha256,
            ssh_host_key,
            ssh_host_key_sha256,
        })
    }

    /// The rustls server configuration serving the certificate.
    pub fn tls_config(&self) -> Arc<rustls::ServerConfig> {
        Arc::clone(&self.tls)
    }

    /// The DER certificate.
    pub fn certificate_der(&self) -> &CertificateDer<'static> {
        &self.cert_der
    }

    /// Lowercase hex SHA-256 of the DER certificate.
    pub fn tls_sha256(&self) -> &str {
        &self.tls_sha256
    }

    /// The SSH host key.
    pub fn ssh_host_key(&self) -> &russh::keys::PrivateKey {
        &self.ssh_host_key
    }

    /// OpenSSH fingerprint `SHA256:…` of the host key.
    pub fn ssh_host_key_sha256(&self) -> &str {
        &self.ssh_host_key_sha256
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn seeded_keys_are_stable_and_generations_differ() {
        let src = |generation| KeySource::Seeded {
            seed: 42,
            index: 3,
            generation,
        };
        let addr = Ipv4Addr::new(127, 0, 1, 4);
        let a = DeviceKeys::generate("sim-0004", addr, src(0)).unwrap();
        let b = DeviceKeys::generate("sim-0004", addr, src(0)).unwrap();
        let c = DeviceKeys::generate("sim-0004", addr, src(1)).unwrap();
        assert_eq!(a.tls_sha256(), b.tls_sha256());
        assert_eq!(a.ssh_host_key_sha256(), b.ssh_host_key_sha256());
        assert_ne!(a.tls_sha256(), c.tls_sha256());
        assert_ne!(a.ssh_host_key_sha256(), c.ssh_host_key_sha256());
        assert_eq!(a.tls_sha256().len(), 64);
        assert!(a.ssh_host_key_sha256().starts_with("SHA256:"));
        let r1 = DeviceKeys::generate("x", addr, KeySource::Random).unwrap();
        let r2 = DeviceKeys::generate("x", addr, KeySource::Random).unwrap();
        assert_ne!(r1.tls_sha256(), r2.tls_sha256());
    }
}
