//! Signing a person in through the OpenID provider: the authorization code flow with PKCE, for
//! the web console.
//!
//! [`OidcLogin::begin`] makes a fresh `state`, `nonce` and PKCE verifier (256 random bits each)
//! and the provider URL to send the browser to; the caller keeps the three until the callback.
//! [`OidcLogin::finish`] exchanges the code (client authentication with the client secret,
//! the PKCE verifier proving the same party started the flow) and verifies the ID token the
//! provider returns exactly as bearer tokens are verified — an asymmetric signature under a key
//! the provider publishes, `iss` the configured issuer, `exp`/`nbf` with leeway — with `aud`
//! containing the client id, `azp` (when present) the client id, and `nonce` the one this
//! sign-in made. The principal it names carries the grants of the roles claim, as for bearer
//! tokens. The client secret and the verifier never appear in errors, logs or `Debug`.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use reqwest::Url;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::api_token::constant_time_eq;
use crate::claims::roles_from_claims;
use crate::error::AuthError;
use crate::fetch::{Fetcher, check_url};
use crate::jwks::JwksCache;
use crate::jwt::{Expectations, verify};
use crate::oidc::{OidcConfig, discover_provider, display_name};
use crate::principal::{Principal, PrincipalKind};

/// The console as a client of the OpenID provider.
pub struct OidcLogin {
    client_id: String,
    client_secret: SecretString,
    redirect_uri: Url,
    authorization_endpoint: Url,
    token_endpoint: Url,
    roles_claim: String,
    expect: Expectations,
    jwks: JwksCache,
    fetcher: Fetcher,
}

impl std::fmt::Debug for OidcLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OidcLogin")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<hidden>")
            .field("redirect_uri", &self.redirect_uri.as_str())
            .field("issuer", &self.expect.issuer)
            .finish_non_exhaustive()
    }
}

/// A sign-in just begun: where to send the browser, and what the callback is checked against.
pub struct LoginStart {
    /// The provider's authorization URL with every parameter.
    pub url: Url,
    /// The `state` sent (compare with the callback's, then look the rest up by it).
    pub state: String,
    /// The `nonce` the ID token must carry.
    pub nonce: String,
    /// The PKCE verifier (its S256 challenge was sent).
    pub verifier: SecretString,
}

impl std::fmt::Debug for LoginStart {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginStart(<hidden>)")
    }
}

/// Why a sign-in did not complete. The messages name what failed, never a secret or a token.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoginError {
    /// The provider did not answer the code exchange as expected.
    #[error("the identity provider refused the sign-in: {0}")]
    Exchange(String),
    /// The ID token did not verify.
    #[error("the identity provider's ID token was refused: {0}")]
    IdToken(String),
    /// Randomness failed.
    #[error("the operating system's random number generator failed")]
    Random,
}

/// 256 random bits, base64url without padding (43 characters).
pub fn random_token() -> Result<String, AuthError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|_| AuthError::Random)?;
    Ok(URL_SAFE_NO_PAD.encode(bytes))
}

/// The PKCE S256 challenge of a verifier (RFC 7636 §4.2).
pub fn pkce_challenge(verifier: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()))
}

