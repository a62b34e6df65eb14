//! The console's sign-in: the authorization URL it sends a browser to, and the ID tokens it
//! accepts — signed by the provider, for this client, carrying this sign-in's nonce — and
//! those it refuses.

use auth::{OidcLogin, Url, pkce_challenge};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::support::{FakeIssuer, now};

const CLIENT: &str = "console";

async fn setup() -> (FakeIssuer, OidcLogin) {
    let issuer = FakeIssuer::start().await;
    let login = OidcLogin::discover(
        issuer.config(),
        CLIENT.into(),
        SecretString::from("console-secret-value"),
        Url::parse("http://127.0.0.1:8080/console/callback").expect("url"),
    )
    .await
    .expect("discovery");
    (issuer, login)
}

#[tokio::test]
async fn the_authorization_url_carries_state_nonce_and_an_s256_challenge() {
    let (_issuer, login) = setup().await;
    let start = login.begin().expect("begin");
    let pairs: std::collections::HashMap<String, String> =
        start.url.query_pairs().into_owned().collect();
    assert!(start.url.path().ends_with("/authorize"));
    assert_eq!(pairs["response_type"], "code");
    assert_eq!(pairs["client_id"], CLIENT);
    assert_eq!(
        pairs["redirect_uri"],
        "http://127.0.0.1:8080/console/callback"
    );
    assert_eq!(pairs["state"], start.state);
    assert_eq!(pairs["nonce"], start.nonce);
    assert_eq!(pairs["code_challenge_method"], "S256");
    assert_eq!(
        pairs["code_challenge"],
        pkce_challenge(start.verifier.expose_secret())
    );
    assert!(!start.url.as_str().contains(start.verifier.expose_secret()));
    let again = login.begin().expect("begin");
    assert_ne!(again.state, start.state);
    assert_ne!(again.nonce, start.nonce);
    assert!(!format!("{login:?}").contains("console-secret-value"));
    assert!(!format!("{start:?}").contains(&start.state));
}

#[tokio::test]
async fn an_id_token_for_this_client_and_nonce_is_accepted_and_any_other_refused() {
    let (issuer, login) = setup().await;
    let good = || {
        let mut c = issuer.claims();
        c["aud"] = json!(CLIENT);
        c["nonce"] = json!("n-1");
        c["roles"] = json!(["acme/web:approver"]);
        c
    };
    let p = login
        .verify_id_token(&issuer.sign(&good()), "n-1")
        .await
        .expect("accepted");
    assert_eq!(p.subject, "user-1");
    assert_eq!(
        p.grants.iter().map(ToString::to_string).collect::<Vec<_>>(),
        ["acme/web:approver"]
    );
    let cases = [
        ("another nonce", json!({"nonce": "n-2"}), "nonce"),
        ("no nonce", json!({"nonce": null}), "nonce"),
        (
            "another audience",
            json!({"aud": "https://mcp.test/mcp"}),
            "audience",
        ),
        ("another azp", json!({"azp": "other-client"}), "azp"),
        ("expired", json!({"exp": now() - 120}), "expired"),
        (
            "another issuer",
            json!({"iss": "http://127.0.0.1:1"}),
            "issuer",
        ),
    ];
    for (what, change, says) in cases {
        let mut claims = good();
        for (k, v) in change.as_object().expect("object") {
            if v.is_null() {
                claims.as_object_mut().expect("object").remove(k);
            } else {
                claims[k] = v.clone();
            }
        }
        let err = login
            .verify_id_token(&issuer.sign(&claims), "n-1")
            .await
            .expect_err(what)
            .to_string();
        assert!(err.contains(says), "{what}: {err}");
    }
}
