//! Tokens no real provider would sign, from a loopback issuer whose key the test holds:
//! expiry, not-before, `alg: none`, HMAC with the public key, tampering, missing claims,
//! floods of unknown key ids, and an unreachable key endpoint.

use std::sync::Arc;
use std::time::Duration;

use auth::{AuthError, FailureReason, OidcConfig, OidcValidator, Principal, Refusal, Url};
use jsonwebtoken::{Algorithm, Header};
use serde_json::json;
use tokio::task::JoinSet;

use crate::support::{AUDIENCE, FakeIssuer, hs256, now, rand_u64, raw_token};

fn refused(result: Result<Principal, Refusal>) -> Refusal {
    match result {
        Ok(p) => panic!("expected a refusal, got {p:?}"),
        Err(r) => r,
    }
}

async fn setup() -> (FakeIssuer, OidcValidator) {
    let issuer = FakeIssuer::start().await;
    let validator = OidcValidator::discover(issuer.config())
        .await
        .expect("discovery against the loopback issuer");
    (issuer, validator)
}

#[tokio::test]
async fn a_token_signed_by_the_test_key_is_accepted() {
    let (issuer, validator) = setup().await;
    let p = validator
        .validate(&issuer.sign(&issuer.claims()))
        .await
        .expect("valid");
    assert_eq!((p.subject.as_str(), p.display.as_str()), ("user-1", "ana"));
}

#[tokio::test]
async fn an_expired_token_is_refused_beyond_the_leeway_only() {
    let (issuer, validator) = setup().await;
    let mut claims = issuer.claims();
    claims["exp"] = json!(now() - 120);
    let r = refused(validator.validate(&issuer.sign(&claims)).await);
    assert_eq!(r.reason, FailureReason::Expired);
    assert_eq!(r.description, "token expired");
    assert_eq!(r.status, http::StatusCode::UNAUTHORIZED);

    claims["exp"] = json!(now() - 10);
    assert!(
        validator.validate(&issuer.sign(&claims)).await.is_ok(),
        "10 s past exp is within the 30 s leeway"
    );
}

#[tokio::test]
async fn a_token_not_valid_yet_is_refused() {
    let (issuer, validator) = setup().await;
    let mut claims = issuer.claims();
    claims["nbf"] = json!(now() + 300);
    let r = refused(validator.validate(&issuer.sign(&claims)).await);
    assert_eq!(r.reason, FailureReason::NotYetValid);
    claims["nbf"] = json!(now() + 10);
    assert!(
        validator.validate(&issuer.sign(&claims)).await.is_ok(),
        "within leeway"
    );
}

#[tokio::test]
async fn alg_none_is_refused_with_or_without_a_signature() {
    let (issuer, validator) = setup().await;
    let claims = issuer.claims();
    for header in [
        json!({ "alg": "none" }),
        json!({ "alg": "none", "kid": issuer.kid }),
        json!({ "alg": "None", "kid": issuer.kid }),
        json!({ "alg": "NONE" }),
    ] {
        for token in [
            raw_token(&header, &claims, b""),
            raw_token(&header, &claims, b"x"),
        ] {
            let r = refused(validator.validate(&token).await);
            assert_eq!(r.reason, FailureReason::BadAlgorithm, "{header}");
        }
    }
}

#[tokio::test]
async fn hmac_keyed_with_the_public_key_is_refused() {
    let (issuer, validator) = setup().await;
    let claims = issuer.claims();
    for alg in ["HS256", "HS384", "HS512"] {
        let header = json!({ "alg": alg, "kid": issuer.kid });
        let forged = hs256(&header, &claims, issuer.public_pem().as_bytes());
        let r = refused(validator.validate(&forged).await);
        assert_eq!(r.reason, FailureReason::BadAlgorithm, "{alg}");
    }
}

#[tokio::test]
async fn an_algorithm_that_does_not_suit_the_key_is_refused() {
    let (issuer, validator) = setup().await;
    // The key is P-256 (ES256); a header claiming ES384 or RS256 with its kid must not pass.
    for alg in ["ES384", "RS256", "PS256", "EdDSA"] {
        let token = raw_token(
            &json!({ "alg": alg, "kid": issuer.kid }),
            &issuer.claims(),
            &[1u8; 64],
        );
        let r = refused(validator.validate(&token).await);
        assert_eq!(r.reason, FailureReason::BadAlgorithm, "{alg}");
    }
}

#[tokio::test]
async fn a_tampered_payload_or_signature_is_refused() {
    let (issuer, validator) = setup().await;
    let token = issuer.sign(&issuer.claims());
    let parts: Vec<&str> = token.split('.').collect();
    let mut claims = issuer.claims();
    claims["roles"] = json!(["admin"]);
    let tampered = format!(
        "{}.{}.{}",
        parts[0],
        raw_token(&json!({}), &claims, b"")
            .split('.')
            .nth(1)
            .expect("payload"),
        parts[2]
    );
    let r = refused(validator.validate(&tampered).await);
    assert_eq!(r.reason, FailureReason::BadSignature);

    let mut sig = parts[2].to_owned();
    let flipped = if sig.ends_with('A') { 'B' } else { 'A' };
    sig.pop();
    sig.push(flipped);
    let r = refused(
        validator
            .validate(&format!("{}.{}.{sig}", parts[0], parts[1]))
            .await,
    );
    assert!(
        matches!(
            r.reason,
            FailureReason::BadSignature | FailureReason::Malformed
        ),
        "{r}"
    );
}

