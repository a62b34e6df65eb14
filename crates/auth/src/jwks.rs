//! A provider's published signing keys (a JWKS), cached, and refetched when a token names a key
//! id the cache does not know.
//!
//! Refetching is rate-limited: at most one fetch per `refetch_floor`, shared by every request,
//! so a flood of tokens with made-up key ids costs the provider at most one fetch per interval
//! (concurrent requests wait for the one fetch in flight and then look again). Keys older than
//! `max_age` are refreshed the same way, so a key the provider withdrew stops being accepted. A
//! failed fetch keeps the keys already known.
//!
//! Only asymmetric signature keys are kept: RSA (2048 bits or more), EC P-256/P-384 and
//! Ed25519, with `use` absent or `sig`. Symmetric (`oct`) keys are never loaded, so no token
//! can be verified as HMAC-signed with a published key.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, PoisonError, RwLock};
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::{Algorithm, DecodingKey};
use reqwest::Url;
use serde_json::Value;
use tokio::time::Instant;

use crate::error::AuthError;
use crate::fetch::Fetcher;
use crate::jwt::asymmetric_alg;

/// Most keys kept from one JWKS.
const MAX_KEYS: usize = 64;
/// Smallest RSA modulus accepted, in bytes (2048 bits).
const MIN_RSA_MODULUS_BYTES: usize = 256;

/// What kind of public key a JWK holds, which decides the algorithms it can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KeyKind {
    Rsa,
    EcP256,
    EcP384,
    Ed25519,
}

/// One usable verification key.
pub(crate) struct VerifyKey {
    pub(crate) kid: Option<String>,
    kind: KeyKind,
    /// The JWK's own `alg`, when it names one: then only that algorithm may use the key.
    alg: Option<Algorithm>,
    pub(crate) key: DecodingKey,
}

impl std::fmt::Debug for VerifyKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifyKey")
            .field("kid", &self.kid)
            .field("kind", &self.kind)
            .field("alg", &self.alg)
            .finish_non_exhaustive()
    }
}

impl VerifyKey {
    /// Whether a token signed with `alg` may be verified with this key: the algorithm must suit
    /// the key type (and curve), and equal the JWK's `alg` when it has one.
    pub(crate) fn fits(&self, alg: Algorithm) -> bool {
        let by_type = match self.kind {
            KeyKind::Rsa => matches!(
                alg,
                Algorithm::RS256
                    | Algorithm::RS384
                    | Algorithm::RS512
                    | Algorithm::PS256
                    | Algorithm::PS384
                    | Algorithm::PS512
            ),
            KeyKind::EcP256 => alg == Algorithm::ES256,
            KeyKind::EcP384 => alg == Algorithm::ES384,
            KeyKind::Ed25519 => alg == Algorithm::EdDSA,
        };
        by_type && self.alg.is_none_or(|own| own == alg)
    }
}

/// The keys known at one moment.
#[derive(Debug, Default)]
struct KeySet {
    keys: Vec<Arc<VerifyKey>>,
    fetched_at: Option<Instant>,
}

impl KeySet {
    fn matching(&self, kid: Option<&str>) -> Vec<Arc<VerifyKey>> {
        self.keys
            .iter()
            .filter(|k| kid.is_none_or(|kid| k.kid.as_deref() == Some(kid)))
            .cloned()
            .collect()
    }

    fn is_stale(&self, max_age: Duration) -> bool {
        self.fetched_at.is_none_or(|at| at.elapsed() >= max_age)
    }
}

/// The outcome of looking a key up.
#[derive(Debug)]
pub(crate) enum Lookup {
    /// Keys with the asked-for id (or every key, when the token names none).
    Found(Vec<Arc<VerifyKey>>),
    /// The provider does not publish such a key, even after a refetch.
    Unknown,
    /// Not known, and the last attempt to fetch the keys failed.
    Unreachable,
}

#[derive(Debug, Default)]
struct RefetchState {
    /// When a refetch was last attempted (the initial load does not count).
    last_attempt: Option<Instant>,
    last_failed: bool,
}

/// A provider's keys, fetched from `url`.
#[derive(Debug)]
pub(crate) struct JwksCache {
    url: Url,
    fetcher: Fetcher,
    refetch_floor: Duration,
    max_age: Duration,
    keys: RwLock<Arc<KeySet>>,
    refetch: tokio::sync::Mutex<RefetchState>,
    /// Set by [`JwksCache::expire`]: the next refresh fetches whatever the floor says.
    forced: AtomicBool,
}

impl JwksCache {
    /// An empty cache; the first lookup fetches.
    pub(crate) fn new(
        url: Url,
        fetcher: Fetcher,
        refetch_floor: Duration,
        max_age: Duration,
    ) -> Self {
        Self {
            url,
            fetcher,
            refetch_floor,
            max_age,
            keys: RwLock::new(Arc::new(KeySet::default())),
            refetch: tokio::sync::Mutex::new(RefetchState::default()),
            forced: AtomicBool::new(false),
        }
    }

