//! `/console`: the fleet — every device the principal sees, with its reachability (when a call
//! last reached it), RouterOS version, configuration drift and last backup; filtered by
//! project, tag and environment.

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::html;
use serde::Deserialize;
use serde_json::Value;

use super::{api_error, html_response, items, layout, or_dash, projects, signed_in, text};
use crate::Console;
use crate::api::{project_base, query, segment};

/// The filters.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Filter {
    #[serde(default)]
    project: String,
    #[serde(default)]
    tag: String,
    #[serde(default)]
    environment: String,
}

const ENVIRONMENTS: [&str; 3] = ["lab", "staging", "prod"];

/// Whether a device carries `tag` (`key` or `key=value`).
fn has_tag(device: &Value, tag: &str) -> bool {
    let Some(tags) = device.get("tags").and_then(Value::as_object) else {
        return false;
    };
    match tag.split_once('=') {
        Some((k, v)) => tags.get(k.trim()).and_then(Value::as_str) == Some(v.trim()),
        None => tags.contains_key(tag),
    }
}

pub(crate) async fn page(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    Query(filter): Query<Filter>,
) -> Response {
    let session = match signed_in(&console, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let p = &session.principal;
    let all = match projects(&console, p).await {
        Ok(list) => list,
        Err(e) => return api_error(&session, &e),
    };
    let environment = if ENVIRONMENTS.contains(&filter.environment.as_str()) {
        filter.environment.as_str()
    } else {
        ""
    };
    let chosen: Vec<&String> = all
        .iter()
        .filter(|name| filter.project.is_empty() || **name == filter.project)
        .collect();
    let mut rows: Vec<(String, Value, Value)> = Vec::new();
    for project in &chosen {
        let base = project_base(project);
        let list = match console
            .api
            .get(
                p,
                &format!(
                    "{base}/devices{}",
                    query(&[("environment", environment), ("limit", "500")])
                ),
            )
            .await
        {
            Ok(v) => v,
            Err(e) => return api_error(&session, &e),
        };
        let states = match console.api.get(p, &format!("{base}/backup-status")).await {
            Ok(v) => v,
            Err(e) => return api_error(&session, &e),
        };
        let by_device: HashMap<String, Value> = items(&states)
            .iter()
            .map(|s| (text(s, "device_id"), s.clone()))
            .collect();
        for d in items(&list) {
            if !filter.tag.trim().is_empty() && !has_tag(d, filter.tag.trim()) {
                continue;
            }
            let state = by_device
                .get(&text(d, "id"))
                .cloned()
                .unwrap_or(Value::Null);
            rows.push(((*project).clone(), d.clone(), state));
        }
    }
    let body = html! {
        form class="filters" method="get" action="/console" role="search" aria-label="Filter devices" {
            div class="field" {
                label for="f-project" { "Project" }
                select id="f-project" name="project" {
                    option value="" { "All projects" }
                    @for name in &all {
                        option value=(name) selected[*name == filter.project] { (name) }
                    }
                }
            }
            div class="field" {
                label for="f-tag" { "Tag" }
                input id="f-tag" name="tag" value=(filter.tag) placeholder="site=hq";
            }
            div class="field" {
                label for="f-env" { "Environment" }
                select id="f-env" name="environment" {
                    option value="" { "Any" }
                    @for e in ENVIRONMENTS {
                        option value=(e) selected[e == environment] { (e) }
                    }
                }
            }
            button type="submit" { "Filter" }
        }
        @if all.is_empty() {
            p { "You hold no role in any project yet; ask an administrator for one." }
        } @else if rows.is_empty() {
            p { "No devices match." }
        } @else {
            div class="table-wrap" {
                table {
                    caption { (rows.len()) " devices" }
                    thead { tr {
                        th scope="col" { "Device" } th scope="col" { "Project" } th scope="col" { "Environment" }
                        th scope="col" { "Reachability" } th scope="col" { "RouterOS" } th scope="col" { "Drift" }
                        th scope="col" { "Last backup" }
                    } }
                    tbody {
                        @for (project, d, state) in &rows {
                            tr {
                                th scope="row" {
                                    a href=(format!("/console/devices/{}?project={}", segment(&text(d, "id")), segment(project))) { (text(d, "name")) }
                                    br; small { (text(d, "address")) }
                                }
                                td { (project) }
                                td { span class=(format!("env env-{}", text(d, "environment"))) { (text(d, "environment")) } }
                                td {
                                    @if text(d, "status") != "active" { span class="badge" { (text(d, "status")) } " " }
                                    @match d.get("last_seen_at").and_then(Value::as_str) {
                                        Some(at) => { "last reached " time datetime=(at) { (at) } }
                                        None => { span class="muted" { "never reached" } }
                                    }
                                    @if text(state, "last_check_status") == "failed" { br; span class="bad" { "last backup check failed" } }
                                }
                                td { (or_dash(d, "routeros_version")) }
                                td {
                                    @match state.get("drift_since").and_then(Value::as_str) {
                                        Some(since) => { span class="bad" { "drifted since " (since) } }
                                        None => { @if state.get("last_backup_at").and_then(Value::as_str).is_some() { span class="good" { "in line" } } @else { span class="muted" { "unknown" } } }
                                    }
                                }
                                td { (or_dash(state, "last_backup_at")) }
                            }
                        }
                    }
                }
            }
        }
    };
    html_response(StatusCode::OK, layout("Fleet", Some(&session), body))
}