#[tokio::test]
async fn wrong_issuer_wrong_audience_and_missing_claims_are_refused() {
    let (issuer, validator) = setup().await;
    let cases = [
        ("iss", json!("http://127.0.0.1:1"), FailureReason::BadIssuer),
        ("iss", json!([issuer.issuer]), FailureReason::BadIssuer),
        (
            "aud",
            json!("https://other.test"),
            FailureReason::BadAudience,
        ),
        (
            "aud",
            json!(["https://other.test"]),
            FailureReason::BadAudience,
        ),
        ("sub", json!(""), FailureReason::Malformed),
    ];
    for (claim, value, want) in cases {
        let mut claims = issuer.claims();
        claims[claim] = value.clone();
        let r = refused(validator.validate(&issuer.sign(&claims)).await);
        assert_eq!(r.reason, want, "{claim} = {value}");
    }
    let mut claims = issuer.claims();
    claims["aud"] = json!(["https://other.test", AUDIENCE]);
    assert!(
        validator.validate(&issuer.sign(&claims)).await.is_ok(),
        "an audience list that contains ours is fine"
    );
    for claim in ["exp", "sub", "iss", "aud"] {
        let mut claims = issuer.claims();
        claims.as_object_mut().expect("object").remove(claim);
        let r = refused(validator.validate(&issuer.sign(&claims)).await);
        assert_eq!(r.reason, FailureReason::Malformed, "without {claim}");
        assert!(r.description.contains(claim), "{}", r.description);
    }
}

#[tokio::test]
async fn a_flood_of_unknown_kids_costs_at_most_one_refetch_per_floor() {
    let (issuer, validator) = setup().await;
    assert_eq!(issuer.fetches(), 1, "discovery loads the keys once");
    let validator = Arc::new(validator);
    let mut flood = JoinSet::new();
    for _ in 0..200 {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(format!("made-up-{:x}", rand_u64()));
        let token = issuer.sign_with(&header, &issuer.claims());
        let validator = Arc::clone(&validator);
        flood.spawn(async move { validator.validate(&token).await });
    }
    let results = tokio::time::timeout(Duration::from_secs(20), flood.join_all())
        .await
        .expect("the flood is answered promptly");
    assert_eq!(results.len(), 200);
    for result in results {
        assert_eq!(refused(result).reason, FailureReason::UnknownKey);
    }
    assert!(
        issuer.fetches() <= 2,
        "200 unknown kids caused {} JWKS fetches",
        issuer.fetches()
    );
    // The known key still works without another fetch.
    let before = issuer.fetches();
    assert!(
        validator
            .validate(&issuer.sign(&issuer.claims()))
            .await
            .is_ok()
    );
    assert_eq!(issuer.fetches(), before);
}

#[tokio::test]
async fn after_the_floor_an_unknown_kid_may_refetch_again() {
    let issuer = FakeIssuer::start().await;
    let config = OidcConfig {
        jwks_refetch_floor: Duration::from_secs(2),
        ..issuer.config()
    };
    let validator = OidcValidator::discover(config).await.expect("discovery");
    let unknown = || {
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(format!("made-up-{:x}", rand_u64()));
        issuer.sign_with(&header, &issuer.claims())
    };
    let _ = validator.validate(&unknown()).await;
    assert_eq!(issuer.fetches(), 2, "first unknown kid refetches");
    let _ = validator.validate(&unknown()).await;
    assert_eq!(issuer.fetches(), 2, "within the floor: no fetch");
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let _ = validator.validate(&unknown()).await;
    assert_eq!(issuer.fetches(), 3, "after the floor: one more");
}

#[tokio::test]
async fn a_failing_key_endpoint_keeps_the_known_keys() {
    let (issuer, validator) = setup().await;
    issuer.set_failing(true);
    let mut header = Header::new(Algorithm::ES256);
    header.kid = Some("rotated-away".to_owned());
    let r = refused(
        validator
            .validate(&issuer.sign_with(&header, &issuer.claims()))
            .await,
    );
    assert_eq!(r.reason, FailureReason::ProviderUnreachable);
    assert_eq!(r.status, http::StatusCode::UNAUTHORIZED);
    assert_eq!(issuer.fetches(), 2, "the refetch was attempted");
    assert!(
        validator
            .validate(&issuer.sign(&issuer.claims()))
            .await
            .is_ok(),
        "tokens signed with a key already known still verify"
    );
}

#[tokio::test]
async fn discovery_fails_clearly_when_the_issuer_does_not_match_or_cannot_be_reached() {
    let issuer = FakeIssuer::start().await;
    issuer.advertise_issuer("https://somebody-else.example.com");
    let err = OidcValidator::discover(issuer.config())
        .await
        .expect_err("mismatch");
    assert!(matches!(err, AuthError::IssuerMismatch { .. }), "{err}");
    assert!(err.to_string().contains("must be identical"), "{err}");

    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    drop(listener);
    let config = OidcConfig {
        http_timeout: Duration::from_secs(2),
        ..OidcConfig::new(
            Url::parse(&format!("http://127.0.0.1:{port}")).expect("URL"),
            AUDIENCE,
        )
    };
    let err = OidcValidator::discover(config)
        .await
        .expect_err("nobody listens");
    assert!(
        err.to_string()
            .contains("could not fetch discovery document"),
        "{err}"
    );
}

#[tokio::test]
async fn a_validator_debugs_without_key_material() {
    let (issuer, validator) = setup().await;
    let shown = format!("{validator:?}");
    let x = issuer.jwks()["keys"][0]["x"].as_str().expect("x");
    assert!(!shown.contains(x), "{shown}");
    assert!(
        shown.contains(&issuer.kid),
        "key ids are fine to show: {shown}"
    );
}
