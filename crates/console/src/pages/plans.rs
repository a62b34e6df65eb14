//! `/console/plans` (pending first) and `/console/plans/{id}`: a plan's RouterOS changes per
//! device, its risk and why, the management-path warning, the auto-revert window and its
//! decisions; approve (with an optional comment) or reject (with a reason).
//!
//! Approving shows the approval token once, saying who it is for: the person or automation that
//! applies the plan (`plan.apply` with the token), never a model. The page that shows it is not
//! cached.

use std::collections::BTreeMap;
use std::sync::Arc;

use auth::Role;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Value, json};

use super::{
    api_error, csrf_field, field, html_response, items, layout, may, notice, or_dash, posted,
    posted_rejection, projects, signed_in, text,
};
use crate::Console;
use crate::api::{ApiFailure, project_base, segment};
use crate::session::Session;

/// The sentence shown with an approval token.
pub const TOKEN_SENTENCE: &str = "This approval token goes to whoever applies the plan (plan.apply with this token, through the CLI or an MCP client a person operates) — never to a model. It is shown only this once.";

pub(crate) fn status_badge(status: &str) -> Markup {
    html! { span class=(format!("status status-{status}")) { (status) } }
}

pub(crate) fn risk_badge(risk: &str) -> Markup {
    html! { span class=(format!("risk risk-{risk}")) { (risk) } }
}