    /// Fetches the keys now, failing if they cannot be fetched or none is usable.
    pub(crate) async fn prime(&self) -> Result<(), AuthError> {
        let keys = self.fetch().await?;
        self.store(keys);
        Ok(())
    }

    /// Treats the keys known as stale: the next lookup fetches the set anew, whatever the
    /// refetch floor (a key the provider withdrew is then refused at once). Until a fetch
    /// succeeds the keys known stay in use, so a provider that is down refuses nobody.
    pub(crate) fn expire(&self) {
        self.forced.store(true, Ordering::SeqCst);
        let current = self.current();
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = Arc::new(KeySet {
            keys: current.keys.clone(),
            fetched_at: None,
        });
    }

    /// The keys a token with key id `kid` may have been signed with.
    pub(crate) async fn find(&self, kid: Option<&str>) -> Lookup {
        let set = self.current();
        let hits = set.matching(kid);
        if !hits.is_empty() && !set.is_stale(self.max_age) {
            return Lookup::Found(hits);
        }
        let failed = self.refresh().await;
        let hits = self.current().matching(kid);
        if !hits.is_empty() {
            Lookup::Found(hits)
        } else if failed {
            Lookup::Unreachable
        } else {
            Lookup::Unknown
        }
    }

    /// Refetches unless another refetch was attempted within the floor; returns whether the
    /// most recent attempt failed.
    async fn refresh(&self) -> bool {
        let mut state = self.refetch.lock().await;
        let forced = self.forced.swap(false, Ordering::SeqCst);
        if !forced
            && let Some(last) = state.last_attempt
            && last.elapsed() < self.refetch_floor
        {
            return state.last_failed;
        }
        state.last_attempt = Some(Instant::now());
        match self.fetch().await {
            Ok(keys) => {
                self.store(keys);
                state.last_failed = false;
            }
            Err(e) => {
                tracing::warn!(error = %e, "refetching the provider's signing keys failed; keeping the keys already known");
                state.last_failed = true;
            }
        }
        state.last_failed
    }

    fn current(&self) -> Arc<KeySet> {
        Arc::clone(&self.keys.read().unwrap_or_else(PoisonError::into_inner))
    }

    fn store(&self, keys: Vec<Arc<VerifyKey>>) {
        let set = Arc::new(KeySet {
            keys,
            fetched_at: Some(Instant::now()),
        });
        *self.keys.write().unwrap_or_else(PoisonError::into_inner) = set;
    }

    async fn fetch(&self) -> Result<Vec<Arc<VerifyKey>>, AuthError> {
        let doc = self.fetcher.json("signing keys (JWKS)", &self.url).await?;
        let (keys, skipped) = parse_jwks(&doc);
        if !skipped.is_empty() {
            tracing::debug!(url = %self.url, ?skipped, "JWKS entries not used");
        }
        if keys.is_empty() {
            return Err(AuthError::Fetch {
                what: "signing keys (JWKS)",
                url: self.url.to_string(),
                detail: "no usable signature key (RSA of 2048 bits or more, EC P-256/P-384 or \
                         Ed25519, with use \"sig\")"
                    .to_owned(),
            });
        }
        Ok(keys)
    }
}

/// The usable keys of a JWKS document, and why the others were skipped.
fn parse_jwks(doc: &Value) -> (Vec<Arc<VerifyKey>>, Vec<String>) {
    let mut keys = Vec::new();
    let mut skipped = Vec::new();
    let Some(entries) = doc.get("keys").and_then(Value::as_array) else {
        skipped.push("the document has no \"keys\" array".to_owned());
        return (keys, skipped);
    };
    for (i, entry) in entries.iter().enumerate() {
        if keys.len() == MAX_KEYS {
            skipped.push(format!("entries after the first {MAX_KEYS} usable keys"));
            break;
        }
        match parse_key(entry) {
            Ok(k) => keys.push(Arc::new(k)),
            Err(why) => skipped.push(format!("key {i}: {why}")),
        }
    }
    (keys, skipped)
}

