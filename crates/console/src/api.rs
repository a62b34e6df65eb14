//! The admin API, called in-process as the signed-in principal.
//!
//! A request is built exactly as one from the network would arrive after authentication — the
//! method, the `/v1/...` path, a JSON body, and the verified principal in its extensions — and
//! handed to the admin API's router with `tower::ServiceExt::oneshot`. Whatever the admin API
//! answers (its data, or its refusal: 403 for a role the principal lacks, 404 for another
//! tenant's object) is what the page shows.

use std::sync::Arc;

use auth::Principal;
use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request, StatusCode, header};
use serde_json::Value;
use tower::ServiceExt as _;

/// The largest admin API answer the console reads.
const MAX_ANSWER: usize = 8 * 1024 * 1024;

/// The admin API's router.
#[derive(Clone)]
pub struct Api {
    router: Router,
}

impl std::fmt::Debug for Api {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Api")
    }
}

/// An admin API refusal or failure, as it answered.
#[derive(Debug, Clone)]
pub struct ApiFailure {
    pub status: StatusCode,
    /// The API's error code (`forbidden`, `not_found`, …).
    pub code: String,
    pub message: String,
}

impl std::fmt::Display for ApiFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.message, self.status.as_u16())
    }
}

impl Api {
    pub fn new(router: Router) -> Self {
        Self { router }
    }

    /// `GET path` as `principal`.
    pub async fn get(&self, principal: &Arc<Principal>, path: &str) -> Result<Value, ApiFailure> {
        self.call(principal, Method::GET, path, None).await
    }

    /// `POST path` with a JSON body as `principal`.
    pub async fn post(
        &self,
        principal: &Arc<Principal>,
        path: &str,
        body: Value,
    ) -> Result<Value, ApiFailure> {
        self.call(principal, Method::POST, path, Some(body)).await
    }

    /// `DELETE path` as `principal`.
    pub async fn delete(
        &self,
        principal: &Arc<Principal>,
        path: &str,
    ) -> Result<Value, ApiFailure> {
        self.call(principal, Method::DELETE, path, None).await
    }

    async fn call(
        &self,
        principal: &Arc<Principal>,
        method: Method,
        path: &str,
        body: Option<Value>,
    ) -> Result<Value, ApiFailure> {
        let internal = |message: String| ApiFailure {
            status: StatusCode::INTERNAL_SERVER_ERROR,
            code: "internal".into(),
            message,
        };
        let mut builder = Request::builder().method(method).uri(path);
        let body = match body {
            Some(value) => {
                builder = builder.header(header::CONTENT_TYPE, "application/json");
                Body::from(value.to_string())
            }
            None => Body::empty(),
        };
        let mut request = builder
            .body(body)
            .map_err(|e| internal(format!("the console built a bad request: {e}")))?;
        request.extensions_mut().insert(Arc::clone(principal));
        let response = self
            .router
            .clone()
            .oneshot(request)
            .await
            .map_err(|e| internal(format!("the admin API failed: {e}")))?;
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), MAX_ANSWER)
            .await
            .map_err(|e| internal(format!("reading the admin API's answer failed: {e}")))?;
        let value: Value = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .map_err(|e| internal(format!("the admin API answered something not JSON: {e}")))?
        };
        if status.is_success() {
            return Ok(value);
        }
        Err(ApiFailure {
            status,
            code: value
                .get("code")
                .and_then(Value::as_str)
                .unwrap_or("error")
                .to_owned(),
            message: value
                .get("message")
                .and_then(Value::as_str)
                .unwrap_or("the admin API refused the request")
                .to_owned(),
        })
    }
}

/// A path segment, percent-encoded.
pub fn segment(text: &str) -> String {
    form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

/// `?k=v&…` of the non-empty pairs (empty when none).
pub fn query(pairs: &[(&str, &str)]) -> String {
    let mut s = form_urlencoded::Serializer::new(String::new());
    let mut any = false;
    for (k, v) in pairs.iter().filter(|(_, v)| !v.is_empty()) {
        s.append_pair(k, v);
        any = true;
    }
    if any {
        format!("?{}", s.finish())
    } else {
        String::new()
    }
}

/// `/v1/organizations/{org}/projects/{project}` of `ORG/PROJECT`.
pub fn project_base(project: &str) -> String {
    let (org, name) = project.split_once('/').unwrap_or((project, ""));
    format!(
        "/v1/organizations/{}/projects/{}",
        segment(org),
        segment(name)
    )
}
