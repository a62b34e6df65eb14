//! `/console/devices/{id}`: one device — its facts, pinned fingerprints, recent plans and audit
//! records — with the admin's buttons: test connectivity, rotate credentials on the device,
//! decommission (after a confirmation page).

use std::sync::Arc;

use auth::Role;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{
    api_error, csrf_field, error_page, field, html_response, items, layout, may, notice, or_dash,
    posted, projects, signed_in, text,
};
use crate::Console;
use crate::api::{ApiFailure, project_base, query, segment};
use crate::session::Session;

/// Which project to look in first (links from the fleet page carry it).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Hint {
    #[serde(default)]
    project: String,
}

/// The device and its project: the hinted project first, then every project the principal
/// sees. Not found anywhere is the admin API's 404.
async fn find(
    console: &Console,
    session: &Session,
    id: &str,
    hint: &str,
) -> Result<(String, Value), ApiFailure> {
    let p = &session.principal;
    let mut candidates = projects(console, p).await?;
    if let Some(i) = candidates.iter().position(|c| c == hint) {
        let first = candidates.remove(i);
        candidates.insert(0, first);
    }
    let mut last = ApiFailure {
        status: StatusCode::NOT_FOUND,
        code: "not_found".into(),
        message: format!("device \"{id}\" not found in any project you hold a role in"),
    };
    for project in candidates {
        match console
            .api
            .get(
                p,
                &format!("{}/devices/{}", project_base(&project), segment(id)),
            )
            .await
        {
            Ok(device) => return Ok((project, device)),
            Err(e) if e.status == StatusCode::NOT_FOUND => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

fn path_of(id: &str, project: &str) -> String {
    format!(
        "/console/devices/{}?project={}",
        segment(id),
        segment(project)
    )
}

async fn render(
    console: &Console,
    session: &Session,
    id: &str,
    hint: &str,
    status: StatusCode,
    message: Option<Markup>,
) -> Response {
    let p = &session.principal;
    let (project, device) = match find(console, session, id, hint).await {
        Ok(found) => found,
        Err(e) => return api_error(session, &e),
    };
    let base = project_base(&project);
    let device_id = text(&device, "id");
    let audit = console
        .api
        .get(
            p,
            &format!(
                "{base}/audit{}",
                query(&[("device", &device_id), ("limit", "15")])
            ),
        )
        .await
        .unwrap_or(Value::Null);
    // Recent plans touching the device: the project's newest plans, read one by one.
    let mut plans = Vec::new();
    if let Ok(list) = console.api.get(p, &format!("{base}/plans?limit=20")).await {
        for summary in items(&list) {
            let plan_id = text(summary, "id");
            if let Ok(plan) = console
                .api
                .get(p, &format!("{base}/plans/{}", segment(&plan_id)))
                .await
            {
                let touches = plan
                    .get("devices")
                    .and_then(Value::as_array)
                    .is_some_and(|ds| ds.iter().any(|d| text(d, "device_id") == device_id));
                if touches {
                    plans.push(summary.clone());
                }
            }
        }
    }
    let admin = may(p, Role::Admin, Some(&project));
    let live = text(&device, "status") != "decommissioned";
    let name = text(&device, "name");
    let action = |what: &str| {
        format!(
            "/console/devices/{}/{what}?project={}",
            segment(&device_id),
            segment(&project)
        )
    };
    let body = html! {
        @if let Some(m) = message { (m) }
        p class="muted" { "Project " (project) " · id " code { (device_id) } }
        section aria-labelledby="facts" {
            h2 id="facts" { "Facts" }
            dl class="facts" {
                dt { "Address" } dd { (text(&device, "address")) " (REST " (text(&device, "rest_port")) ", SSH " (text(&device, "ssh_port")) ")" }
                dt { "Status" } dd { (text(&device, "status")) }
                dt { "Environment" } dd { (text(&device, "environment")) }
                dt { "Driver" } dd { (text(&device, "driver")) }
                dt { "Identity" } dd { (or_dash(&device, "identity")) }
                dt { "RouterOS" } dd { (or_dash(&device, "routeros_version")) }
                dt { "Board" } dd { (or_dash(&device, "board")) " " (text(&device, "architecture")) }
                dt { "Login" } dd { (or_dash(&device, "username")) " (credential version " (or_dash(&device, "credential_version")) ")" }
                dt { "Last reached" } dd { (or_dash(&device, "last_seen_at")) }
                dt { "Tags" } dd {
                    @if let Some(tags) = device.get("tags").and_then(Value::as_object) {
                        @if tags.is_empty() { "—" }
                        @for (k, v) in tags { span class="badge" { (k) "=" (v.as_str().unwrap_or_default()) } " " }
                    }
                }
            }
        }
        section aria-labelledby="pins" {
            h2 id="pins" { "Pinned fingerprints" }
            p { "Every connection must present exactly these; anything else is refused." }
            dl class="facts" {
                dt { "TLS certificate (SHA-256)" } dd { code class="fp" { (or_dash(&device, "tls_cert_sha256")) } }
                dt { "SSH host key (SHA-256)" } dd { code class="fp" { (or_dash(&device, "ssh_host_key_sha256")) } }
            }
        }
        @if admin && live {
            section aria-labelledby="actions" {
                h2 id="actions" { "Actions" }
                div class="actions" {
                    form method="post" action=(action("test")) {
                        (csrf_field(session))
                        button type="submit" { "Test connectivity" }
                    }
                    form method="post" action=(action("rotate")) {
                        (csrf_field(session))
                        button type="submit" { "Rotate credentials on the device" }
                    }
                    a class="button danger" href=(action("decommission")) { "Decommission…" }
                }
            }
        }
        section aria-labelledby="plans" {
            h2 id="plans" { "Recent plans" }
            @if plans.is_empty() { p class="muted" { "No recent plan changes this device." } }
            @else {
                ul class="plain" {
                    @for plan in &plans {
                        li {
                            a href=(format!("/console/plans/{}", segment(&text(plan, "id")))) { (text(plan, "title")) }
                            " · " span class=(format!("status status-{}", text(plan, "status"))) { (text(plan, "status")) }
                            " · risk " (text(plan, "risk")) " · " (text(plan, "created_at"))
                        }
                    }
                }
            }
        }
        section aria-labelledby="audit" {
            h2 id="audit" { "Recent audit records" }
            (super::audit::table(items(&audit)))
            p { a href=(format!("/console/audit?project={}&device={}", segment(&project), segment(&device_id))) { "All audit records of this device" } }
        }
    };
    html_response(
        status,
        layout(&format!("Device {name}"), Some(session), body),
    )
}

/// `GET /console/devices/{id}`.
pub(crate) async fn page(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(hint): Query<Hint>,
) -> Response {
    let session = match signed_in(&console, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    render(&console, &session, &id, &hint.project, StatusCode::OK, None).await
}

/// Runs an admin action on the device and shows the device with its outcome.
async fn act(
    console: &Console,
    headers: &HeaderMap,
    body: &Bytes,
    id: &str,
    hint: &str,
    what: &str,
    payload: Value,
) -> Response {
    let (session, _) = match posted(console, headers, body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (project, device) = match find(console, &session, id, hint).await {
        Ok(found) => found,
        Err(e) => return api_error(&session, &e),
    };
    let path = format!(
        "{}/devices/{}/{what}",
        project_base(&project),
        segment(&text(&device, "id"))
    );
    let outcome = match console.api.post(&session.principal, &path, payload).await {
        Ok(v) => v,
        Err(e) => return api_error(&session, &e),
    };
    let message = match what {
        "test" => {
            let reachable = outcome
                .get("reachable")
                .and_then(Value::as_bool)
                .unwrap_or(false);
            html! {
                div class=(if reachable { "notice ok" } else { "notice error" }) role="status" {
                    p { @if reachable { "The device answered." } @else { "The device did not answer." } }
                    ul { @for probe in outcome.get("probes").and_then(Value::as_array).map_or(&[][..], Vec::as_slice) {
                        li { (text(probe, "driver")) ": "
                            @if probe.get("reachable").and_then(Value::as_bool) == Some(true) { "reachable (" (text(probe, "rtt_ms")) " ms)" }
                            @else { "not reachable: " (text(probe, "error")) } }
                    } }
                }
            }
        }
        _ => {
            let warning = text(&outcome, "warning");
            html! {
                div class="notice ok" role="status" {
                    p { "Credentials rotated: the server now logs in as " strong { (text(&outcome, "username")) } " (credential version " (text(&outcome, "credential_version")) ")." }
                    @if !warning.is_empty() { p { (warning) } }
                }
            }
        }
    };
    render(
        console,
        &session,
        id,
        &project,
        StatusCode::OK,
        Some(message),
    )
    .await
}

/// `POST /console/devices/{id}/test`.
pub(crate) async fn test(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(hint): Query<Hint>,
    body: Bytes,
) -> Response {
    act(
        &console,
        &headers,
        &body,
        &id,
        &hint.project,
        "test",
        json!({}),
    )
    .await
}

/// `POST /console/devices/{id}/rotate`.
pub(crate) async fn rotate(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(hint): Query<Hint>,
    body: Bytes,
) -> Response {
    act(
        &console,
        &headers,
        &body,
        &id,
        &hint.project,
        "rotate-credentials",
        json!({"on_device": true}),
    )
    .await
}

/// `GET /console/devices/{id}/decommission`: the confirmation step.
pub(crate) async fn confirm_decommission(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(hint): Query<Hint>,
) -> Response {
    let session = match signed_in(&console, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let (project, device) = match find(&console, &session, &id, &hint.project).await {
        Ok(found) => found,
        Err(e) => return api_error(&session, &e),
    };
    let name = text(&device, "name");
    let body = html! {
        (notice("warning", "A decommissioned device is never contacted again and its stored credentials are wiped; its history stays in the audit log. This cannot be undone."))
        form method="post" action=(format!("/console/devices/{}/decommission?project={}", segment(&text(&device, "id")), segment(&project))) {
            (csrf_field(&session))
            label for="confirm-name" { "Type the device's name, " strong { (name) } ", to confirm" }
            input id="confirm-name" name="confirm" required autocomplete="off";
            div class="actions" {
                button type="submit" class="danger" { "Decommission " (name) }
                a class="button" href=(path_of(&id, &project)) { "Cancel" }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout(&format!("Decommission {name}?"), Some(&session), body),
    )
}

/// `POST /console/devices/{id}/decommission`.
pub(crate) async fn decommission(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    Query(hint): Query<Hint>,
    body: Bytes,
) -> Response {
    let (session, form) = match posted(&console, &headers, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (project, device) = match find(&console, &session, &id, &hint.project).await {
        Ok(found) => found,
        Err(e) => return api_error(&session, &e),
    };
    let name = text(&device, "name");
    if field(&form, "confirm") != name {
        return error_page(
            Some(&session),
            StatusCode::BAD_REQUEST,
            &format!("the name typed does not match \"{name}\"; nothing was changed"),
        );
    }
    let path = format!(
        "{}/devices/{}",
        project_base(&project),
        segment(&text(&device, "id"))
    );
    if let Err(e) = console.api.delete(&session.principal, &path).await {
        return api_error(&session, &e);
    }
    render(
        &console,
        &session,
        &id,
        &project,
        StatusCode::OK,
        Some(notice("ok", &format!("{name} is decommissioned."))),
    )
    .await
}
