//! API tokens the server mints itself: their text form and the hash that is stored.
//!
//! A token reads `rmcp_<id>_<secret>`: `id` is 16 lowercase hex digits (64 random bits, not
//! secret: it finds the stored row and can appear in logs and listings), `secret` is 64
//! lowercase hex digits (256 random bits from the operating system). The prefix tells it apart
//! from a JWT at a glance (a JWT has dots; this has none) and makes leaked tokens easy to grep
//! for. Only [`TokenHash`] — SHA-256 over the whole token text — is stored; with 256 bits of
//! randomness behind it a plain hash is enough, no password hashing or server key needed.
//! Hashes are compared in constant time.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::AuthError;

/// The first characters of every API token.
pub const API_TOKEN_PREFIX: &str = "rmcp_";

const ID_BYTES: usize = 8;
const SECRET_BYTES: usize = 32;

/// A whole API token. Shown to its owner once, at creation; afterwards only its id and hash
/// exist. `Debug` shows the id only.
pub struct ApiTokenSecret {
    id: String,
    token: SecretString,
}

impl fmt::Debug for ApiTokenSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ApiTokenSecret")
            .field("id", &self.id)
            .field("secret", &"[redacted]")
            .finish()
    }
}

impl ApiTokenSecret {
    /// A fresh token and the hash to store for it.
    pub fn generate() -> Result<(Self, TokenHash), AuthError> {
        let mut id = [0u8; ID_BYTES];
        let mut secret = [0u8; SECRET_BYTES];
        getrandom::fill(&mut id).map_err(|_| AuthError::Random)?;
        getrandom::fill(&mut secret).map_err(|_| AuthError::Random)?;
        let id = hex::encode(id);
        let text = format!("{API_TOKEN_PREFIX}{id}_{}", hex::encode(secret));
        secret.fill(0);
        let token = Self {
            id,
            token: SecretString::from(text),
        };
        let hash = token.hash();
        Ok((token, hash))
    }

    /// Reads a bearer token as an API token: `None` unless it has exactly the minted form.
    pub fn parse(bearer: &str) -> Option<Self> {
        let rest = bearer.strip_prefix(API_TOKEN_PREFIX)?;
        let (id, secret) = rest.split_once('_')?;
        let lower_hex = |s: &str, len: usize| {
            s.len() == len && s.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
        };
        if !lower_hex(id, ID_BYTES * 2) || !lower_hex(secret, SECRET_BYTES * 2) {
            return None;
        }
        Some(Self {
            id: id.to_owned(),
            token: SecretString::from(bearer.to_owned()),
        })
    }

    /// Whether a bearer token is meant to be an API token (it has the prefix), so a caller can
    /// route it without trying it as a JWT.
    pub fn looks_like(bearer: &str) -> bool {
        bearer.starts_with(API_TOKEN_PREFIX)
    }

    /// The token's id: the stored row's key. Not secret.
    pub fn id(&self) -> &str {
        &self.id
    }

    /// The whole token text, to show its owner once.
    pub fn expose(&self) -> &str {
        self.token.expose_secret()
    }

    /// The hash to store, or to compare with the stored one.
    pub fn hash(&self) -> TokenHash {
        TokenHash(Sha256::digest(self.token.expose_secret().as_bytes()).into())
    }
}

/// SHA-256 of an API token, stored as 64 lowercase hex digits.
#[derive(Clone, PartialEq, Eq)]
pub struct TokenHash([u8; 32]);

impl fmt::Debug for TokenHash {
    /// The first 8 hex digits only: enough to tell two rows apart in a log.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}…)", &self.to_hex()[..8])
    }
}

impl TokenHash {
    /// The stored form.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Reads the stored form back.
    pub fn from_hex(text: &str) -> Result<Self, AuthError> {
        let mut bytes = [0u8; 32];
        hex::decode_to_slice(text.trim(), &mut bytes).map_err(|_| AuthError::InvalidConfig {
            what: "API token hash",
            detail: "expected 64 hex digits (SHA-256)".to_owned(),
        })?;
        Ok(Self(bytes))
    }

