//! The pages: one module each, sharing the frame ([`layout`]), the sign-in requirement
//! ([`signed_in`]), the POST checks ([`posted`]) and the look-ups every page needs.
//!
//! Every value shown is spliced by maud, which escapes it: router output, plan descriptions,
//! runbook text and names written by a model are always text, never markup.

pub(crate) mod audit;
pub(crate) mod device;
pub(crate) mod fleet;
pub(crate) mod onboard;
pub(crate) mod plans;
pub(crate) mod reviews;

use std::collections::HashMap;
use std::sync::Arc;

use auth::{Principal, ProjectSet, Role};
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use maud::{DOCTYPE, Markup, html};
use serde_json::Value;

use crate::Console;
use crate::api::{ApiFailure, segment};
use crate::session::{self, Session};

/// Largest form accepted.
const MAX_FORM: usize = 64 * 1024;

/// An HTML response with the console's headers: never cached, never framed, no script, forms
/// only to this server.
pub(crate) fn html_response(status: StatusCode, markup: Markup) -> Response {
    let mut response = (status, markup.into_string()).into_response();
    let h = response.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    response
}

/// The frame of every page: header with navigation (when signed in), a main region, the title.
pub(crate) fn layout(title: &str, session: Option<&Session>, body: Markup) -> Markup {
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · routeros-mcp console" }
                link rel="stylesheet" href="/console/assets/console.css";
            }
            body {
                a class="skip" href="#main" { "Skip to content" }
                header class="top" {
                    a class="brand" href="/console" { "routeros-mcp" }
                    @if let Some(s) = session {
                        nav aria-label="Main" {
                            ul {
                                li { a href="/console" { "Fleet" } }
                                li { a href="/console/plans" { "Plans" } }
                                li { a href="/console/reviews" { "Runbook reviews" } }
                                li { a href="/console/audit" { "Audit" } }
                                li { a href="/console/devices/new" { "Onboard" } }
                            }
                        }
                        form class="signout" method="post" action="/console/signout" {
                            (csrf_field(s))
                            span class="who" { (s.principal.display) " · " (roles_text(&s.principal)) }
                            button type="submit" { "Sign out" }
                        }
                    }
                }
                main id="main" {
                    h1 { (title) }
                    (body)
                }
            }
        }
    }
}

/// The hidden CSRF field every form carries.
pub(crate) fn csrf_field(session: &Session) -> Markup {
    html! { input type="hidden" name="csrf" value=(session.csrf); }
}

