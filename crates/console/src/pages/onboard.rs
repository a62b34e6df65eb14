//! `/console/devices/new`: onboarding in two steps. First the server contacts the address with
//! the credentials given and shows the TLS certificate and SSH host key fingerprints the device
//! presents — nothing is stored. The person compares them with what the router shows on its own
//! console and confirms; only then is the device created, pinned to exactly those
//! fingerprints (a device presenting anything else at that moment is refused).
//!
//! The password is asked again at the confirmation: it is never written into a page.

use std::sync::Arc;

use auth::Role;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use maud::{Markup, html};
use serde_json::{Map, Value, json};

use super::{
    api_error, csrf_field, error_page, field, html_response, layout, may, notice, posted, projects,
    signed_in, text,
};
use crate::Console;
use crate::api::{project_base, segment};
use crate::session::Session;

const FIELDS: [&str; 7] = [
    "project",
    "name",
    "address",
    "rest_port",
    "ssh_port",
    "driver",
    "environment",
];

fn form_page(session: &Session, admin_projects: &[String], message: Option<Markup>) -> Markup {
    html! {
        @if let Some(m) = message { (m) }
        @if admin_projects.is_empty() {
            (notice("warning", "Onboarding needs the admin role in a project; you hold it in none."))
        } @else {
            p { "Step 1 of 2: the server contacts the device and shows what it presents. Nothing is stored yet." }
            form method="post" action="/console/devices/new" class="stack" {
                (csrf_field(session))
                div class="field" {
                    label for="o-project" { "Project" }
                    select id="o-project" name="project" required {
                        @for p in admin_projects { option value=(p) { (p) } }
                    }
                }
                div class="field" { label for="o-name" { "Name" } input id="o-name" name="name" required maxlength="64" autocomplete="off"; }
                div class="field" { label for="o-address" { "Management address" } input id="o-address" name="address" required autocomplete="off" placeholder="192.0.2.1"; }
                div class="row" {
                    div class="field" { label for="o-rest" { "REST (HTTPS) port" } input id="o-rest" name="rest_port" inputmode="numeric" value="443"; }
                    div class="field" { label for="o-ssh" { "SSH port" } input id="o-ssh" name="ssh_port" inputmode="numeric" value="22"; }
                }
                div class="row" {
                    div class="field" {
                        label for="o-driver" { "Driver" }
                        select id="o-driver" name="driver" { option value="auto" { "auto (REST, then SSH)" } option value="rest" { "rest" } option value="ssh" { "ssh" } }
                    }
                    div class="field" {
                        label for="o-env" { "Environment" }
                        select id="o-env" name="environment" { option value="prod" { "prod" } option value="staging" { "staging" } option value="lab" { "lab" } }
                    }
                }
                div class="field" { label for="o-user" { "RouterOS user" } input id="o-user" name="username" required autocomplete="off"; }
                div class="field" { label for="o-pass" { "Password" } input id="o-pass" type="password" name="password" required autocomplete="new-password"; }
                button type="submit" class="primary" { "Contact the device" }
            }
        }
    }
}

async fn admin_projects(console: &Console, session: &Session) -> Result<Vec<String>, Response> {
    match projects(console, &session.principal).await {
        Ok(list) => Ok(list
            .into_iter()
            .filter(|p| may(&session.principal, Role::Admin, Some(p)))
            .collect()),
        Err(e) => Err(api_error(session, &e)),
    }
}

/// `GET /console/devices/new`.
pub(crate) async fn page(State(console): State<Arc<Console>>, headers: HeaderMap) -> Response {
    let session = match signed_in(&console, &headers).await {
        Ok(s) => s,
        Err(r) => return r,
    };
    let list = match admin_projects(&console, &session).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    html_response(
        StatusCode::OK,
        layout(
            "Onboard a device",
            Some(&session),
            form_page(&session, &list, None),
        ),
    )
}

/// The connection fields of the form as admin API JSON (ports as numbers).
fn connection(
    form: &std::collections::HashMap<String, String>,
) -> Result<Map<String, Value>, String> {
    let mut body = Map::new();
    body.insert("address".into(), json!(field(form, "address")));
    for port in ["rest_port", "ssh_port"] {
        let text = field(form, port);
        if !text.is_empty() {
            let n: u16 = text
                .parse()
                .map_err(|_| format!("{port}: \"{text}\" is not a port number (1 to 65535)"))?;
            body.insert(port.into(), json!(n));
        }
    }
    let driver = field(form, "driver");
    if !driver.is_empty() {
        body.insert("driver".into(), json!(driver));
    }
    body.insert("username".into(), json!(field(form, "username")));
    body.insert(
        "password".into(),
        json!(form.get("password").map_or("", String::as_str)),
    );
    Ok(body)
}