    /// Whether `token` hashes to this, compared in constant time.
    pub fn verify(&self, token: &ApiTokenSecret) -> bool {
        self.matches(&token.hash())
    }

    /// Constant-time equality.
    pub fn matches(&self, other: &TokenHash) -> bool {
        constant_time_eq(&self.0, &other.0)
    }
}

/// Byte-string equality whose time does not depend on where the inputs differ (it does depend
/// on their lengths, which are not secret here).
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.ct_eq(b).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minted_tokens_have_the_documented_shape_and_round_trip() {
        let (token, hash) = ApiTokenSecret::generate().expect("OS randomness");
        let text = token.expose().to_owned();
        assert!(text.starts_with("rmcp_"), "{text}");
        assert_eq!(text.len(), 5 + 16 + 1 + 64);
        assert!(!text.contains('.'), "never mistaken for a JWT");
        let parsed = ApiTokenSecret::parse(&text).expect("parses");
        assert_eq!(parsed.id(), token.id());
        assert!(hash.verify(&parsed));
        assert_eq!(hash.to_hex().len(), 64);
        assert_eq!(TokenHash::from_hex(&hash.to_hex()).expect("hex"), hash);
        assert!(ApiTokenSecret::looks_like(&text));
    }

    #[test]
    fn two_tokens_never_collide() {
        let (a, ha) = ApiTokenSecret::generate().expect("OS randomness");
        let (b, hb) = ApiTokenSecret::generate().expect("OS randomness");
        assert_ne!(a.id(), b.id());
        assert_ne!(a.expose(), b.expose());
        assert!(!ha.matches(&hb));
        assert!(!ha.verify(&b));
    }

    #[test]
    fn anything_but_the_exact_form_is_not_an_api_token() {
        let (token, hash) = ApiTokenSecret::generate().expect("OS randomness");
        let text = token.expose();
        let upper = text.to_uppercase().replacen("RMCP_", "rmcp_", 1);
        let cases = [
            String::new(),
            "rmcp_".into(),
            text[..text.len() - 1].to_owned(),
            format!("{text}0"),
            upper,
            text.replacen("rmcp_", "rmcp-", 1),
            format!(" {text}"),
            "eyJhbGciOiJSUzI1NiJ9.e30.c2ln".into(),
            text.replacen('_', ".", 2),
        ];
        for case in &cases {
            assert!(ApiTokenSecret::parse(case).is_none(), "{case}");
        }
        // A well-formed token with one secret digit changed parses but does not verify.
        let mut forged = text.to_owned();
        let last = forged.pop().expect("non-empty");
        forged.push(if last == '0' { '1' } else { '0' });
        let forged = ApiTokenSecret::parse(&forged).expect("well-formed");
        assert!(!hash.verify(&forged));
    }

    #[test]
    fn debug_output_never_shows_the_secret() {
        let (token, hash) = ApiTokenSecret::generate().expect("OS randomness");
        let secret_part = &token.expose()[22..];
        let shown = format!("{token:?} {hash:?} {:#?}", token);
        assert!(!shown.contains(secret_part), "{shown}");
        assert!(shown.contains("[redacted]") && shown.contains(token.id()));
        assert!(
            !shown.contains(&hash.to_hex()),
            "only a prefix of the hash: {shown}"
        );
    }

    #[test]
    fn constant_time_comparison_is_plain_equality_in_result() {
        assert!(constant_time_eq(b"abc", b"abc"));
        assert!(!constant_time_eq(b"abc", b"abd"));
        assert!(!constant_time_eq(b"abc", b"abcd"));
        assert!(constant_time_eq(b"", b""));
        assert!(TokenHash::from_hex("zz").is_err());
    }
}
