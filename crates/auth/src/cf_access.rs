//! Cloudflare Access: the signed `Cf-Access-Jwt-Assertion` header Cloudflare adds to every
//! request that passed an Access policy on its way through a tunnel.
//!
//! The assertion is a JWT signed with the team's keys, published at
//! `https://<team>.cloudflareaccess.com/cdn-cgi/access/certs`; its `iss` is the team domain
//! and its `aud` contains the application's AUD tag. Keys are cached and refetched with the
//! same floor as the OIDC validator's. A person's assertion carries `email` and `sub`; a
//! service token's carries `common_name` (the client id) and an empty `sub`.

use std::time::Duration;

use http::HeaderMap;
use reqwest::Url;
use serde_json::Value;

use crate::claims::{printable, roles_from_claims};
use crate::error::AuthError;
use crate::fetch::{Fetcher, check_url};
use crate::jwks::JwksCache;
use crate::jwt::{Expectations, verify};
use crate::principal::{Principal, PrincipalKind};
use crate::refusal::Refusal;

/// The header Cloudflare Access puts the assertion in.
pub const CF_ACCESS_HEADER: &str = "cf-access-jwt-assertion";

const TEAM_RULE: &str = "expected the team's host name, such as myteam.cloudflareaccess.com";

/// Verifies Cloudflare Access assertions for one application.
#[derive(Debug)]
pub struct CfAccessValidator {
    expect: Expectations,
    jwks: JwksCache,
    roles_claim: Option<String>,
}

impl CfAccessValidator {
    /// A validator for the team `team_domain` (`myteam.cloudflareaccess.com`) and the
    /// application AUD tag `aud`. Keys are fetched over https on first use.
    pub fn new(team_domain: String, aud: String) -> Result<Self, AuthError> {
        let team = team_domain.trim().to_ascii_lowercase();
        let valid = !team.is_empty()
            && team.len() <= 253
            && team.contains('.')
            && team.split('.').all(|l| {
                !l.is_empty() && l.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !valid {
            return Err(AuthError::InvalidConfig {
                what: "Cloudflare Access team domain",
                detail: format!("\"{}\": {TEAM_RULE}", printable(&team_domain)),
            });
        }
        let certs = Url::parse(&format!("https://{team}/cdn-cgi/access/certs")).map_err(|e| {
            AuthError::InvalidConfig {
                what: "Cloudflare Access team domain",
                detail: format!("{e}; {TEAM_RULE}"),
            }
        })?;
        Self::build(certs, format!("https://{team}"), aud)
    }

    /// A validator with explicit endpoints: keys at `certs_url` (https, or http on a loopback
    /// host) and assertions issued by `issuer`. For Access-compatible gateways and tests.
    pub fn with_endpoints(certs_url: Url, issuer: String, aud: String) -> Result<Self, AuthError> {
        Self::build(certs_url, issuer, aud)
    }

    fn build(certs_url: Url, issuer: String, aud: String) -> Result<Self, AuthError> {
        check_url("Cloudflare Access certs URL", &certs_url)?;
        if aud.trim().is_empty() {
            return Err(AuthError::InvalidConfig {
                what: "Cloudflare Access audience",
                detail: "must not be empty (the application's AUD tag)".to_owned(),
            });
        }
        let timeout = Duration::from_secs(10);
        let fetcher = Fetcher::new(timeout, certs_url.scheme() == "https")?;
        Ok(Self {
            expect: Expectations {
                issuer,
                audience: aud,
                leeway: Duration::from_secs(30),
                require_sub: false,
            },
            jwks: JwksCache::new(
                certs_url,
                fetcher,
                Duration::from_secs(30),
                Duration::from_secs(600),
            ),
            roles_claim: None,
        })
    }

    /// Reads grants from `claim` (as [`crate::roles_from_claims`] does); without it an Access
    /// principal holds no grants and only proves who passed the Access policy.
    pub fn with_roles_claim(mut self, claim: impl Into<String>) -> Self {
        self.roles_claim = Some(claim.into());
        self
    }

    /// Fetches the team's certificates anew on the next assertion.
    pub fn expire_keys(&self) {
        self.jwks.expire();
    }

    /// Verifies the assertion in `headers`; exactly one `Cf-Access-Jwt-Assertion` must be
    /// present.
    pub async fn validate_headers(&self, headers: &HeaderMap) -> Result<Principal, Refusal> {
        let mut values = headers.get_all(CF_ACCESS_HEADER).iter();
        let Some(value) = values.next() else {
            return Err(Refusal::cf_access(
                "the Cf-Access-Jwt-Assertion header is missing",
            ));
        };
        if values.next().is_some() {
            return Err(Refusal::cf_access(
                "more than one Cf-Access-Jwt-Assertion header",
            ));
        }
        let assertion = value.to_str().map_err(|_| {
            Refusal::cf_access("the Cf-Access-Jwt-Assertion header is not visible ASCII")
        })?;
        self.validate(assertion.trim()).await
    }

    /// Verifies one assertion.
    pub async fn validate(&self, assertion: &str) -> Result<Principal, Refusal> {
        let claims = verify(assertion, &self.jwks, &self.expect)
            .await
            .map_err(|r| Refusal::cf_access(r.description))?;
        let text = |name: &str| {
            claims
                .get(name)
                .and_then(Value::as_str)
                .filter(|s| !s.trim().is_empty())
        };
        let Some(subject) = text("sub").or_else(|| text("common_name")) else {
            return Err(Refusal::cf_access(
                "the assertion names no subject (sub or common_name)",
            ));
        };
        let display = text("email")
            .or_else(|| text("common_name"))
            .unwrap_or(subject);
        let grants = match &self.roles_claim {
            Some(claim) => {
                let (grants, ignored) = roles_from_claims(&claims, claim);
                if !ignored.is_empty() {
                    tracing::debug!(subject, ?ignored, "role entries ignored");
                }
                grants
            }
            None => Vec::new(),
        };
        Ok(Principal {
            subject: printable(subject),
            display: printable(display),
            kind: PrincipalKind::CloudflareAccess,
            grants,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_public_constructor_takes_a_host_name_and_uses_https() {
        let v = CfAccessValidator::new("MyTeam.cloudflareaccess.com".into(), "tag".into())
            .expect("valid team");
        assert_eq!(v.expect.issuer, "https://myteam.cloudflareaccess.com");
        for bad in [
            "",
            "myteam",
            "https://myteam.cloudflareaccess.com",
            "myteam.cloudflareaccess.com/path",
            "my team.cloudflareaccess.com",
            "a..b",
        ] {
            let err = CfAccessValidator::new(bad.into(), "tag".into())
                .expect_err(bad)
                .to_string();
            assert!(err.contains("team's host name"), "{bad}: {err}");
        }
        let err = CfAccessValidator::new("t.cloudflareaccess.com".into(), " ".into())
            .expect_err("empty aud")
            .to_string();
        assert!(err.contains("AUD tag"), "{err}");
    }

    #[test]
    fn explicit_endpoints_still_follow_the_https_rule() {
        let plain = Url::parse("http://certs.example.com/certs").expect("url");
        let err = CfAccessValidator::with_endpoints(plain, "https://x".into(), "tag".into())
            .expect_err("plain http off loopback")
            .to_string();
        assert!(err.contains("https is required"), "{err}");
        let local = Url::parse("http://127.0.0.1:9/certs").expect("url");
        assert!(
            CfAccessValidator::with_endpoints(local, "http://127.0.0.1:9".into(), "t".into())
                .is_ok()
        );
    }
}
