//! Signing in and out: the OpenID provider (authorization code + PKCE), an API token, or — on
//! a server without authentication — the local operator.
//!
//! A sign-in form has no session yet, so it carries no CSRF token; it must still come from this
//! server's own pages (its `Origin`/`Referer`), so another site cannot sign a browser in to an
//! account of its choosing. The provider's callback is a GET the provider redirects to: it is
//! bound to the browser's sign-in by `state` (good for one callback, ten minutes), to the code
//! by PKCE and to the ID token by `nonce`.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::html;
use secrecy::SecretString;
use serde::Deserialize;
use store::ConsoleLogin;

use crate::Console;
use crate::pages::{error_page, html_response, internal, layout, notice, posted};
use crate::session::{self, hash};

/// How long a sign-in with the provider may take.
const LOGIN_WINDOW: Duration = Duration::from_secs(600);

fn signin_page(console: &Console, status: StatusCode, message: Option<&str>) -> Response {
    let oidc = console.config.login.is_some();
    let local = console.config.credentials.local().is_some();
    html_response(
        status,
        layout(
            "Sign in",
            None,
            html! {
                @if let Some(m) = message { (notice("error", m)) }
                @if oidc {
                    section aria-labelledby="idp" {
                        h2 id="idp" { "With your identity provider" }
                        p { a class="button primary" href="/console/signin/oidc" { "Sign in with your identity provider" } }
                    }
                }
                @if local {
                    section aria-labelledby="local" {
                        h2 id="local" { "Local operator" }
                        p { "This server runs without authentication on a loopback address: the console acts as the local operator, an administrator." }
                        form method="post" action="/console/signin/local" {
                            button type="submit" class="primary" { "Continue as the local operator" }
                        }
                    }
                }
                section aria-labelledby="token" {
                    h2 id="token" { "With an API token" }
                    p { "For when the identity provider is down: an API token minted with " code { "routeros-mcp token create" } "." }
                    form method="post" action="/console/signin/token" {
                        label for="token-input" { "API token" }
                        input id="token-input" type="password" name="token" autocomplete="off" required spellcheck="false";
                        button type="submit" { "Sign in with the token" }
                    }
                }
            },
        ),
    )
}

/// `GET /console/signin`.
pub(crate) async fn page(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    if let Ok(Some(_)) = session::load(&console, &headers).await {
        return Redirect::to("/console").into_response();
    }
    signin_page(&console, StatusCode::OK, None)
}

/// Answers a verified principal with a new session and a redirect to the fleet.
async fn signed_in_as(console: &Console, principal: &auth::Principal) -> Response {
    match session::start(console, principal).await {
        Ok(cookie) => {
            tracing::info!(subject = %principal.subject, kind = principal.kind.as_str(), "console sign-in");
            let mut response = Redirect::to("/console").into_response();
            response.headers_mut().insert(header::SET_COOKIE, cookie);
            response
        }
        Err(e) => internal(None, "starting a session", &e),
    }
}

/// `POST /console/signin/token`.
pub(crate) async fn with_token(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    if let Err(why) = session::same_origin(&headers) {
        return error_page(None, StatusCode::FORBIDDEN, &format!("refused: {why}"));
    }
    let form: HashMap<String, String> = form_urlencoded::parse(&body).into_owned().collect();
    let token = form.get("token").map_or("", |t| t.trim());
    if token.is_empty() {
        return signin_page(
            &console,
            StatusCode::BAD_REQUEST,
            Some("enter an API token"),
        );
    }
    match console.config.credentials.api_token(token).await {
        Ok(principal) => signed_in_as(&console, &principal).await,
        Err(refusal) => {
            tracing::warn!(reason = %refusal.reason, "console sign-in with an API token refused");
            signin_page(
                &console,
                StatusCode::UNAUTHORIZED,
                Some(&format!(
                    "the API token was refused: {}",
                    refusal.description
                )),
            )
        }
    }
}

/// `POST /console/signin/local`.
pub(crate) async fn local(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    if let Err(why) = session::same_origin(&headers) {
        return error_page(None, StatusCode::FORBIDDEN, &format!("refused: {why}"));
    }
    match console.config.credentials.local() {
        Some(principal) => signed_in_as(&console, &principal).await,
        None => signin_page(
            &console,
            StatusCode::FORBIDDEN,
            Some("this server requires a sign-in; there is no local operator"),
        ),
    }
}

/// `GET /console/signin/oidc`: to the provider.
pub(crate) async fn start_oidc(State(console): State<Arc<Console>>) -> Response {
    let Some(login) = &console.config.login else {
        return signin_page(
            &console,
            StatusCode::NOT_FOUND,
            Some(
                "no identity provider is configured for the console (OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET)",
            ),
        );
    };
    let start = match login.begin() {
        Ok(s) => s,
        Err(e) => return internal(None, "starting a sign-in", &e),
    };
    let record = ConsoleLogin {
        nonce: start.nonce.clone(),
        pkce_verifier: secrecy::ExposeSecret::expose_secret(&start.verifier).to_owned(),
        created_at: store::time::now(),
    };
    if let Err(e) = console
        .store
        .create_console_login(&hash(&start.state), &record)
        .await
    {
        return internal(None, "starting a sign-in", &e);
    }
    Redirect::to(start.url.as_str()).into_response()
}

/// What the provider sends back.
#[derive(Debug, Deserialize)]
pub(crate) struct Callback {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// `GET /console/callback`.
pub(crate) async fn callback(
    State(console): State<Arc<Console>>,
    Query(params): Query<Callback>,
) -> Response {
    let Some(login) = &console.config.login else {
        return signin_page(
            &console,
            StatusCode::NOT_FOUND,
            Some("no identity provider is configured for the console"),
        );
    };
    if let Some(error) = params.error {
        let code: String = error
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == '_')
            .take(64)
            .collect();
        return signin_page(
            &console,
            StatusCode::UNAUTHORIZED,
            Some(&format!(
                "the identity provider did not sign you in ({code})"
            )),
        );
    }
    let (Some(code), Some(state)) = (params.code, params.state) else {
        return signin_page(
            &console,
            StatusCode::BAD_REQUEST,
            Some("the sign-in answer has no code or state; start again"),
        );
    };
    let started_after = store::time::ago(LOGIN_WINDOW);
    let pending = match console
        .store
        .take_console_login(&hash(&state), &started_after)
        .await
    {
        Ok(Some(p)) => p,
        Ok(None) => {
            return signin_page(
                &console,
                StatusCode::BAD_REQUEST,
                Some(
                    "this sign-in is unknown, was already used or took longer than ten minutes; start again",
                ),
            );
        }
        Err(e) => return internal(None, "finishing the sign-in", &e),
    };
    let verifier = SecretString::from(pending.pkce_verifier);
    match login.finish(&code, &verifier, &pending.nonce).await {
        Ok(principal) => signed_in_as(&console, &principal).await,
        Err(e) => {
            tracing::warn!(error = %e, "console sign-in through the identity provider refused");
            signin_page(&console, StatusCode::UNAUTHORIZED, Some(&e.to_string()))
        }
    }
}

/// `POST /console/signout`.
pub(crate) async fn sign_out(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (session, _) = match posted(&console, &headers, &body).await {
        Ok(p) => p,
        Err(refused) => return refused,
    };
    if let Err(e) = session::end(&console, &session).await {
        return internal(Some(&session), "signing out", &e);
    }
    let mut response = Redirect::to("/console/signin").into_response();
    response
        .headers_mut()
        .insert(header::SET_COOKIE, session::clear_cookie(&console));
    response
}
