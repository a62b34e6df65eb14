//! Bearer tokens from an OpenID provider: discovery at start, then per-request verification of
//! JWT access tokens into a [`Principal`].
//!
//! Discovery fetches `{issuer}/.well-known/openid-configuration`, insists that the document's
//! `issuer` is the configured one (OpenID Connect Discovery §4.3: otherwise a document served
//! at one address could vouch for tokens of another), and loads the keys at its `jwks_uri`.
//! Every provider URL must be https, except on a loopback host.

use std::time::Duration;

use reqwest::Url;
use serde_json::Value;

use crate::claims::{printable, roles_from_claims};
use crate::error::AuthError;
use crate::fetch::{Fetcher, check_url};
use crate::jwks::JwksCache;
use crate::jwt::{Expectations, verify};
use crate::principal::{Principal, PrincipalKind};
use crate::refusal::{FailureReason, Refusal};

/// How to trust an OpenID provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OidcConfig {
    /// The issuer identifier, exactly as the provider writes it in `iss` (`OIDC_ISSUER`).
    pub issuer: Url,
    /// The value a token's `aud` must contain (`OIDC_AUDIENCE`): this server's resource URL or
    /// the identifier the provider uses for it.
    pub audience: String,
    /// Where roles are read from: a top-level claim name or a dotted path
    /// (`realm_access.roles`). The `scope` claim is always read as well.
    pub roles_claim: String,
    /// Clock skew tolerated on `exp` and `nbf`.
    pub leeway: Duration,
    /// At most one refetch of the provider's keys per this interval.
    pub jwks_refetch_floor: Duration,
    /// Keys older than this are refetched (subject to the floor), so a withdrawn key stops
    /// being accepted.
    pub jwks_max_age: Duration,
    /// Bound on each request to the provider (connect, send, read).
    pub http_timeout: Duration,
}

impl OidcConfig {
    /// The default roles claim.
    pub const DEFAULT_ROLES_CLAIM: &'static str = "roles";

    /// A configuration with the defaults: roles from `roles`, 30 s leeway, 30 s refetch floor,
    /// keys refreshed after 10 minutes, 10 s HTTP timeout.
    pub fn new(issuer: Url, audience: impl Into<String>) -> Self {
        Self {
            issuer,
            audience: audience.into(),
            roles_claim: Self::DEFAULT_ROLES_CLAIM.to_owned(),
            leeway: Duration::from_secs(30),
            jwks_refetch_floor: Duration::from_secs(30),
            jwks_max_age: Duration::from_secs(600),
            http_timeout: Duration::from_secs(10),
        }
    }

    fn check(&self) -> Result<(), AuthError> {
        let invalid = |what, detail: &str| {
            Err(AuthError::InvalidConfig {
                what,
                detail: detail.to_owned(),
            })
        };
        check_url("issuer", &self.issuer)?;
        if self.issuer.query().is_some() || self.issuer.fragment().is_some() {
            return invalid(
                "issuer",
                "an issuer identifier has no query or fragment (OpenID Connect Discovery §2)",
            );
        }
        if self.audience.trim().is_empty() {
            return invalid("audience", "must not be empty");
        }
        if self.roles_claim.trim().is_empty() {
            return invalid("roles claim", "must not be empty");
        }
        if self.http_timeout.is_zero() {
            return invalid("HTTP timeout", "must be more than zero");
        }
        Ok(())
    }
}

/// Verifies access tokens from one OpenID provider.
#[derive(Debug)]
pub struct OidcValidator {
    roles_claim: String,
    expect: Expectations,
    jwks: JwksCache,
}

impl OidcValidator {
    /// Discovers the provider and loads its keys. Fails with a message naming the rule broken
    /// or the document that could not be read.
    pub async fn discover(config: OidcConfig) -> Result<Self, AuthError> {
        let found = discover_provider(&config).await?;
        Ok(Self {
            roles_claim: config.roles_claim,
            expect: Expectations {
                issuer: found.issuer,
                audience: config.audience,
                leeway: config.leeway,
                require_sub: true,
            },
            jwks: found.jwks,
        })
    }

    /// The issuer tokens must carry (as the provider writes it), for the protected-resource
    /// metadata's `authorization_servers`.
    pub fn issuer(&self) -> &str {
        &self.expect.issuer
    }

    /// The audience tokens must carry.
    pub fn audience(&self) -> &str {
        &self.expect.audience
    }

    /// Fetches the provider's signing keys anew on the next token (SIGHUP: a key withdrawn in
    /// an emergency stops being accepted without a restart).
    pub fn expire_keys(&self) {
        self.jwks.expire();
    }

