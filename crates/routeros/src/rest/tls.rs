//! Certificate pinning for the REST driver.
//!
//! RouterOS serves its REST API with a self-signed certificate, so the usual chain-of-trust check
//! says nothing. Instead the SHA-256 of the certificate the device presented at onboarding is
//! pinned, and every later handshake must present exactly that certificate (the handshake
//! signature is still verified, so the peer must hold the certificate's key). The verifier
//! remembers what was presented so a mismatch error can name both fingerprints.

use std::sync::{Arc, Mutex};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};

use crate::driver::Trust;
use crate::types::Fingerprint;

/// The last certificate fingerprint a device presented.
pub(crate) type Presented = Arc<Mutex<Option<Fingerprint>>>;

#[derive(Debug)]
pub(crate) struct PinVerifier {
    trust: Trust,
    presented: Presented,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for PinVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let fingerprint = Fingerprint::of(end_entity.as_ref());
        if let Ok(mut slot) = self.presented.lock() {
            *slot = Some(fingerprint);
        }
        match self.trust {
            Trust::Pinned(expected) if expected == fingerprint => {
                Ok(ServerCertVerified::assertion())
            }
            Trust::FirstUse => Ok(ServerCertVerified::assertion()),
            Trust::Pinned(_) | Trust::Unknown => Err(rustls::Error::General(
                "certificate does not match the pinned fingerprint".into(),
            )),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

/// TLS sessions a device's configuration remembers for resumption (its one server).
const SESSIONS_REMEMBERED: usize = 2;

/// A TLS client configuration that trusts exactly what `trust` says.
pub(crate) fn client_config(
    trust: Trust,
    presented: Presented,
) -> Result<rustls::ClientConfig, String> {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = PinVerifier {
        trust,
        presented,
        algorithms: provider.signature_verification_algorithms,
    };
    let mut config = rustls::ClientConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| format!("TLS configuration: {e}"))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    // One configuration per device, so one server to remember sessions for: the default cache
    // reserves room for 256 servers up front (about 7 KB per device, 65 MiB across a
    // 10,000-router fleet; docs/benchmarks.md).
    config.resumption = rustls::client::Resumption::in_memory_sessions(SESSIONS_REMEMBERED);
    Ok(config)
}

/// The provider this crate uses everywhere (ring), for callers that build their own configs.
pub fn crypto_provider() -> CryptoProvider {
    rustls::crypto::ring::default_provider()
}
