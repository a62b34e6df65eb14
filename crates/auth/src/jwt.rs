//! Verifying one JWT against a provider's keys: shape, algorithm, key, signature, issuer,
//! audience, expiry and not-before. Shared by the OIDC and Cloudflare Access validators, which
//! turn a [`Rejection`] into their own kind of refusal.
//!
//! The header is read before any cryptography: only asymmetric algorithms are accepted (never
//! `none`, never HMAC), critical header extensions are refused, and the algorithm must suit the
//! key the token names. `jsonwebtoken` then checks the signature and the registered claims.

use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::Value;

use crate::jwks::{JwksCache, Lookup};
use crate::refusal::{FailureReason, MAX_TOKEN_BYTES};

/// The algorithms a token may be signed with, for messages.
pub(crate) const ACCEPTED_ALGS: &str =
    "RS256, RS384, RS512, PS256, PS384, PS512, ES256, ES384, EdDSA";

/// Longest key id accepted in a token header.
const MAX_KID: usize = 256;

/// The asymmetric signature algorithm named `name`, if it is one we accept.
pub(crate) fn asymmetric_alg(name: &str) -> Option<Algorithm> {
    Some(match name {
        "RS256" => Algorithm::RS256,
        "RS384" => Algorithm::RS384,
        "RS512" => Algorithm::RS512,
        "PS256" => Algorithm::PS256,
        "PS384" => Algorithm::PS384,
        "PS512" => Algorithm::PS512,
        "ES256" => Algorithm::ES256,
        "ES384" => Algorithm::ES384,
        "EdDSA" => Algorithm::EdDSA,
        _ => return None,
    })
}

/// Why a token was not accepted; never quotes the token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rejection {
    pub(crate) reason: FailureReason,
    pub(crate) description: String,
}

fn reject(reason: FailureReason, description: impl Into<String>) -> Rejection {
    Rejection {
        reason,
        description: description.into(),
    }
}

/// What a token must say about itself.
#[derive(Debug, Clone)]
pub(crate) struct Expectations {
    pub(crate) issuer: String,
    pub(crate) audience: String,
    pub(crate) leeway: Duration,
    /// Whether `sub` must be present and non-empty.
    pub(crate) require_sub: bool,
}

impl Expectations {
    fn validation(&self, alg: Algorithm) -> Validation {
        let mut v = Validation::new(alg);
        v.leeway = self.leeway.as_secs();
        v.validate_exp = true;
        v.validate_nbf = true;
        v.validate_aud = true;
        v.set_issuer(&[&self.issuer]);
        v.set_audience(&[&self.audience]);
        if self.require_sub {
            v.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
        } else {
            v.set_required_spec_claims(&["exp", "iss", "aud"]);
        }
        v
    }
}

/// The parts of a JWS header that matter before verification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct TokenHeader {
    pub(crate) alg: Algorithm,
    pub(crate) kid: Option<String>,
}

/// Reads and vets the header of a compact JWS.
pub(crate) fn read_header(token: &str) -> Result<TokenHeader, Rejection> {
    use FailureReason::{BadAlgorithm, Malformed};
    if token.len() > MAX_TOKEN_BYTES {
        return Err(reject(Malformed, "token is too long"));
    }
    let parts: Vec<&str> = token.split('.').collect();
    match parts.len() {
        3 => {}
        5 => return Err(reject(Malformed, "encrypted tokens (JWE) are not accepted")),
        _ => {
            return Err(reject(
                Malformed,
                "token is not a signed JWT (three base64url parts separated by dots)",
            ));
        }
    }
    let bytes = URL_SAFE_NO_PAD
        .decode(parts[0])
        .map_err(|_| reject(Malformed, "token header is not base64url"))?;
    let header: Value = serde_json::from_slice(&bytes)
        .map_err(|_| reject(Malformed, "token header is not JSON"))?;
    let Some(fields) = header.as_object() else {
        return Err(reject(Malformed, "token header is not a JSON object"));
    };
    let Some(alg) = fields.get("alg").and_then(Value::as_str) else {
        return Err(reject(Malformed, "token header names no algorithm (alg)"));
    };
    let Some(alg) = asymmetric_alg(alg) else {
        return Err(reject(
            BadAlgorithm,
            format!("token signing algorithm is not accepted; accepted: {ACCEPTED_ALGS}"),
        ));
    };
    if fields.contains_key("crit") {
        return Err(reject(
            Malformed,
            "token header marks extensions as critical (crit); none are supported",
        ));
    }
    let kid = match fields.get("kid") {
        None => None,
        Some(Value::String(kid)) if !kid.is_empty() && kid.len() <= MAX_KID => Some(kid.clone()),
        Some(_) => {
            return Err(reject(
                Malformed,
                "token key id (kid) is not a short non-empty string",
            ));
        }
    };
    Ok(TokenHeader { alg, kid })
}

