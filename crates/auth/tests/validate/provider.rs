//! Against a real OpenID provider: discovery, valid tokens, audience, issuer, key rotation, and
//! forgeries built from the provider's own tokens and keys.

use auth::{
    BearerError, FailureReason, Grant, OidcConfig, OidcValidator, Principal, PrincipalKind,
    Refusal, Role, Url, bearer_from_headers,
};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::json;

use crate::support::{AUDIENCE, Provider, client, hs256, payload};

fn refused(result: Result<Principal, Refusal>) -> Refusal {
    match result {
        Ok(p) => panic!("expected a refusal, got {p:?}"),
        Err(r) => r,
    }
}

fn project(s: &str) -> domain::ProjectRef {
    s.parse().expect("valid project")
}

fn operators() -> serde_json::Value {
    json!([
        client(
            "ops",
            "RS256",
            json!({ "roles": ["operator", "acme/web:approver", "superuser"] })
        ),
        client(
            "ec-ops",
            "ES256",
            json!({ "realm_access": { "roles": ["admin"] } })
        ),
    ])
}

#[tokio::test]
async fn a_valid_token_becomes_a_principal_with_its_grants() {
    let provider = Provider::start(operators()).await;
    eprintln!("oidc-provider started in {:?}", provider.started_in);
    let validator = provider.validator().await;
    assert_eq!(validator.issuer(), provider.issuer);

    let token = provider.token("ops", AUDIENCE, Some("viewer openid")).await;
    let principal = validator.validate(&token).await.expect("valid token");
    assert_eq!(principal.subject, "ops");
    assert_eq!(
        principal.display, "ops",
        "client_id is the best name a machine client has"
    );
    assert_eq!(principal.kind, PrincipalKind::Oidc);
    assert_eq!(
        principal.grants,
        vec![
            Grant::everywhere(Role::Operator),
            Grant::in_project(Role::Approver, project("acme/web")),
            Grant::everywhere(Role::Viewer),
        ],
        "roles claim, unknown role dropped, grant from the scope claim"
    );
    assert!(principal.has(Role::Approver, &project("acme/web")));
    assert!(!principal.has(Role::Approver, &project("acme/db")));
    assert!(!principal.has_anywhere(Role::Admin));
}

#[tokio::test]
async fn es256_tokens_and_nested_role_claims_work() {
    let provider = Provider::start(operators()).await;
    let config = OidcConfig {
        roles_claim: "realm_access.roles".to_owned(),
        ..provider.config()
    };
    let validator = OidcValidator::discover(config).await.expect("discovery");
    let token = provider.token("ec-ops", AUDIENCE, None).await;
    let header: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(token.split('.').next().expect("header"))
            .expect("base64url"),
    )
    .expect("JSON header");
    assert_eq!(header["alg"], "ES256");
    let principal = validator.validate(&token).await.expect("valid ES256 token");
    assert_eq!(principal.grants, vec![Grant::everywhere(Role::Admin)]);
}

#[tokio::test]
async fn a_token_for_another_audience_is_refused() {
    let provider = Provider::start(operators()).await;
    let validator = provider.validator().await;
    let token = provider.token("ops", "https://other.test/api", None).await;
    let r = refused(validator.validate(&token).await);
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.error, Some(BearerError::InvalidToken));
    assert_eq!(r.reason, FailureReason::BadAudience);
}

#[tokio::test]
async fn a_token_from_another_issuer_signed_with_the_same_keys_is_refused() {
    let ours = Provider::start(operators()).await;
    let validator = ours.validator().await;
    // A second provider at another address holding the very same private keys: the signature
    // verifies with a key we trust, only `iss` tells the tokens apart.
    let theirs = Provider::start_with(operators(), Some(ours.private_keys().await)).await;
    assert_ne!(ours.issuer, theirs.issuer);
    let token = theirs.token("ops", AUDIENCE, None).await;
    let r = refused(validator.validate(&token).await);
    assert_eq!(r.reason, FailureReason::BadIssuer, "{r}");
    // The same request to our provider is fine.
    let token = ours.token("ops", AUDIENCE, None).await;
    assert!(validator.validate(&token).await.is_ok());
}

#[tokio::test]
async fn after_a_key_rotation_the_new_kid_is_accepted_after_one_refetch() {
    let provider = Provider::start(operators()).await;
    let validator = provider.validator().await;
    let before = provider.token("ops", AUDIENCE, None).await;
    assert!(validator.validate(&before).await.is_ok());

    let fetches = provider.jwks_fetches().await;
    let kids = provider.rotate().await;
    let after = provider.token("ops", AUDIENCE, None).await;
    let header: serde_json::Value = serde_json::from_slice(
        &URL_SAFE_NO_PAD
            .decode(after.split('.').next().expect("header"))
            .expect("base64url"),
    )
    .expect("JSON header");
    assert!(
        kids.iter().any(|k| header["kid"] == k.as_str()),
        "the provider signs with its new key"
    );
    let principal = validator
        .validate(&after)
        .await
        .expect("the unknown kid triggers a refetch, then the token verifies");
    assert_eq!(principal.subject, "ops");
    assert_eq!(
        provider.jwks_fetches().await,
        fetches + 1,
        "exactly one refetch"
    );
    assert!(
        validator.validate(&before).await.is_ok(),
        "the old key is still published, so older tokens still verify"
    );
}

