//! Shared helpers for the simulator's black-box tests: start a fleet on ephemeral ports and
//! talk to it over real HTTP/HTTPS like a RouterOS client would.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::sync::Arc;
use std::time::Duration;

use reqwest::StatusCode;
use routeros_sim::{Fleet, FleetOptions, ManifestDevice};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, SignatureScheme};
use serde_json::Value;
use sha2::{Digest, Sha256};

/// Accepts exactly one certificate, by SHA-256 — how our driver pins RouterOS certificates.
#[derive(Debug)]
pub struct Pinned {
    sha256: String,
    provider: Arc<rustls::crypto::CryptoProvider>,
}

impl ServerCertVerifier for Pinned {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let got = hex::encode(Sha256::digest(end_entity.as_ref()));
        if got == self.sha256 {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(format!("pin mismatch: {got}")))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// A TLS client configuration that trusts only the certificate with SHA-256 `pin`.
pub fn tls_config(pin: &str) -> rustls::ClientConfig {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .unwrap()
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(Pinned {
            sha256: pin.to_string(),
            provider,
        }))
        .with_no_client_auth()
}

/// A client that trusts only the certificate with SHA-256 `pin` (plain HTTP works too).
pub fn client(pin: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .use_preconfigured_tls(tls_config(pin))
        .timeout(Duration::from_secs(20))
        .pool_max_idle_per_host(4)
        .build()
        .unwrap()
}

/// A running test fleet with a client for its first device.
pub struct Sim {
    pub fleet: Fleet,
    pub dev: ManifestDevice,
    pub client: reqwest::Client,
}

/// Starts a fleet; ports are always ephemeral.
pub async fn start(opts: FleetOptions) -> Sim {
    let opts = FleetOptions {
        http_port: 0,
        https_port: 0,
        ssh_port: 0,
        ..opts
    };
    let fleet = Fleet::start(opts).await.unwrap();
    let dev = fleet.manifest().devices[0].clone();
    let client = client(&dev.tls_sha256);
    Sim { fleet, dev, client }
}

/// A one-device home fleet with seed 1 and password `secret`.
pub async fn home() -> Sim {
    start(FleetOptions {
        seed: 1,
        password: Some("secret".into()),
        ..FleetOptions::default()
    })
    .await
}

impl Sim {
    pub fn http(&self, path: &str) -> String {
        format!(
            "http://{}:{}/rest{path}",
            self.dev.address, self.dev.http_port
        )
    }

    pub fn https(&self, path: &str) -> String {
        format!(
            "https://{}:{}/rest{path}",
            self.dev.address, self.dev.https_port
        )
    }

    pub fn control(&self, path: &str) -> String {
        format!("{}{path}", self.fleet.control_url())
    }

    fn auth(&self, rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        rb.basic_auth(&self.dev.username, Some(&self.dev.password))
    }

    /// Sends a request with the admin credentials; returns status and parsed JSON (Null for an
    /// empty body).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut rb = self.auth(self.client.request(method, self.http(path)));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
        };
        (status, value)
    }

    /// Raw text of a response, for byte-exact comparisons.
    pub async fn call_text(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&str>,
    ) -> (StatusCode, String) {
        let mut rb = self.auth(self.client.request(method, self.http(path)));
        if let Some(b) = body {
            rb = rb
                .header("content-type", "application/json")
                .body(b.to_string());
        }
        let resp = rb.send().await.unwrap();
        (resp.status(), resp.text().await.unwrap())
    }

    pub async fn get(&self, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::GET, path, None).await
    }

    pub async fn put(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> (StatusCode, Value) {
        self.call(reqwest::Method::DELETE, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        self.call(reqwest::Method::POST, path, Some(body)).await
    }

    /// Control API call.
    pub async fn control_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut rb = self.client.request(method, self.control(path));
        if let Some(b) = body {
            rb = rb.json(&b);
        }
        let resp = rb.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

/// The keys of a JSON object in order.
pub fn keys(v: &Value) -> Vec<String> {
    v.as_object().unwrap().keys().cloned().collect()
}

/// Asserts every value of a JSON object is a string, as RouterOS REST returns.
pub fn all_strings(v: &Value) {
    for (k, val) in v.as_object().unwrap() {
        assert!(val.is_string(), "{k} is not a string: {val}");
    }
}

/// The keys of every JSON object in `text`, in the order they appear (independent of how
/// serde_json orders maps), outermost first.
pub fn ordered_keys(text: &str) -> Vec<Vec<String>> {
    use serde::de::{Deserializer, MapAccess, SeqAccess, Visitor};
    struct Collect<'a>(&'a mut Vec<Vec<String>>);
    impl<'de> serde::de::DeserializeSeed<'de> for Collect<'_> {
        type Value = ();
        fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
            d.deserialize_any(self)
        }
    }
    impl<'de> Visitor<'de> for Collect<'_> {
        type Value = ();
        fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
            f.write_str("json")
        }
        fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
            let idx = self.0.len();
            self.0.push(Vec::new());
            while let Some(k) = map.next_key::<String>()? {
                self.0[idx].push(k);
                map.next_value_seed(Collect(self.0))?;
            }
            Ok(())
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            while seq.next_element_seed(Collect(self.0))?.is_some() {}
            Ok(())
        }
        fn visit_str<E>(self, _: &str) -> Result<(), E> {
            Ok(())
        }
        fn visit_string<E>(self, _: String) -> Result<(), E> {
            Ok(())
        }
        fn visit_u64<E>(self, _: u64) -> Result<(), E> {
            Ok(())
        }
        fn visit_i64<E>(self, _: i64) -> Result<(), E> {
            Ok(())
        }
        fn visit_f64<E>(self, _: f64) -> Result<(), E> {
            Ok(())
        }
        fn visit_bool<E>(self, _: bool) -> Result<(), E> {
            Ok(())
        }
        fn visit_unit<E>(self) -> Result<(), E> {
            Ok(())
        }
    }
    let mut out = Vec::new();
    let mut de = serde_json::Deserializer::from_str(text);
    serde::de::DeserializeSeed::deserialize(Collect(&mut out), &mut de).unwrap();
    out
}

/// A client for plain-HTTP endpoints (the control API); HTTPS through it trusts nothing.
pub fn plain() -> reqwest::Client {
    client("")
}