/// Verifies `token` with `jwks` against `expect`; returns its claims.
pub(crate) async fn verify(
    token: &str,
    jwks: &JwksCache,
    expect: &Expectations,
) -> Result<Value, Rejection> {
    let header = read_header(token)?;
    let keys = match jwks.find(header.kid.as_deref()).await {
        Lookup::Found(keys) => keys,
        Lookup::Unknown => {
            return Err(reject(
                FailureReason::UnknownKey,
                "token was signed with a key the provider does not publish",
            ));
        }
        Lookup::Unreachable => {
            return Err(reject(
                FailureReason::ProviderUnreachable,
                "the identity provider's signing keys could not be fetched; try again later",
            ));
        }
    };
    let validation = expect.validation(header.alg);
    let mut last = reject(
        FailureReason::BadAlgorithm,
        "token signing algorithm does not suit the provider's key",
    );
    for key in keys.iter().filter(|k| k.fits(header.alg)) {
        match jsonwebtoken::decode::<Value>(token, &key.key, &validation) {
            Ok(data) => return check_claims(data.claims, expect),
            // Without a key id every fitting key is tried in turn.
            Err(e) => {
                last = map_error(e.kind());
                if last.reason != FailureReason::BadSignature || header.kid.is_some() {
                    return Err(last);
                }
            }
        }
    }
    Err(last)
}

/// What `jsonwebtoken` left to us: `iss` must be exactly one string, `sub` non-empty.
fn check_claims(claims: Value, expect: &Expectations) -> Result<Value, Rejection> {
    if claims.get("iss").and_then(Value::as_str) != Some(expect.issuer.as_str()) {
        return Err(reject(
            FailureReason::BadIssuer,
            "token was issued by another issuer",
        ));
    }
    if expect.require_sub
        && claims
            .get("sub")
            .and_then(Value::as_str)
            .is_none_or(str::is_empty)
    {
        return Err(reject(
            FailureReason::Malformed,
            "token has no subject (sub)",
        ));
    }
    Ok(claims)
}

fn map_error(kind: &ErrorKind) -> Rejection {
    use FailureReason as R;
    match kind {
        ErrorKind::InvalidSignature => reject(R::BadSignature, "token signature does not verify"),
        ErrorKind::InvalidEcdsaKey
        | ErrorKind::InvalidEddsaKey
        | ErrorKind::InvalidRsaKey(_)
        | ErrorKind::InvalidKeyFormat => reject(
            R::BadSignature,
            "token signature could not be checked against the provider's key",
        ),
        ErrorKind::ExpiredSignature => reject(R::Expired, "token expired"),
        ErrorKind::ImmatureSignature => reject(R::NotYetValid, "token is not valid yet (nbf)"),
        ErrorKind::InvalidIssuer => reject(R::BadIssuer, "token was issued by another issuer"),
        ErrorKind::InvalidAudience => {
            reject(R::BadAudience, "token is meant for another audience (aud)")
        }
        ErrorKind::InvalidAlgorithm
        | ErrorKind::MissingAlgorithm
        | ErrorKind::UnsupportedAlgorithm
        | ErrorKind::InvalidAlgorithmName => reject(
            R::BadAlgorithm,
            format!("token signing algorithm is not accepted; accepted: {ACCEPTED_ALGS}"),
        ),
        // The claim names come from our own required list, never from the token.
        ErrorKind::MissingRequiredClaim(claim) => reject(
            R::Malformed,
            format!("token lacks the required claim {}", known_claim(claim)),
        ),
        ErrorKind::InvalidClaimFormat(claim) => reject(
            R::Malformed,
            format!("token claim {} has the wrong type", known_claim(claim)),
        ),
        // `ErrorKind` is not ours and may grow; anything else is a shape problem.
        _ => reject(R::Malformed, "token is malformed"),
    }
}

/// A registered claim name as `"name"`, or a placeholder for anything unexpected.
fn known_claim(claim: &str) -> &'static str {
    match claim {
        "exp" => "\"exp\"",
        "nbf" => "\"nbf\"",
        "iss" => "\"iss\"",
        "aud" => "\"aud\"",
        "sub" => "\"sub\"",
        _ => "(a registered claim)",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token_with_header(header: &str) -> String {
        format!("{}.e30.c2ln", URL_SAFE_NO_PAD.encode(header))
    }

    #[test]
    fn only_asymmetric_algorithms_pass_the_header_check() {
        for alg in [
            "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
        ] {
            let h = read_header(&token_with_header(&format!(
                r#"{{"alg":"{alg}","kid":"k"}}"#
            )))
            .expect("accepted");
            assert_eq!(h.kid.as_deref(), Some("k"));
        }
        for alg in [
            "none", "None", "HS256", "HS384", "HS512", "ES512", "rs256", "",
        ] {
            let r =
                read_header(&token_with_header(&format!(r#"{{"alg":"{alg}"}}"#))).expect_err(alg);
            assert_eq!(r.reason, FailureReason::BadAlgorithm, "{alg}");
        }
    }

    #[test]
    fn odd_headers_are_malformed() {
        for (header, why) in [
            (r#"{"alg":"RS256","crit":["b64"]}"#, "crit"),
            (r#"{"alg":"RS256","kid":7}"#, "kid"),
            (r#"{"alg":"RS256","kid":""}"#, "kid"),
            (r#"{"typ":"JWT"}"#, "alg"),
            (r#"["RS256"]"#, "JSON object"),
            ("not json", "not JSON"),
        ] {
            let r = read_header(&token_with_header(header)).expect_err(header);
            assert_eq!(r.reason, FailureReason::Malformed, "{header}");
            assert!(r.description.contains(why), "{header}: {}", r.description);
        }
        for shape in ["abc", "a.b", "a.b.c.d", "a.b.c.d.e", "!!.e30.c2ln"] {
            let r = read_header(shape).expect_err(shape);
            assert_eq!(r.reason, FailureReason::Malformed);
        }
    }
}