/// The principal's grants as text (`approver, acme/web:admin`).
pub(crate) fn roles_text(p: &Principal) -> String {
    if p.grants.is_empty() {
        return "no roles".into();
    }
    p.grants
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// Whether the principal holds `role` somewhere, or in `project` when given: decides whether a
/// button is shown (the admin API decides whether it works).
pub(crate) fn may(p: &Principal, role: Role, project: Option<&str>) -> bool {
    match project.and_then(|t| t.parse::<domain::ProjectRef>().ok()) {
        Some(project) => p.has(role, &project),
        None => p.has_anywhere(role),
    }
}

/// Whether the principal holds `role` for every project.
pub(crate) fn may_everywhere(p: &Principal, role: Role) -> bool {
    p.projects(role) == ProjectSet::All
}

/// A message box.
pub(crate) fn notice(kind: &str, text: &str) -> Markup {
    html! { div class=(format!("notice {kind}")) role=(if kind == "error" { "alert" } else { "status" }) { p { (text) } } }
}

/// A page saying what went wrong.
pub(crate) fn error_page(session: Option<&Session>, status: StatusCode, text: &str) -> Response {
    let title = match status {
        StatusCode::NOT_FOUND => "Not found",
        StatusCode::FORBIDDEN => "Not allowed",
        StatusCode::BAD_REQUEST | StatusCode::UNPROCESSABLE_ENTITY => "Not accepted",
        _ => "Something went wrong",
    };
    html_response(status, layout(title, session, notice("error", text)))
}

/// The admin API's refusal as a page, with its status.
pub(crate) fn api_error(session: &Session, failure: &ApiFailure) -> Response {
    if failure.status.is_server_error() {
        tracing::error!(error = %failure, "the admin API failed for the console");
    }
    error_page(Some(session), failure.status, &failure.message)
}

/// An internal failure: logged, shown without detail.
pub(crate) fn internal(
    session: Option<&Session>,
    what: &str,
    error: &dyn std::fmt::Display,
) -> Response {
    tracing::error!(error = %error, "console: {what} failed");
    error_page(
        session,
        StatusCode::INTERNAL_SERVER_ERROR,
        &format!("{what} failed; the server's log has the details"),
    )
}

/// The session of a request, or the response that sends the person to sign in.
pub(crate) async fn signed_in(console: &Console, headers: &HeaderMap) -> Result<Session, Response> {
    match session::load(console, headers).await {
        Ok(Some(s)) => Ok(s),
        Ok(None) => Err(Redirect::to("/console/signin").into_response()),
        Err(e) => Err(internal(None, "reading the session", &e)),
    }
}

/// A POSTed form from a signed-in session, after the origin and CSRF checks: 403 otherwise,
/// with nothing done.
pub(crate) async fn posted(
    console: &Console,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Session, HashMap<String, String>), Response> {
    let refuse = |session: Option<&Session>, why: &str| {
        tracing::warn!(problem = %why, "console form refused");
        error_page(session, StatusCode::FORBIDDEN, why)
    };
    if let Err(why) = session::same_origin(headers) {
        return Err(refuse(None, &format!("refused: {why}")));
    }
    let session = match session::load(console, headers).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            return Err(refuse(
                None,
                "refused: you are not signed in (or your session ended); sign in again",
            ));
        }
        Err(e) => return Err(internal(None, "reading the session", &e)),
    };
    if body.len() > MAX_FORM {
        return Err(error_page(
            Some(&session),
            StatusCode::PAYLOAD_TOO_LARGE,
            "the form is too large",
        ));
    }
    let form: HashMap<String, String> = form_urlencoded::parse(body).into_owned().collect();
    if !session::csrf_matches(&session, form.get("csrf").map(String::as_str)) {
        return Err(refuse(
            Some(&session),
            "refused: the form did not carry this session's CSRF token; reload the page and try again",
        ));
    }
    Ok((session, form))
}

/// A rejection form ([`posted`] plus its `reason`, which must not be empty): the session and the
/// reason, or the page that refuses it.
pub(crate) async fn posted_rejection(
    console: &Console,
    headers: &HeaderMap,
    body: &Bytes,
) -> Result<(Session, String), Response> {
    let (session, form) = posted(console, headers, body).await?;
    let reason = field(&form, "reason").to_owned();
    if reason.is_empty() {
        return Err(error_page(
            Some(&session),
            StatusCode::BAD_REQUEST,
            "a rejection needs a reason; nothing was changed",
        ));
    }
    Ok((session, reason))
}

/// A form field, trimmed; empty when absent.
pub(crate) fn field<'a>(form: &'a HashMap<String, String>, name: &str) -> &'a str {
    form.get(name).map_or("", |v| v.trim())
}

/// The projects the principal sees, as `ORG/PROJECT`, through the admin API.
pub(crate) async fn projects(
    console: &Console,
    principal: &Arc<Principal>,
) -> Result<Vec<String>, ApiFailure> {
    let orgs = console.api.get(principal, "/v1/organizations").await?;
    let mut out = Vec::new();
    for org in items(&orgs) {
        let name = text(org, "name");
        let list = console
            .api
            .get(
                principal,
                &format!("/v1/organizations/{}/projects", segment(&name)),
            )
            .await?;
        for p in items(&list) {
            out.push(format!("{}/{}", name, text(p, "name")));
        }
    }
    Ok(out)
}

/// The `items` array of a list answer.
pub(crate) fn items(v: &Value) -> &[Value] {
    v.get("items")
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

/// A string field, or empty.
pub(crate) fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

/// A string field, or the placeholder.
pub(crate) fn or_dash(v: &Value, key: &str) -> String {
    let t = text(v, key);
    if t.is_empty() { "—".into() } else { t }
}

/// Any console path that names no page.
pub(crate) async fn not_found(State(console): State<Arc<Console>>, request: Request) -> Response {
    let session = session::load(&console, request.headers())
        .await
        .ok()
        .flatten();
    error_page(
        session.as_ref(),
        StatusCode::NOT_FOUND,
        "there is no console page at this address",
    )
}