#[tokio::test]
async fn a_withdrawn_key_is_refused_once_the_keys_are_expired_and_not_before() {
    let provider = Provider::start(operators()).await;
    let validator = provider.validator().await;
    let old = provider.token("ops", AUDIENCE, None).await;
    assert!(validator.validate(&old).await.is_ok());

    provider.withdraw().await;
    assert!(
        validator.validate(&old).await.is_ok(),
        "known keys are trusted until they age out or are expired"
    );
    let fetches = provider.jwks_fetches().await;
    validator.expire_keys();
    let refusal = refused(validator.validate(&old).await);
    assert_eq!(refusal.status, StatusCode::UNAUTHORIZED);
    assert_eq!(refusal.reason, FailureReason::UnknownKey);
    assert_eq!(
        provider.jwks_fetches().await,
        fetches + 1,
        "expiring fetches once, whatever the refetch floor"
    );
    let new = provider.token("ops", AUDIENCE, None).await;
    assert!(validator.validate(&new).await.is_ok());
    assert_eq!(provider.jwks_fetches().await, fetches + 1);
}

#[tokio::test]
async fn a_tampered_payload_fails_the_signature_check() {
    let provider = Provider::start(operators()).await;
    let validator = provider.validator().await;
    let token = provider.token("ops", AUDIENCE, None).await;
    let mut claims = payload(&token);
    claims["roles"] = json!(["admin"]);
    let parts: Vec<&str> = token.split('.').collect();
    let forged = format!(
        "{}.{}.{}",
        parts[0],
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        parts[2]
    );
    let r = refused(validator.validate(&forged).await);
    assert_eq!(r.reason, FailureReason::BadSignature);
    assert!(
        !r.description.contains(parts[2]),
        "the token is never echoed"
    );
}

#[tokio::test]
async fn hs256_signed_with_the_providers_public_key_is_refused() {
    let provider = Provider::start(operators()).await;
    let validator = provider.validator().await;
    let token = provider.token("ops", AUDIENCE, None).await;
    let mut claims = payload(&token);
    claims["roles"] = json!(["admin"]);
    let jwks = provider.jwks().await;
    let rsa = jwks["keys"]
        .as_array()
        .and_then(|keys| keys.iter().find(|k| k["kty"] == "RSA"))
        .expect("an RSA key")
        .clone();
    let kid = rsa["kid"].as_str().expect("kid");
    let n = URL_SAFE_NO_PAD
        .decode(rsa["n"].as_str().expect("n"))
        .expect("n bytes");
    // The classic confusion: the public key, in every form an attacker might guess, as an
    // HMAC secret, with and without the key's kid.
    let secrets: Vec<Vec<u8>> = vec![
        rsa.to_string().into_bytes(),
        jwks.to_string().into_bytes(),
        n,
    ];
    for secret in &secrets {
        for header in [
            json!({ "alg": "HS256", "typ": "at+jwt", "kid": kid }),
            json!({ "alg": "HS256" }),
        ] {
            let forged = hs256(&header, &claims, secret);
            let r = refused(validator.validate(&forged).await);
            assert_eq!(r.reason, FailureReason::BadAlgorithm, "{header}");
            assert_eq!(r.error, Some(BearerError::InvalidToken));
        }
    }
}

#[tokio::test]
async fn discovery_refuses_plain_http_to_a_host_that_is_not_loopback() {
    // Refused by rule before any request is made, so no traffic leaves the machine.
    for issuer in [
        "http://id.example.com",
        "http://10.1.2.3:8080/realms/ops",
        "http://127.0.0.1.nip.io",
    ] {
        let config = OidcConfig::new(Url::parse(issuer).expect("URL"), AUDIENCE);
        let err = OidcValidator::discover(config)
            .await
            .expect_err(issuer)
            .to_string();
        assert!(
            err.contains("https is required; plain http is allowed only for a loopback host"),
            "{err}"
        );
    }
}

#[tokio::test]
async fn a_request_without_a_token_gets_a_bare_challenge() {
    let headers = HeaderMap::new();
    assert_eq!(bearer_from_headers(&headers), Ok(None));
    let r = Refusal::missing();
    assert_eq!(r.status, StatusCode::UNAUTHORIZED);
    assert_eq!(r.reason, FailureReason::Missing);
    assert_eq!(
        r.www_authenticate(
            "http://127.0.0.1:1/.well-known/oauth-protected-resource",
            None
        ),
        "Bearer resource_metadata=\"http://127.0.0.1:1/.well-known/oauth-protected-resource\""
    );
    let mut basic = HeaderMap::new();
    basic.insert("authorization", HeaderValue::from_static("Basic YTpi"));
    assert_eq!(bearer_from_headers(&basic), Ok(None));
}

#[tokio::test]
async fn a_header_token_from_the_provider_round_trips_through_bearer_from_headers() {
    let provider = Provider::start(operators()).await;
    let validator = provider.validator().await;
    let token = provider.token("ops", AUDIENCE, None).await;
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("bearer {token}")).expect("header"),
    );
    let bearer = bearer_from_headers(&headers)
        .expect("well-formed")
        .expect("present");
    let fetches = provider.jwks_fetches().await;
    assert!(validator.validate(bearer).await.is_ok());
    assert_eq!(
        provider.jwks_fetches().await,
        fetches,
        "a cached key needs no request to the provider"
    );
}