fn parse_key(entry: &Value) -> Result<VerifyKey, String> {
    let text = |name: &str| entry.get(name).and_then(Value::as_str);
    let need = |name: &'static str| text(name).ok_or(format!("no \"{name}\""));
    if text("use").is_some_and(|u| u != "sig") {
        return Err("not a signature key (use)".to_owned());
    }
    if let Some(ops) = entry.get("key_ops")
        && !ops
            .as_array()
            .is_some_and(|ops| ops.iter().any(|op| op.as_str() == Some("verify")))
    {
        return Err("key_ops does not include verify".to_owned());
    }
    let alg = match text("alg") {
        None => None,
        Some(a) => Some(asymmetric_alg(a).ok_or("alg is not an accepted signature algorithm")?),
    };
    let bytes = |name: &'static str| -> Result<Vec<u8>, String> {
        URL_SAFE_NO_PAD
            .decode(need(name)?.trim_end_matches('='))
            .map_err(|_| format!("\"{name}\" is not base64url"))
    };
    let bad = |e: jsonwebtoken::errors::Error| format!("unusable key material: {e}");
    let (kind, key) = match text("kty") {
        Some("RSA") => {
            let n = bytes("n")?;
            let significant = n.iter().skip_while(|b| **b == 0).count();
            if significant < MIN_RSA_MODULUS_BYTES {
                return Err("RSA key shorter than 2048 bits".to_owned());
            }
            let e = bytes("e")?;
            (KeyKind::Rsa, DecodingKey::from_rsa_raw_components(&n, &e))
        }
        Some("EC") => {
            let (kind, size) = match text("crv") {
                Some("P-256") => (KeyKind::EcP256, 32),
                Some("P-384") => (KeyKind::EcP384, 48),
                _ => return Err("EC curve is not P-256 or P-384".to_owned()),
            };
            if bytes("x")?.len() != size || bytes("y")?.len() != size {
                return Err("EC coordinates have the wrong length".to_owned());
            }
            let key = DecodingKey::from_ec_components(need("x")?, need("y")?).map_err(bad)?;
            (kind, key)
        }
        Some("OKP") => {
            if text("crv") != Some("Ed25519") {
                return Err("OKP curve is not Ed25519".to_owned());
            }
            if bytes("x")?.len() != 32 {
                return Err("Ed25519 key has the wrong length".to_owned());
            }
            (
                KeyKind::Ed25519,
                DecodingKey::from_ed_components(need("x")?).map_err(bad)?,
            )
        }
        Some(other) => return Err(format!("key type {other:?} is not accepted")),
        None => return Err("no \"kty\"".to_owned()),
    };
    let key = VerifyKey {
        kid: text("kid").map(str::to_owned),
        kind,
        alg,
        key,
    };
    if let Some(alg) = key.alg
        && !key.fits(alg)
    {
        return Err("alg does not suit the key type".to_owned());
    }
    Ok(key)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rsa_n() -> String {
        let mut n = vec![0xC5u8; 256];
        n[255] = 0x01;
        URL_SAFE_NO_PAD.encode(n)
    }

    fn ec_coord() -> String {
        URL_SAFE_NO_PAD.encode([7u8; 32])
    }

    #[test]
    fn only_asymmetric_signature_keys_are_kept() {
        let doc = json!({ "keys": [
            { "kty": "RSA", "kid": "r1", "alg": "RS256", "use": "sig", "n": rsa_n(), "e": "AQAB" },
            { "kty": "RSA", "kid": "r-enc", "use": "enc", "n": rsa_n(), "e": "AQAB" },
            { "kty": "RSA", "kid": "r-small", "n": URL_SAFE_NO_PAD.encode([0xC5u8; 128]), "e": "AQAB" },
            { "kty": "oct", "kid": "h1", "k": "c2VjcmV0" },
            { "kty": "RSA", "kid": "r-hs", "alg": "HS256", "n": rsa_n(), "e": "AQAB" },
            { "kty": "EC", "kid": "e1", "crv": "P-256", "x": ec_coord(), "y": ec_coord() },
            { "kty": "EC", "kid": "e521", "crv": "P-521", "x": ec_coord(), "y": ec_coord() },
            { "kty": "EC", "kid": "e-mismatch", "alg": "ES384", "crv": "P-256", "x": ec_coord(), "y": ec_coord() },
            { "kty": "OKP", "kid": "d1", "crv": "Ed25519", "x": ec_coord() },
            { "kty": "RSA", "kid": "r-ops", "key_ops": ["encrypt"], "n": rsa_n(), "e": "AQAB" },
            "not an object"
        ] });
        let (keys, skipped) = parse_jwks(&doc);
        let kids: Vec<_> = keys.iter().filter_map(|k| k.kid.as_deref()).collect();
        assert_eq!(kids, ["r1", "e1", "d1"]);
        assert_eq!(skipped.len(), 8, "{skipped:#?}");
    }

    #[test]
    fn keys_fit_only_their_own_algorithms() {
        let doc = json!({ "keys": [
            { "kty": "RSA", "kid": "any-rsa", "n": rsa_n(), "e": "AQAB" },
            { "kty": "RSA", "kid": "ps", "alg": "PS256", "n": rsa_n(), "e": "AQAB" },
            { "kty": "EC", "kid": "p256", "crv": "P-256", "x": ec_coord(), "y": ec_coord() },
        ] });
        let (keys, _) = parse_jwks(&doc);
        assert!(keys[0].fits(Algorithm::RS512) && keys[0].fits(Algorithm::PS384));
        assert!(!keys[0].fits(Algorithm::ES256) && !keys[0].fits(Algorithm::HS256));
        assert!(keys[1].fits(Algorithm::PS256) && !keys[1].fits(Algorithm::RS256));
        assert!(keys[2].fits(Algorithm::ES256) && !keys[2].fits(Algorithm::ES384));
        assert!(!keys[2].fits(Algorithm::EdDSA));
    }
}
