//! Cloudflare Access assertions verified against a loopback certs endpoint.

use auth::{CF_ACCESS_HEADER, CfAccessValidator, FailureReason, Grant, PrincipalKind, Role};
use http::{HeaderMap, HeaderValue, StatusCode};
use serde_json::{Value, json};

use crate::support::{FakeIssuer, now};

const AUD: &str = "4714c1358e65fe4b408ad6d432a5f878f08194bdb4752441fd56faefa9b2b6f2";

fn assertion_claims(issuer: &FakeIssuer) -> Value {
    json!({
        "aud": [AUD], "email": "ana@example.com", "sub": "7335d417-61da-459d-899c-0a01c76a2f94",
        "iss": issuer.issuer, "iat": now(), "nbf": now(), "exp": now() + 300,
        "type": "app", "identity_nonce": "6ei69kawdKzMIAPF", "country": "US",
        "groups": ["acme/web:operator"],
    })
}

fn headers(values: &[&str]) -> HeaderMap {
    let mut h = HeaderMap::new();
    for v in values {
        h.append(CF_ACCESS_HEADER, HeaderValue::from_str(v).expect("header"));
    }
    h
}

fn validator(issuer: &FakeIssuer) -> CfAccessValidator {
    CfAccessValidator::with_endpoints(issuer.certs_url(), issuer.issuer.clone(), AUD.to_owned())
        .expect("loopback endpoints")
}

#[tokio::test]
async fn a_valid_assertion_names_the_person() {
    let issuer = FakeIssuer::start().await;
    let v = validator(&issuer).with_roles_claim("groups");
    let token = issuer.sign(&assertion_claims(&issuer));
    let p = v
        .validate_headers(&headers(&[&token]))
        .await
        .expect("valid");
    assert_eq!(p.kind, PrincipalKind::CloudflareAccess);
    assert_eq!(p.display, "ana@example.com");
    assert_eq!(p.subject, "7335d417-61da-459d-899c-0a01c76a2f94");
    assert_eq!(
        p.grants,
        vec![Grant::in_project(
            Role::Operator,
            "acme/web".parse().expect("project")
        )]
    );
    assert_eq!(issuer.fetches(), 1, "keys are fetched on first use");

    // Without a roles claim an Access principal holds no grants.
    let plain = validator(&issuer);
    assert!(
        plain
            .validate(&token)
            .await
            .expect("valid")
            .grants
            .is_empty()
    );
}

#[tokio::test]
async fn a_service_token_assertion_is_named_by_its_client_id() {
    let issuer = FakeIssuer::start().await;
    let mut claims = assertion_claims(&issuer);
    claims["sub"] = json!("");
    claims["common_name"] = json!("a1b2c3.access");
    claims.as_object_mut().expect("object").remove("email");
    let p = validator(&issuer)
        .validate(&issuer.sign(&claims))
        .await
        .expect("service token");
    assert_eq!(
        (p.subject.as_str(), p.display.as_str()),
        ("a1b2c3.access", "a1b2c3.access")
    );
}

#[tokio::test]
async fn an_assertion_for_another_application_is_refused() {
    let issuer = FakeIssuer::start().await;
    let mut claims = assertion_claims(&issuer);
    claims["aud"] = json!(["another-application-aud-tag"]);
    let r = validator(&issuer)
        .validate_headers(&headers(&[&issuer.sign(&claims)]))
        .await
        .expect_err("wrong aud");
    assert_eq!(r.status, StatusCode::FORBIDDEN);
    assert_eq!(r.reason, FailureReason::CfAccess);
    assert_eq!(r.error, None);
    assert!(r.description.contains("audience"), "{}", r.description);
}

#[tokio::test]
async fn a_missing_duplicated_expired_or_foreign_assertion_is_refused() {
    let issuer = FakeIssuer::start().await;
    let v = validator(&issuer);
    let r = v
        .validate_headers(&HeaderMap::new())
        .await
        .expect_err("missing");
    assert_eq!(r.reason, FailureReason::CfAccess);
    assert!(r.description.contains("missing"), "{}", r.description);

    let token = issuer.sign(&assertion_claims(&issuer));
    let r = v
        .validate_headers(&headers(&[&token, &token]))
        .await
        .expect_err("two headers");
    assert!(r.description.contains("more than one"), "{}", r.description);

    let mut expired = assertion_claims(&issuer);
    expired["exp"] = json!(now() - 600);
    let r = v
        .validate(&issuer.sign(&expired))
        .await
        .expect_err("expired");
    assert_eq!(r.description, "Cloudflare Access: token expired");

    let mut foreign = assertion_claims(&issuer);
    foreign["iss"] = json!("https://otherteam.cloudflareaccess.com");
    let r = v
        .validate(&issuer.sign(&foreign))
        .await
        .expect_err("other team");
    assert!(
        r.description.contains("another issuer"),
        "{}",
        r.description
    );
    assert_eq!(r.reason, FailureReason::CfAccess);
}