/// `POST /console/devices/new`: probe without pinning, then the confirmation form.
pub(crate) async fn probe(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (session, form) = match posted(&console, &headers, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    let list = match admin_projects(&console, &session).await {
        Ok(l) => l,
        Err(r) => return r,
    };
    let retry = |status: StatusCode, message: &str| {
        html_response(
            status,
            layout(
                "Onboard a device",
                Some(&session),
                form_page(&session, &list, Some(notice("error", message))),
            ),
        )
    };
    let project = field(&form, "project");
    let request = match connection(&form) {
        Ok(b) => b,
        Err(why) => return retry(StatusCode::BAD_REQUEST, &why),
    };
    let answer = match console
        .api
        .post(
            &session.principal,
            &format!("{}/device-probes", project_base(project)),
            Value::Object(request),
        )
        .await
    {
        Ok(v) => v,
        Err(e) if e.status.is_client_error() => return retry(e.status, &e.message),
        Err(e) => return api_error(&session, &e),
    };
    let probes = answer
        .get("probes")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    let presented = |driver: &str| {
        probes
            .iter()
            .find(|p| {
                text(p, "driver") == driver
                    && p.get("reachable").and_then(Value::as_bool) == Some(true)
            })
            .map(|p| text(p, "presented"))
            .filter(|s| !s.is_empty())
    };
    let tls = presented("rest");
    let ssh = presented("ssh");
    if tls.is_none() && ssh.is_none() {
        let why: Vec<String> = probes
            .iter()
            .map(|p| format!("{}: {}", text(p, "driver"), text(p, "error")))
            .collect();
        return retry(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!(
                "the device could not be reached with these details ({}); nothing was stored",
                why.join("; ")
            ),
        );
    }
    let body = html! {
        p { "Step 2 of 2: compare these fingerprints with the ones the router itself shows (" code { "/certificate print detail" } " for the certificate, " code { "/ip ssh print" } " for the host key). Pin them only if they match." }
        div class="table-wrap" {
            table {
                caption { "What the device at " (field(&form, "address")) " presented" }
                thead { tr { th scope="col" { "Driver" } th scope="col" { "Reachable" } th scope="col" { "Identity" } th scope="col" { "RouterOS" } th scope="col" { "Fingerprint (SHA-256)" } } }
                tbody {
                    @for p in &probes {
                        tr {
                            th scope="row" { (text(p, "driver")) }
                            td { @if p.get("reachable").and_then(Value::as_bool) == Some(true) { "yes" } @else { "no: " (text(p, "error")) } }
                            td { (text(p, "identity")) }
                            td { (text(p, "version")) }
                            td { code class="fp" { (text(p, "presented")) } }
                        }
                    }
                }
            }
        }
        form method="post" action="/console/devices/confirm" class="stack" {
            (csrf_field(&session))
            @for name in FIELDS { input type="hidden" name=(name) value=(field(&form, name)); }
            input type="hidden" name="username" value=(field(&form, "username"));
            @if let Some(f) = &tls { input type="hidden" name="tls_cert_sha256" value=(f); }
            @if let Some(f) = &ssh { input type="hidden" name="ssh_host_key_sha256" value=(f); }
            div class="field" { label for="c-pass" { "Password for " (field(&form, "username")) ", again" } input id="c-pass" type="password" name="password" required autocomplete="current-password"; }
            div class="check" {
                input id="c-match" type="checkbox" name="fingerprints_match" value="yes" required;
                label for="c-match" { "The fingerprints match what the router shows" }
            }
            div class="actions" {
                button type="submit" class="primary" { "Pin these fingerprints and add " (field(&form, "name")) }
                a class="button" href="/console/devices/new" { "Start again" }
            }
        }
    };
    html_response(
        StatusCode::OK,
        layout("Confirm the device's identity", Some(&session), body),
    )
}

/// `POST /console/devices/confirm`: create the device pinned to the confirmed fingerprints.
pub(crate) async fn confirm(
    State(console): State<Arc<Console>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let (session, form) = match posted(&console, &headers, &body).await {
        Ok(p) => p,
        Err(r) => return r,
    };
    if field(&form, "fingerprints_match") != "yes" {
        return error_page(
            Some(&session),
            StatusCode::BAD_REQUEST,
            "confirm that the fingerprints match before they are pinned; nothing was stored",
        );
    }
    let mut request = match connection(&form) {
        Ok(b) => b,
        Err(why) => return error_page(Some(&session), StatusCode::BAD_REQUEST, &why),
    };
    request.insert("name".into(), json!(field(&form, "name")));
    let environment = field(&form, "environment");
    if !environment.is_empty() {
        request.insert("environment".into(), json!(environment));
    }
    for pin in ["tls_cert_sha256", "ssh_host_key_sha256"] {
        let value = field(&form, pin);
        if !value.is_empty() {
            request.insert(pin.into(), json!(value));
        }
    }
    let project = field(&form, "project");
    match console
        .api
        .post(
            &session.principal,
            &format!("{}/devices", project_base(project)),
            Value::Object(request),
        )
        .await
    {
        Ok(created) => {
            let device = created.get("device").cloned().unwrap_or(Value::Null);
            axum::response::IntoResponse::into_response(axum::response::Redirect::to(&format!(
                "/console/devices/{}?project={}",
                segment(&text(&device, "id")),
                segment(project)
            )))
        }
        Err(e) => api_error(&session, &e),
    }
}