/// `GET /console/plans`.
pub(crate) async fn list(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    let session = match signed_in(&console, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let p = &session.principal;
    let all = match projects(&console, p).await {
        Ok(l) => l,
        Err(e) => return api_error(&session, &e),
    };
    let mut pending = Vec::new();
    let mut others = Vec::new();
    for project in &all {
        let base = project_base(project);
        match console
            .api
            .get(p, &format!("{base}/plans?status=pending&limit=200"))
            .await
        {
            Ok(v) => pending.extend(items(&v).iter().map(|i| (project.clone(), i.clone()))),
            Err(e) => return api_error(&session, &e),
        }
        match console.api.get(p, &format!("{base}/plans?limit=50")).await {
            Ok(v) => others.extend(
                items(&v)
                    .iter()
                    .filter(|i| text(i, "status") != "pending")
                    .map(|i| (project.clone(), i.clone())),
            ),
            Err(e) => return api_error(&session, &e),
        }
    }
    others.sort_by_key(|(_, i)| std::cmp::Reverse(text(i, "created_at")));
    let table = |rows: &[(String, Value)], caption: &str| {
        html! {
            div class="table-wrap" { table {
                caption { (caption) }
                thead { tr { th scope="col" { "Plan" } th scope="col" { "Project" } th scope="col" { "Status" } th scope="col" { "Risk" } th scope="col" { "Environment" } th scope="col" { "Proposed by" } th scope="col" { "Created" } } }
                tbody { @for (project, plan) in rows { tr {
                    th scope="row" { a href=(format!("/console/plans/{}", segment(&text(plan, "id")))) { (text(plan, "title")) } }
                    td { (project) } td { (status_badge(&text(plan, "status"))) } td { (risk_badge(&text(plan, "risk"))) }
                    td { (text(plan, "environment")) } td { (text(plan, "created_by")) } td { (text(plan, "created_at")) }
                } } }
            } }
        }
    };
    let body = html! {
        section aria-labelledby="pending" {
            h2 id="pending" { "Waiting for a decision" }
            @if pending.is_empty() { p class="muted" { "No plan is waiting." } } @else { (table(&pending, "Pending plans")) }
        }
        section aria-labelledby="recent" {
            h2 id="recent" { "Recent" }
            @if others.is_empty() { p class="muted" { "No other plans." } } @else { (table(&others, "Recent plans")) }
        }
    };
    html_response(StatusCode::OK, layout("Plans", Some(&session), body))
}

/// The plan and its project, looked for in every project the principal sees.
async fn find(
    console: &Console,
    session: &Session,
    id: &str,
) -> Result<(String, Value), ApiFailure> {
    let p = &session.principal;
    let mut last = ApiFailure {
        status: StatusCode::NOT_FOUND,
        code: "not_found".into(),
        message: format!("plan \"{id}\" not found in any project you hold a role in"),
    };
    for project in projects(console, p).await? {
        match console
            .api
            .get(
                p,
                &format!("{}/plans/{}", project_base(&project), segment(id)),
            )
            .await
        {
            Ok(plan) => return Ok((project, plan)),
            Err(e) if e.status == StatusCode::NOT_FOUND => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}

fn management_warning(plan: &Value) -> bool {
    text(plan, "risk") == "critical"
        || plan
            .get("risk_reasons")
            .and_then(Value::as_array)
            .is_some_and(|r| {
                r.iter()
                    .any(|x| x.as_str().is_some_and(|s| s.contains("management")))
            })
}

async fn render(
    console: &Console,
    session: &Session,
    id: &str,
    status: StatusCode,
    message: Option<Markup>,
) -> Response {
    let (project, plan) = match find(console, session, id).await {
        Ok(f) => f,
        Err(e) => return api_error(session, &e),
    };
    let approver = may(&session.principal, Role::Approver, Some(&project));
    let pending = text(&plan, "status") == "pending";
    let changes = plan
        .get("changes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let mut by_device: BTreeMap<String, Vec<Value>> = BTreeMap::new();
    for c in changes {
        by_device.entry(text(&c, "device")).or_default().push(c);
    }
    let window = console.config.auto_revert_window.as_secs();
    let action = |what: &str| format!("/console/plans/{}/{what}", segment(&text(&plan, "id")));
    let body = html! {
        @if let Some(m) = message { (m) }
        dl class="facts" {
            dt { "Status" } dd { (status_badge(&text(&plan, "status"))) }
            dt { "Risk" } dd { (risk_badge(&text(&plan, "risk"))) }
            dt { "Project" } dd { (project) }
            dt { "Environment" } dd { (text(&plan, "environment")) }
            dt { "Proposed by" } dd { (text(&plan, "created_by")) " with " code { (text(&plan, "tool")) } }
            dt { "Created" } dd { (text(&plan, "created_at")) }
            dt { "Plan id" } dd { code { (text(&plan, "id")) } }
            dt { "Content hash" } dd { code class="fp" { (text(&plan, "content_hash")) } }
        }
        @if management_warning(&plan) {
            div class="notice error" role="alert" {
                p { strong { "This plan touches the management path" } " — the address, route or interface the server reaches a device by. A mistake here can cut the router off; the auto-revert is what brings it back." }
            }
        }
        section aria-labelledby="why" {
            h2 id="why" { "Why this risk" }
            @let reasons = plan.get("risk_reasons").and_then(Value::as_array).cloned().unwrap_or_default();
            @if reasons.is_empty() { p class="muted" { "No reasons recorded." } }
            ul { @for r in &reasons { li { (r.as_str().unwrap_or_default()) } } }
        }
        section aria-labelledby="revert" {
            h2 id="revert" { "Auto-revert" }
            @if plan.get("auto_revert").and_then(Value::as_bool) == Some(true) {
                p { "Applying arms a device-side auto-revert first: unless the apply confirms the change within " strong { (window) " seconds" } ", the router undoes it by itself." }
            } @else {
                p { "This plan changes nothing that can affect reachability, so no device-side auto-revert is armed." }
            }
        }
        section aria-labelledby="diff" {
            h2 id="diff" { "Changes, per device" }
            @for (device, list) in &by_device {
                h3 { (device) }
                ol class="changes" {
                    @for c in list {
                        li {
                            pre class="diff" { code { (text(c, "action")) " " (text(c, "menu")) @if !text(c, "target").is_empty() { " " (text(c, "target")) } "\n" (text(c, "description"))
                                @if let Some(props) = c.get("properties").and_then(Value::as_object) { @for (k, v) in props { "\n+ " (k) "=" (v.as_str().unwrap_or_default()) } }
                                @if let Some(unset) = c.get("unset").and_then(Value::as_array) { @for u in unset { "\n- " (u.as_str().unwrap_or_default()) } }
                            } }
                            @if let Some(undo) = c.get("undo").and_then(Value::as_array) { @if !undo.is_empty() {
                                p class="muted" { "Undone by: " @for (i, u) in undo.iter().enumerate() { @if i > 0 { "; " } (u.as_str().unwrap_or_default()) } }
                            } }
                        }
                    }
                }
            }
        }
        section aria-labelledby="decisions" {
            h2 id="decisions" { "Decisions" }
            @let decisions = plan.get("decisions").and_then(Value::as_array).cloned().unwrap_or_default();
            @if decisions.is_empty() { p class="muted" { "None yet." } }
            ul class="plain" { @for d in &decisions { li { strong { (text(d, "decision")) } " by " (text(d, "by")) " via " (text(d, "via")) " at " (text(d, "at")) @if !text(d, "reason").is_empty() { ": " q { (text(d, "reason")) } } } } }
        }
        @if pending && approver {
            section aria-labelledby="decide" {
                h2 id="decide" { "Decide" }
                div class="decide" {
                    form method="post" action=(action("approve")) class="stack" {
                        (csrf_field(session))
                        label for="a-comment" { "Comment (optional)" }
                        textarea id="a-comment" name="comment" rows="2" maxlength="1000" {}
                        button type="submit" class="primary" { "Approve" }
                    }
                    form method="post" action=(action("reject")) class="stack" {
                        (csrf_field(session))
                        label for="r-reason" { "Reason for rejecting" }
                        textarea id="r-reason" name="reason" rows="2" maxlength="1000" required {}
                        button type="submit" class="danger" { "Reject" }
                    }
                }
            }
        } @else if pending {
            p class="muted" { "Deciding on this plan needs the approver role in " (project) "." }
        }
        @if let Some(outcome) = plan.get("outcome").filter(|o| !o.is_null()) {
            section aria-labelledby="outcome" { h2 id="outcome" { "Outcome" } pre { code { (serde_json::to_string_pretty(outcome).unwrap_or_default()) } } }
        }
    };
    html_response(
        status,
        layout(
            &format!("Plan: {}", or_dash(&plan, "title")),
            Some(session),
            body,
        ),
    )
}

/// `GET /console/plans/{id}`.
pub(crate) async fn page(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let session = match signed_in(&console, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    render(&console, &session, &id, StatusCode::OK, None).await
}

/// `POST /console/plans/{id}/approve`.
pub(crate) async fn approve(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (session, form) = match posted(&console, &headers, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (project, _) = match find(&console, &session, &id).await {
        Ok(f) => f,
        Err(e) => return api_error(&session, &e),
    };
    let comment = field(&form, "comment");
    let request = if comment.is_empty() {
        json!({})
    } else {
        json!({ "comment": comment })
    };
    let path = format!("{}/plans/{}/approve", project_base(&project), segment(&id));
    let issued = match console.api.post(&session.principal, &path, request).await {
        Ok(v) => v,
        Err(e) => return api_error(&session, &e),
    };
    let message = html! {
        div class="notice ok token" role="status" {
            p { strong { "Approved." } " The approval token expires at " (text(&issued, "expires_at")) "." }
            label for="approval-token" { "Approval token" }
            input id="approval-token" readonly value=(text(&issued, "approval_token")) spellcheck="false" autocomplete="off";
            p { (TOKEN_SENTENCE) }
        }
    };
    render(&console, &session, &id, StatusCode::OK, Some(message)).await
}

/// `POST /console/plans/{id}/reject`.
pub(crate) async fn reject(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let (session, reason) = match posted_rejection(&console, &headers, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (project, _) = match find(&console, &session, &id).await {
        Ok(f) => f,
        Err(e) => return api_error(&session, &e),
    };
    let path = format!("{}/plans/{}/reject", project_base(&project), segment(&id));
    if let Err(e) = console
        .api
        .post(&session.principal, &path, json!({ "reason": reason }))
        .await
    {
        return api_error(&session, &e);
    }
    render(
        &console,
        &session,
        &id,
        StatusCode::OK,
        Some(notice("ok", "Rejected: the plan can no longer be applied.")),
    )
    .await
}
