//! `/console/reviews`: proposed runbook versions waiting for review, highest priority first, and
//! the queue's statistics; `/console/reviews/{id}`: a proposal's diff against its parent, the
//! failed run that caused it, and approve/reject with notes. The review queue takes roles held
//! for every project; the admin API decides.

use std::sync::Arc;

use auth::Role;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Value, json};

use super::{
    api_error, csrf_field, field, html_response, items, layout, may_everywhere, notice, or_dash,
    posted, posted_rejection, signed_in, text,
};
use crate::Console;
use crate::api::segment;
use crate::session::Session;

fn priority_rank(p: &str) -> u8 {
    match p {
        "critical" => 0,
        "high" => 1,
        "medium" => 2,
        "low" => 3,
        _ => 4,
    }
}

/// `GET /console/reviews`.
pub(crate) async fn list(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    let session = match signed_in(&console, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let p = &session.principal;
    let pending = match console.api.get(p, "/api/review/pending?limit=200").await {
        Ok(v) => v,
        Err(e) => return api_error(&session, &e),
    };
    let stats = console
        .api
        .get(p, "/api/review/stats")
        .await
        .unwrap_or(Value::Null);
    let mut rows: Vec<Value> = items(&pending).to_vec();
    rows.sort_by_key(|r| (priority_rank(&text(r, "priority")), text(r, "created_at")));
    let body = html! {
        section aria-labelledby="stats" {
            h2 id="stats" { "Statistics" }
            dl class="facts" {
                dt { "Pending review" } dd { (or_dash(&stats, "pending_review")) }
                dt { "In review" } dd { (or_dash(&stats, "in_review")) }
                dt { "Approved" } dd { (or_dash(&stats, "approved")) }
                dt { "Rejected" } dd { (or_dash(&stats, "rejected")) }
                dt { "Approval ratio" } dd { (or_dash(&stats, "approval_ratio")) }
                dt { "Oldest high-priority proposal" } dd { (or_dash(&stats, "oldest_high_priority_at")) }
            }
        }
        section aria-labelledby="queue" {
            h2 id="queue" { "Waiting for review" }
            @if rows.is_empty() { p class="muted" { "Nothing is waiting." } } @else {
                div class="table-wrap" { table {
                    caption { "Proposed runbook versions, highest priority first" }
                    thead { tr { th scope="col" { "Runbook" } th scope="col" { "Version" } th scope="col" { "Priority" } th scope="col" { "Failure" } th scope="col" { "Proposed by" } th scope="col" { "Created" } } }
                    tbody { @for r in &rows { tr {
                        th scope="row" { a href=(format!("/console/reviews/{}", segment(&text(r, "id")))) { (text(r, "runbook")) } }
                        td { (text(r, "version")) } td { span class=(format!("risk risk-{}", text(r, "priority"))) { (or_dash(r, "priority")) } }
                        td { (or_dash(r, "failure_type")) } td { (or_dash(r, "proposed_by")) } td { (text(r, "created_at")) }
                    } } }
                } }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout("Runbook reviews", Some(&session), body),
    )
}

async fn render(
    console: &Console,
    session: &Session,
    id: &str,
    message: Option<Markup>,
) -> Response {
    let p = &session.principal;
    let proposal = match console
        .api
        .get(p, &format!("/api/review/runbook/{}", segment(id)))
        .await
    {
        Ok(v) => v,
        Err(e) => return api_error(session, &e),
    };
    let status = text(&proposal, "status");
    let open = status == "pending_review" || status == "in_review";
    let approver = may_everywhere(p, Role::Approver);
    let diff = proposal.get("diff").cloned().unwrap_or(Value::Null);
    let parent = proposal.get("parent").cloned().unwrap_or(Value::Null);
    let run = proposal.get("source_run").cloned().unwrap_or(Value::Null);
    let action = |what: &str| format!("/console/reviews/{}/{what}", segment(id));
    let body = html! {
        @if let Some(m) = message { (m) }
        dl class="facts" {
            dt { "Status" } dd { span class=(format!("status status-{status}")) { (status) } }
            dt { "Priority" } dd { (or_dash(&proposal, "priority")) }
            dt { "Proposed by" } dd { (or_dash(&proposal, "proposed_by")) }
            dt { "Rationale" } dd { (or_dash(&proposal, "rationale")) }
            dt { "Parent version" } dd { @if parent.is_null() { "— (a new runbook)" } @else { (text(&parent, "version")) " (" (text(&parent, "status")) ")" } }
            @if !text(&proposal, "reviewer").is_empty() {
                dt { "Reviewed by" } dd { (text(&proposal, "reviewer")) " at " (text(&proposal, "reviewed_at")) ": " (or_dash(&proposal, "review_notes")) }
            }
        }
        section aria-labelledby="diff" {
            h2 id="diff" { "Changes against the parent (+" (text(&diff, "added")) " −" (text(&diff, "removed")) ")" }
            pre class="diff" { code { (text(&diff, "unified")) } }
        }
        section aria-labelledby="run" {
            h2 id="run" { "The failed run behind it" }
            @if run.is_null() { p class="muted" { "No run is recorded for this proposal." } } @else {
                dl class="facts" {
                    dt { "Run" } dd { code { (text(&run, "id")) } }
                    dt { "Status" } dd { (text(&run, "status")) }
                    dt { "Started by" } dd { (text(&run, "started_by")) " at " (text(&run, "started_at")) }
                    dt { "Device" } dd { (or_dash(&run, "device_id")) " (" (or_dash(&run, "project")) ")" }
                    dt { "Failed step" } dd { (or_dash(&run, "failed_step")) }
                    dt { "Failure" } dd { (or_dash(&run, "failure_type")) ": " (or_dash(&run, "failure_reason")) }
                }
                details { summary { "Steps" } pre { code { (serde_json::to_string_pretty(run.get("steps").unwrap_or(&Value::Null)).unwrap_or_default()) } } }
            }
        }
        @if open && approver {
            section aria-labelledby="decide" {
                h2 id="decide" { "Decide" }
                div class="decide" {
                    form method="post" action=(action("approve")) class="stack" {
                        (csrf_field(session))
                        label for="rv-notes" { "Notes (optional)" }
                        textarea id="rv-notes" name="notes" rows="2" {}
                        button type="submit" class="primary" { "Approve this version" }
                    }
                    form method="post" action=(action("reject")) class="stack" {
                        (csrf_field(session))
                        label for="rv-reason" { "Reason for rejecting" }
                        textarea id="rv-reason" name="reason" rows="2" required {}
                        button type="submit" class="danger" { "Reject" }
                    }
                }
            }
        } @else if open {
            p class="muted" { "Deciding needs the approver role for every project." }
        }
        details { summary { "The proposed runbook in full" } pre { code { (text(&proposal, "content")) } } }
    };
    html_response(
        StatusCode::OK,
        layout(
            &format!(
                "Review: {} {}",
                text(&proposal, "runbook"),
                text(&proposal, "version")
            ),
            Some(session),
            body,
        ),
    )
}

/// `GET /console/reviews/{id}`.
pub(crate) async fn page(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let session = match signed_in(&console, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    render(&console, &session, &id, None).await
}

/// `POST /console/reviews/{id}/approve`.
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
    let notes = field(&form, "notes");
    let request = if notes.is_empty() {
        json!({})
    } else {
        json!({ "notes": notes })
    };
    if let Err(e) = console
        .api
        .post(
            &session.principal,
            &format!("/api/review/approve/{}", segment(&id)),
            request,
        )
        .await
    {
        return api_error(&session, &e);
    }
    render(
        &console,
        &session,
        &id,
        Some(notice(
            "ok",
            "Approved: this version is now served to every project.",
        )),
    )
    .await
}

/// `POST /console/reviews/{id}/reject`.
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
    if let Err(e) = console
        .api
        .post(
            &session.principal,
            &format!("/api/review/reject/{}", segment(&id)),
            json!({ "reason": reason }),
        )
        .await
    {
        return api_error(&session, &e);
    }
    render(&console, &session, &id, Some(notice("ok", "Rejected."))).await
}
