//! Test fixtures: a real OpenID provider (oidc-provider under node, see ../oidc/provider.mjs)
//! and a tiny loopback issuer whose key the tests hold, for tokens no real provider would sign.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use auth::{OidcConfig, Url};
use axum::Router;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::{Value, json};

#[path = "../oidc/fixture.rs"]
mod fixture;
pub use fixture::{AUDIENCE, Provider, client};

pub fn now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or_default()
}

/// A loopback issuer whose ES256 key the test holds: serves discovery, a JWKS (counting
/// fetches) at `/jwks` and at Cloudflare's `/cdn-cgi/access/certs`.
pub struct FakeIssuer {
    pub issuer: String,
    pub kid: String,
    state: Arc<FakeState>,
    key: EncodingKey,
    public_pem: String,
}

struct FakeState {
    issuer: String,
    advertised_issuer: Mutex<Option<String>>,
    jwks: Value,
    fetches: AtomicUsize,
    failing: AtomicBool,
}

impl FakeIssuer {
    pub async fn start() -> FakeIssuer {
        let pair = rcgen::KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).expect("EC key");
        let raw = pair.public_key_raw();
        assert_eq!(raw.len(), 65, "uncompressed P-256 point");
        let kid = format!("test-{:x}", rand_u64());
        let jwks = json!({ "keys": [{
            "kty": "EC", "crv": "P-256", "use": "sig", "alg": "ES256", "kid": kid,
            "x": URL_SAFE_NO_PAD.encode(&raw[1..33]),
            "y": URL_SAFE_NO_PAD.encode(&raw[33..65]),
        }] });
        let key = EncodingKey::from_ec_pem(pair.serialize_pem().as_bytes()).expect("PKCS#8 PEM");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind loopback");
        let addr: SocketAddr = listener.local_addr().expect("address");
        let issuer = format!("http://{addr}");
        let state = Arc::new(FakeState {
            issuer: issuer.clone(),
            advertised_issuer: Mutex::new(None),
            jwks,
            fetches: AtomicUsize::new(0),
            failing: AtomicBool::new(false),
        });
        let app = Router::new()
            .route("/.well-known/openid-configuration", get(discovery))
            .route("/jwks", get(keys))
            .route("/cdn-cgi/access/certs", get(keys))
            .with_state(Arc::clone(&state));
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FakeIssuer {
            issuer,
            kid,
            state,
            key,
            public_pem: pair.public_key_pem(),
        }
    }

    /// How many times the JWKS was fetched.
    pub fn fetches(&self) -> usize {
        self.state.fetches.load(Ordering::SeqCst)
    }

    /// Makes the JWKS endpoint answer 500 (or recover).
    pub fn set_failing(&self, failing: bool) {
        self.state.failing.store(failing, Ordering::SeqCst);
    }

    /// Makes discovery advertise another issuer.
    pub fn advertise_issuer(&self, issuer: &str) {
        *self.state.advertised_issuer.lock().expect("lock") = Some(issuer.to_owned());
    }

    /// The published JWKS.
    pub fn jwks(&self) -> &Value {
        &self.state.jwks
    }

    pub fn public_pem(&self) -> &str {
        &self.public_pem
    }

    pub fn certs_url(&self) -> Url {
        Url::parse(&format!("{}/cdn-cgi/access/certs", self.issuer)).expect("certs URL")
    }

    /// Claims that pass every check.
    pub fn claims(&self) -> Value {
        json!({
            "iss": self.issuer, "aud": AUDIENCE, "sub": "user-1",
            "preferred_username": "ana", "iat": now(), "exp": now() + 300,
            "roles": ["operator"],
        })
    }

    /// ES256 with the issuer's key and kid.
    pub fn sign(&self, claims: &Value) -> String {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(self.kid.clone());
        self.sign_with(&header, claims)
    }

    pub fn sign_with(&self, header: &Header, claims: &Value) -> String {
        jsonwebtoken::encode(header, claims, &self.key).expect("sign")
    }

    pub fn config(&self) -> OidcConfig {
        OidcConfig::new(Url::parse(&self.issuer).expect("issuer URL"), AUDIENCE)
    }
}

async fn discovery(State(state): State<Arc<FakeState>>) -> Response {
    let advertised = state
        .advertised_issuer
        .lock()
        .ok()
        .and_then(|a| a.clone())
        .unwrap_or_else(|| state.issuer.clone());
    axum::Json(json!({
        "issuer": advertised,
        "jwks_uri": format!("{}/jwks", state.issuer),
        "authorization_endpoint": format!("{}/authorize", state.issuer),
        "token_endpoint": format!("{}/token", state.issuer),
    }))
    .into_response()
}

async fn keys(State(state): State<Arc<FakeState>>) -> Response {
    state.fetches.fetch_add(1, Ordering::SeqCst);
    if state.failing.load(Ordering::SeqCst) {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    axum::Json(state.jwks.clone()).into_response()
}

pub fn rand_u64() -> u64 {
    let mut b = [0u8; 8];
    getrandom::fill(&mut b).expect("OS randomness");
    u64::from_le_bytes(b)
}

/// A compact JWS from raw parts (for headers no library would write).
pub fn raw_token(header: &Value, claims: &Value, signature: &[u8]) -> String {
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        URL_SAFE_NO_PAD.encode(signature)
    )
}

/// The claims of a token, unverified (to tamper with them).
pub fn payload(token: &str) -> Value {
    let part = token.split('.').nth(1).expect("payload part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON")
}

/// HMAC-SHA-256 JWS with `secret`, the way an attacker would forge one.
pub fn hs256(header: &Value, claims: &Value, secret: &[u8]) -> String {
    use hmac::{KeyInit, Mac};
    let signing_input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let mut mac =
        <hmac::Hmac<sha2::Sha256> as KeyInit>::new_from_slice(secret).expect("any key length");
    mac.update(signing_input.as_bytes());
    format!(
        "{signing_input}.{}",
        URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
    )
}
