//! `/console/audit`: a project's audit log, newest first, a page at a time, filtered by actor,
//! device, plan, action and time — with the result of verifying the hash chain.

use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use serde::Deserialize;
use serde_json::Value;

use super::{api_error, html_response, items, layout, projects, signed_in, text};
use crate::Console;
use crate::api::{project_base, query};

/// The filters (passed on to the admin API as they are: it checks them and names what is wrong).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filter {
    #[serde(default)]
    project: String,
    #[serde(default)]
    actor: String,
    #[serde(default)]
    device: String,
    #[serde(default)]
    plan: String,
    #[serde(default)]
    action: String,
    #[serde(default)]
    since: String,
    #[serde(default)]
    until: String,
    #[serde(default)]
    cursor: String,
}

/// Audit records as a table.
pub(crate) fn table(events: &[Value]) -> Markup {
    html! {
        @if events.is_empty() { p class="muted" { "No records." } } @else {
            div class="table-wrap" { table {
                caption { "Audit records, newest first" }
                thead { tr { th scope="col" { "#" } th scope="col" { "When" } th scope="col" { "Actor" } th scope="col" { "Action" } th scope="col" { "Target" } th scope="col" { "Details" } } }
                tbody { @for e in events { tr {
                    th scope="row" { (text(e, "seq")) } td { (text(e, "occurred_at")) } td { (text(e, "actor")) }
                    td { code { (text(e, "action")) } } td { (text(e, "target")) }
                    td { details { summary { "show" } pre { code { (serde_json::to_string_pretty(e.get("details").unwrap_or(&Value::Null)).unwrap_or_default()) } } } }
                } } }
            } }
        }
    }
}

/// `GET /console/audit`.
pub(crate) async fn page(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Query(f): Query<Filter>,
) -> Response {
    let session = match signed_in(&console, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let p = &session.principal;
    let all = match projects(&console, p).await {
        Ok(l) => l,
        Err(e) => return api_error(&session, &e),
    };
    let project = if all.contains(&f.project) {
        f.project.clone()
    } else {
        all.first().cloned().unwrap_or_default()
    };
    let mut events = Value::Null;
    let mut verify = Value::Null;
    let mut problem = None;
    if !project.is_empty() {
        let base = project_base(&project);
        let q = query(&[
            ("actor", f.actor.trim()),
            ("device", f.device.trim()),
            ("plan", f.plan.trim()),
            ("action", f.action.trim()),
            ("since", f.since.trim()),
            ("until", f.until.trim()),
            ("cursor", f.cursor.trim()),
            ("limit", "50"),
        ]);
        match console.api.get(p, &format!("{base}/audit{q}")).await {
            Ok(v) => events = v,
            Err(e) if e.status.is_client_error() => problem = Some(e.message),
            Err(e) => return api_error(&session, &e),
        }
        verify = console
            .api
            .get(p, &format!("{base}/audit/verify"))
            .await
            .unwrap_or(Value::Null);
    }
    let next = text(&events, "next_cursor");
    let next_link = query(&[
        ("project", &project),
        ("actor", &f.actor),
        ("device", &f.device),
        ("plan", &f.plan),
        ("action", &f.action),
        ("since", &f.since),
        ("until", &f.until),
        ("cursor", &next),
    ]);
    let body = html! {
        section aria-labelledby="chain" {
            h2 id="chain" { "Hash chain" }
            @match verify.get("intact").and_then(Value::as_bool) {
                Some(true) => { div class="notice ok" role="status" { p { "The audit chain is intact: " (text(&verify, "events_checked")) " records checked, none altered or removed." } } }
                Some(false) => { div class="notice error" role="alert" { p { "The audit chain is broken at record " (text(&verify, "first_break_seq")) ": " (text(&verify, "first_break_reason")) } } }
                None => { p class="muted" { "The chain could not be verified." } }
            }
        }
        form class="filters" method="get" action="/console/audit" role="search" aria-label="Filter audit records" {
            div class="field" { label for="a-project" { "Project" } select id="a-project" name="project" { @for name in &all { option value=(name) selected[*name == project] { (name) } } } }
            div class="field" { label for="a-actor" { "Actor" } input id="a-actor" name="actor" value=(f.actor) placeholder="api:oidc:alice"; }
            div class="field" { label for="a-device" { "Device" } input id="a-device" name="device" value=(f.device); }
            div class="field" { label for="a-plan" { "Plan" } input id="a-plan" name="plan" value=(f.plan); }
            div class="field" { label for="a-action" { "Action" } input id="a-action" name="action" value=(f.action) placeholder="plan."; }
            div class="field" { label for="a-since" { "Since" } input id="a-since" name="since" value=(f.since) placeholder="2026-05-01T00:00:00Z"; }
            div class="field" { label for="a-until" { "Until" } input id="a-until" name="until" value=(f.until); }
            button type="submit" { "Filter" }
        }
        @if let Some(m) = &problem { (super::notice("error", m)) }
        (table(items(&events)))
        @if !next.is_empty() { p { a href=(format!("/console/audit{next_link}")) rel="next" { "Older records" } } }
    };
    html_response(StatusCode::OK, layout("Audit log", Some(&session), body))
}