impl OidcLogin {
    /// Discovers the provider (as [`crate::OidcValidator::discover`] does; `config.audience`
    /// is ignored: ID tokens are for `client_id`) and reads its authorization and token
    /// endpoints.
    pub async fn discover(
        config: OidcConfig,
        client_id: String,
        client_secret: SecretString,
        redirect_uri: Url,
    ) -> Result<Self, AuthError> {
        if client_id.trim().is_empty() {
            return Err(AuthError::InvalidConfig {
                what: "client id",
                detail: "must not be empty".into(),
            });
        }
        if client_secret.expose_secret().is_empty() {
            return Err(AuthError::InvalidConfig {
                what: "client secret",
                detail: "must not be empty".into(),
            });
        }
        let config = OidcConfig {
            audience: client_id.clone(),
            ..config
        };
        let found = discover_provider(&config).await?;
        let endpoint =
            |name: &'static str| -> Result<Url, AuthError> {
                let text = found.doc.get(name).and_then(Value::as_str).ok_or_else(|| {
                    AuthError::Fetch {
                        what: "discovery document",
                        url: config.issuer.to_string(),
                        detail: format!("it has no \"{name}\""),
                    }
                })?;
                let url = Url::parse(text).map_err(|_| AuthError::Fetch {
                    what: "discovery document",
                    url: config.issuer.to_string(),
                    detail: format!("its \"{name}\" is not a URL"),
                })?;
                check_url(name, &url)?;
                Ok(url)
            };
        let authorization_endpoint = endpoint("authorization_endpoint")?;
        let token_endpoint = endpoint("token_endpoint")?;
        Ok(Self {
            client_id: client_id.clone(),
            client_secret,
            redirect_uri,
            authorization_endpoint,
            token_endpoint,
            roles_claim: config.roles_claim.clone(),
            expect: Expectations {
                issuer: found.issuer,
                audience: client_id,
                leeway: config.leeway,
                require_sub: true,
            },
            jwks: found.jwks,
            fetcher: found.fetcher,
        })
    }

    /// The redirect URI the provider sends the browser back to.
    pub fn redirect_uri(&self) -> &Url {
        &self.redirect_uri
    }

    /// A fresh sign-in: `state`, `nonce`, PKCE verifier and the authorization URL.
    pub fn begin(&self) -> Result<LoginStart, AuthError> {
        let state = random_token()?;
        let nonce = random_token()?;
        let verifier = random_token()?;
        let mut url = self.authorization_endpoint.clone();
        url.query_pairs_mut()
            .append_pair("response_type", "code")
            .append_pair("client_id", &self.client_id)
            .append_pair("redirect_uri", self.redirect_uri.as_str())
            .append_pair("scope", "openid profile")
            .append_pair("state", &state)
            .append_pair("nonce", &nonce)
            .append_pair("code_challenge", &pkce_challenge(&verifier))
            .append_pair("code_challenge_method", "S256");
        Ok(LoginStart {
            url,
            state,
            nonce,
            verifier: SecretString::from(verifier),
        })
    }

    /// Exchanges `code` and verifies the ID token against `nonce`; the principal it names.
    pub async fn finish(
        &self,
        code: &str,
        verifier: &SecretString,
        nonce: &str,
    ) -> Result<Principal, LoginError> {
        let answer = self
            .fetcher
            .post_form(
                "token response",
                &self.token_endpoint,
                (&self.client_id, self.client_secret.expose_secret()),
                &[
                    ("grant_type", "authorization_code"),
                    ("code", code),
                    ("redirect_uri", self.redirect_uri.as_str()),
                    ("code_verifier", verifier.expose_secret()),
                ],
            )
            .await
            .map_err(|e| LoginError::Exchange(e.to_string()))?;
        let id_token = answer
            .get("id_token")
            .and_then(Value::as_str)
            .ok_or_else(|| LoginError::Exchange("the token response has no id_token".into()))?;
        self.verify_id_token(id_token, nonce).await
    }

    /// Verifies an ID token: signature, issuer, audience (the client id), times, `azp` and the
    /// sign-in's `nonce`.
    pub async fn verify_id_token(
        &self,
        id_token: &str,
        nonce: &str,
    ) -> Result<Principal, LoginError> {
        let claims = verify(id_token, &self.jwks, &self.expect)
            .await
            .map_err(|r| LoginError::IdToken(r.description))?;
        if let Some(azp) = claims.get("azp")
            && azp.as_str() != Some(self.client_id.as_str())
        {
            return Err(LoginError::IdToken(
                "its azp names another client than this console".into(),
            ));
        }
        let carried = claims.get("nonce").and_then(Value::as_str).unwrap_or("");
        if carried.is_empty() || !constant_time_eq(carried.as_bytes(), nonce.as_bytes()) {
            return Err(LoginError::IdToken(
                "its nonce is not the one this sign-in sent (a replayed or foreign token)".into(),
            ));
        }
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned();
        let (grants, ignored) = roles_from_claims(&claims, &self.roles_claim);
        if !ignored.is_empty() {
            tracing::debug!(subject = %subject, ?ignored, "role entries ignored");
        }
        Ok(Principal {
            display: display_name(&claims, &subject),
            subject,
            kind: PrincipalKind::Oidc,
            grants,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pkce_challenge_is_base64url_of_the_sha256() {
        // Computed independently: base64.urlsafe_b64encode(hashlib.sha256(v).digest()) without
        // padding, in Python.
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mJ0DYmx4g3jZDrOy8ypkLlqMJ9uYqQ"),
            "YTx2eNkzHdXnIj5GgGXwQi9M-3OoicW_mfxuYI4UqgA"
        );
    }

    #[test]
    fn random_tokens_are_256_bits_and_differ() {
        let a = random_token().expect("random");
        let b = random_token().expect("random");
        assert_eq!(a.len(), 43);
        assert_ne!(a, b);
    }
}
