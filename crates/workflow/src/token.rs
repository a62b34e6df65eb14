//! Approval tokens: what a human approval hands to whoever applies the plan.
//!
//! `rmcp-approval-v1.<payload>.<tag>`: the payload (base64url JSON) names the plan, the plan's
//! content hash, the approver, an expiry and a nonce; the tag is HMAC-SHA-256 under a key derived
//! from the master key, so only this server (or another sharing its master key and database) can
//! mint one. The database keeps only the token's SHA-256, with the time it was used.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use vault::SigningKey;

use crate::error::TokenError;

const PREFIX: &str = "rmcp-approval-v1";

/// What a token vouches for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Claims {
    #[serde(rename = "p")]
    pub plan_id: String,
    #[serde(rename = "h")]
    pub plan_hash: String,
    #[serde(rename = "a")]
    pub approver: String,
    /// Expiry, Unix seconds.
    #[serde(rename = "e")]
    pub expires_at: i64,
    #[serde(rename = "n")]
    pub nonce: String,
}

/// Mints a token for `claims`.
pub fn mint(key: &SigningKey, claims: &Claims) -> String {
    let payload = URL_SAFE_NO_PAD.encode(serde_json::to_vec(claims).unwrap_or_default());
    let tag = URL_SAFE_NO_PAD.encode(key.sign(format!("{PREFIX}.{payload}").as_bytes()));
    format!("{PREFIX}.{payload}.{tag}")
}

/// Checks the form and the signature; returns the claims (expiry and use are checked by the
/// caller, against the clock and the database).
pub fn verify(key: &SigningKey, token: &str) -> Result<Claims, TokenError> {
    let mut parts = token.trim().split('.');
    let (Some(prefix), Some(payload), Some(tag), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(TokenError::Malformed);
    };
    if prefix != PREFIX {
        return Err(TokenError::Malformed);
    }
    let tag = URL_SAFE_NO_PAD
        .decode(tag)
        .map_err(|_| TokenError::Malformed)?;
    if !key.verify(format!("{PREFIX}.{payload}").as_bytes(), &tag) {
        return Err(TokenError::Forged);
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(payload)
        .map_err(|_| TokenError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| TokenError::Malformed)
}

/// The stored form of a token.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.trim().as_bytes()))
}

/// A random nonce (128 bits, hex).
pub fn nonce() -> String {
    let mut bytes = [0u8; 16];
    // An all-zero nonce only if the OS has no randomness; the token is still unique by its
    // plan, hash, approver and expiry, and single-use by its stored hash.
    let _ = getrandom::fill(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            plan_id: "p1".into(),
            plan_hash: "abc".into(),
            approver: "cli:alice".into(),
            expires_at: 1_900_000_000,
            nonce: nonce(),
        }
    }

    #[test]
    fn a_minted_token_verifies_and_anything_else_is_named() {
        let master = vault::MasterKey::generate().unwrap_or_else(|_| unreachable!());
        let key = master.signing_key("plan approval v1");
        let issued = claims();
        let token = mint(&key, &issued);
        assert_eq!(verify(&key, &token), Ok(issued));
        assert_eq!(verify(&key, "hello"), Err(TokenError::Malformed));
        assert_eq!(
            verify(&key, "rmcp-approval-v1.a.b.c"),
            Err(TokenError::Malformed)
        );
        // Another approver written into the payload: the tag no longer matches.
        let (head, tag) = token.rsplit_once('.').unwrap_or_default();
        let mut forged_claims = claims();
        forged_claims.approver = "cli:mallory".into();
        let forged_payload =
            URL_SAFE_NO_PAD.encode(serde_json::to_vec(&forged_claims).unwrap_or_default());
        let forged = format!("{PREFIX}.{forged_payload}.{tag}");
        assert_eq!(verify(&key, &forged), Err(TokenError::Forged));
        assert!(head.starts_with(PREFIX));
        // Same claims, another master key.
        let other = vault::MasterKey::generate().unwrap_or_else(|_| unreachable!());
        let foreign = mint(&other.signing_key("plan approval v1"), &claims());
        assert_eq!(verify(&key, &foreign), Err(TokenError::Forged));
        assert_eq!(hash(&token).len(), 64);
        assert_ne!(hash(&token), hash(&foreign));
    }
}