    /// Verifies a bearer token and returns who it names, with the grants its claims carry.
    pub async fn validate(&self, bearer: &str) -> Result<Principal, Refusal> {
        let claims = match verify(bearer, &self.jwks, &self.expect).await {
            Ok(claims) => claims,
            Err(r) if r.reason == FailureReason::ProviderUnreachable => {
                return Err(Refusal::provider_unreachable());
            }
            Err(r) => return Err(Refusal::invalid_token(r.reason, r.description)),
        };
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

/// What discovery found: the provider's issuer (as it writes it), its discovery document, a
/// client for further requests and its signing keys, loaded.
pub(crate) struct Discovered {
    pub(crate) issuer: String,
    pub(crate) doc: Value,
    pub(crate) fetcher: Fetcher,
    pub(crate) jwks: JwksCache,
}

/// Reads `{issuer}/.well-known/openid-configuration`, checks its issuer is the configured one
/// and loads the keys at its `jwks_uri`.
pub(crate) async fn discover_provider(config: &OidcConfig) -> Result<Discovered, AuthError> {
    config.check()?;
    let fetcher = Fetcher::new(config.http_timeout, config.issuer.scheme() == "https")?;
    let configured = config.issuer.as_str();
    let discovery_url = Url::parse(&format!(
        "{}/.well-known/openid-configuration",
        configured.trim_end_matches('/')
    ))
    .map_err(|e| AuthError::InvalidConfig {
        what: "issuer",
        detail: format!("no discovery URL can be formed: {e}"),
    })?;
    let doc = fetcher.json("discovery document", &discovery_url).await?;
    let fail = |detail: &str| AuthError::Fetch {
        what: "discovery document",
        url: discovery_url.to_string(),
        detail: detail.to_owned(),
    };
    let advertised = doc
        .get("issuer")
        .and_then(Value::as_str)
        .ok_or_else(|| fail("it has no \"issuer\""))?;
    if !same_issuer(&config.issuer, advertised) {
        return Err(AuthError::IssuerMismatch {
            url: discovery_url.to_string(),
            configured: configured.to_owned(),
            advertised: printable(advertised),
        });
    }
    let jwks_uri = doc
        .get("jwks_uri")
        .and_then(Value::as_str)
        .ok_or_else(|| fail("it has no \"jwks_uri\""))?;
    let jwks_uri = Url::parse(jwks_uri).map_err(|_| fail("its \"jwks_uri\" is not a URL"))?;
    check_url("jwks_uri", &jwks_uri)?;
    let jwks = JwksCache::new(
        jwks_uri,
        fetcher.clone(),
        config.jwks_refetch_floor,
        config.jwks_max_age,
    );
    jwks.prime().await?;
    tracing::info!(issuer = advertised, "OpenID provider discovered");
    Ok(Discovered {
        issuer: advertised.to_owned(),
        doc,
        fetcher,
        jwks,
    })
}

/// The configured issuer and the advertised one are the same text, allowing only for the
/// trailing slash a URL type adds to a bare origin (`https://id.example.com` is kept as
/// `https://id.example.com/`).
fn same_issuer(configured: &Url, advertised: &str) -> bool {
    let text = configured.as_str();
    advertised == text || (configured.path() == "/" && format!("{advertised}/") == text)
}

/// What to show a person: the first of `preferred_username`, `email`, `name`, `client_id`
/// that the token has, else the subject.
pub(crate) fn display_name(claims: &Value, subject: &str) -> String {
    ["preferred_username", "email", "name", "client_id"]
        .iter()
        .filter_map(|c| claims.get(*c).and_then(Value::as_str))
        .find(|s| !s.trim().is_empty())
        .map_or_else(|| printable(subject), printable)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn issuers_compare_exactly_except_for_a_bare_origin_slash() {
        let bare = Url::parse("https://id.example.com").expect("url");
        assert!(same_issuer(&bare, "https://id.example.com"));
        assert!(same_issuer(&bare, "https://id.example.com/"));
        assert!(!same_issuer(&bare, "https://id.example.com:443"));
        assert!(!same_issuer(&bare, "https://evil.example.com"));
        let realm = Url::parse("https://id.example.com/realms/ops").expect("url");
        assert!(same_issuer(&realm, "https://id.example.com/realms/ops"));
        assert!(!same_issuer(&realm, "https://id.example.com/realms/ops/"));
        assert!(!same_issuer(&realm, "https://id.example.com/realms/other"));
    }

    #[test]
    fn display_names_prefer_what_a_person_recognises() {
        let claims = json!({ "sub": "8f1c", "email": "ana@example.com", "client_id": "cli" });
        assert_eq!(display_name(&claims, "8f1c"), "ana@example.com");
        assert_eq!(
            display_name(&json!({ "preferred_username": " " }), "8f1c"),
            "8f1c"
        );
        assert_eq!(display_name(&json!({ "name": "A\u{0}B" }), "x"), "A?B");
    }

    #[tokio::test]
    async fn configuration_mistakes_are_named_before_any_request() {
        let url = |s: &str| Url::parse(s).expect("url");
        let cases = [
            (
                OidcConfig::new(url("http://id.example.com"), "aud"),
                "https is required",
            ),
            (
                OidcConfig::new(url("https://id.example.com/?x=1"), "aud"),
                "no query or fragment",
            ),
            (
                OidcConfig::new(url("https://id.example.com"), " "),
                "invalid audience",
            ),
            (
                OidcConfig {
                    roles_claim: String::new(),
                    ..OidcConfig::new(url("https://id.example.com"), "aud")
                },
                "invalid roles claim",
            ),
        ];
        for (config, want) in cases {
            let err = OidcValidator::discover(config)
                .await
                .expect_err(want)
                .to_string();
            assert!(err.contains(want), "{err}");
        }
    }
}
