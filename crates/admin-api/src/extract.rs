//! What every request goes through before a handler runs, and how handlers read their input.
//!
//! - [`correlate`] gives the request a fresh correlation id (in the log span of everything the
//!   request does, in its audit events, and in the `x-correlation-id` response header).
//! - [`require_principal`] answers 401 when the server's authentication put no principal in the
//!   request (fail closed: the router is never reachable anonymously).
//! - [`json_errors`] turns the few error responses the framework writes itself (405, a path it
//!   could not decode) into the API's JSON error shape (the router still adds `Allow` to a 405).
//! - [`Caller`] is the principal with the audit context its changes are recorded under.
//! - [`JsonBody`] reads a body of at most [`MAX_BODY_BYTES`] and parses it only when the
//!   handler asks — after the access checks, so a caller without access learns nothing from
//!   the parser. Its errors name the field that was wrong.
//! - [`ApiQuery`] parses the query string into a typed struct, naming the parameter that was
//!   wrong.

use std::sync::Arc;

use auth::Principal;
use axum::body::Body;
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use domain::CorrelationId;
use serde::de::DeserializeOwned;
use store::AuditContext;
use tracing::Instrument as _;

use crate::error::{ApiError, ErrorCode};

/// The response header that carries the request's correlation id.
pub const CORRELATION_HEADER: &str = "x-correlation-id";

/// The largest request body accepted (64 KiB); larger ones are answered 413.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

/// Body fields whose values are secrets: an error about them never quotes what was sent.
const SECRET_FIELDS: &[&str] = &["password"];

/// Gives the request its correlation id and runs it inside a span that carries it.
pub(crate) async fn correlate(mut request: Request, next: Next) -> Response {
    let id = CorrelationId::new();
    request.extensions_mut().insert(id);
    // Who asked, for the log of refusals as much as of changes (no token material here).
    let actor = request
        .extensions()
        .get::<Arc<Principal>>()
        .map_or_else(|| "none".to_owned(), |p| actor(p));
    let span = tracing::info_span!(
        "admin_api",
        correlation_id = %id,
        method = %request.method(),
        path = %request.uri().path(),
        actor = %actor,
    );
    let mut response = next.run(request).instrument(span.clone()).await;
    span.in_scope(|| {
        tracing::info!(status = response.status().as_u16(), "admin API request");
    });
    if let Ok(value) = HeaderValue::from_str(&id.to_string()) {
        response.headers_mut().insert(CORRELATION_HEADER, value);
    }
    response
}

/// Refuses a request that carries no verified principal.
pub(crate) async fn require_principal(request: Request, next: Next) -> Response {
    if request.extensions().get::<Arc<Principal>>().is_none() {
        return ApiError::unauthenticated().into_response();
    }
    next.run(request).await
}

/// Rewrites an error response the framework produced itself (plain text or empty) into the
/// API's JSON error shape; the API's own errors pass untouched.
pub(crate) async fn json_errors(request: Request, next: Next) -> Response {
    let method = request.method().clone();
    let response = next.run(request).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(response.headers()) {
        return response;
    }
    let error = if status == StatusCode::METHOD_NOT_ALLOWED {
        // The router adds the `Allow` header to the response after this layer.
        ApiError::new(
            status,
            ErrorCode::InvalidRequest,
            format!(
                "method {method} is not allowed on this path; the Allow header lists the methods it has"
            ),
        )
    } else if status.is_server_error() {
        ApiError::internal(&format!("the framework answered {status}"))
    } else {
        let code = match status {
            StatusCode::NOT_FOUND => ErrorCode::NotFound,
            StatusCode::UNAUTHORIZED => ErrorCode::Unauthenticated,
            StatusCode::FORBIDDEN => ErrorCode::Forbidden,
            _ => ErrorCode::InvalidRequest,
        };
        let text = axum::body::to_bytes(response.into_body(), 4096)
            .await
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default();
        let message = if text.trim().is_empty() {
            status
                .canonical_reason()
                .unwrap_or("the request was refused")
                .to_owned()
        } else {
            domain::text::escape(text.trim()).into_owned()
        };
        ApiError::new(status, code, message)
    };
    error.into_response()
}

fn is_json(headers: &axum::http::HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(is_json_type)
}

/// `application/json` or `application/<anything>+json`, with any parameters.
fn is_json_type(content_type: &str) -> bool {
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or_default()
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// How a principal is named as an actor: `api:<kind>:<subject>`.
fn actor(principal: &Principal) -> String {
    format!("api:{}:{}", principal.kind.as_str(), principal.subject)
}

/// The verified principal and the audit context its changes are recorded under.
#[derive(Debug, Clone)]
pub(crate) struct Caller {
    pub principal: Arc<Principal>,
    /// Actor `api:<kind>:<subject>` and the request's correlation id.
    pub audit: AuditContext,
}

impl Caller {
    /// The actor name, as recorded in audit events and approvals.
    pub fn actor(&self) -> &str {
        &self.audit.actor
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let principal = parts
            .extensions
            .get::<Arc<Principal>>()
            .cloned()
            .ok_or_else(ApiError::unauthenticated)?;
        let correlation_id = parts
            .extensions
            .get::<CorrelationId>()
            .copied()
            .unwrap_or_default();
        let audit = AuditContext {
            actor: actor(&principal),
            correlation_id,
        };
        Ok(Self { principal, audit })
    }
}

/// A request body of at most [`MAX_BODY_BYTES`], parsed on demand.
#[derive(Debug)]
pub(crate) struct JsonBody {
    content_type: Option<String>,
    bytes: Bytes,
}

impl<S: Send + Sync> FromRequest<S> for JsonBody {
    type Rejection = ApiError;

    async fn from_request(request: Request<Body>, _state: &S) -> Result<Self, ApiError> {
        let too_large = || {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                ErrorCode::InvalidRequest,
                format!(
                    "the request body is larger than {MAX_BODY_BYTES} bytes, the most this API accepts"
                ),
            )
        };
        let declared = request
            .headers()
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse::<u64>().ok());
        if declared.is_some_and(|n| n > MAX_BODY_BYTES as u64) {
            return Err(too_large());
        }
        let content_type = request
            .headers()
            .get(header::CONTENT_TYPE)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
        let limited = http_body_util::Limited::new(request.into_body(), MAX_BODY_BYTES);
        let bytes = match http_body_util::BodyExt::collect(limited).await {
            Ok(collected) => collected.to_bytes(),
            Err(e) if e.is::<http_body_util::LengthLimitError>() => return Err(too_large()),
            Err(_) => {
                return Err(ApiError::invalid(
                    "the request body could not be read to its end",
                ));
            }
        };
        Ok(Self {
            content_type,
            bytes,
        })
    }
}

impl JsonBody {
    /// Parses a required JSON body.
    pub fn parse<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        if self.bytes.iter().all(u8::is_ascii_whitespace) {
            return Err(ApiError::invalid(
                "this request needs a JSON body (Content-Type: application/json)",
            ));
        }
        self.parse_present()
    }

    /// Parses an optional JSON body: an empty body is `T::default()`.
    pub fn parse_or_default<T: DeserializeOwned + Default>(&self) -> Result<T, ApiError> {
        if self.bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(T::default());
        }
        self.parse_present()
    }

    fn parse_present<T: DeserializeOwned>(&self) -> Result<T, ApiError> {
        match self.content_type.as_deref() {
            Some(t) if is_json_type(t) => {}
            other => {
                return Err(ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    ErrorCode::InvalidRequest,
                    format!(
                        "the request body must be JSON with Content-Type: application/json (got {})",
                        other.map_or_else(
                            || "no Content-Type".to_owned(),
                            |t| format!("\"{}\"", domain::text::escape(t))
                        )
                    ),
                ));
            }
        }
        let mut de = serde_json::Deserializer::from_slice(&self.bytes);
        let value: T = serde_path_to_error::deserialize(&mut de).map_err(body_error)?;
        de.end().map_err(|e| {
            ApiError::invalid(format!("malformed JSON: {e}; send exactly one JSON object"))
        })?;
        Ok(value)
    }
}

/// What was wrong with a body, naming the field (and never quoting a secret's value).
fn body_error(e: serde_path_to_error::Error<serde_json::Error>) -> ApiError {
    let path = e.path().to_string();
    let inner = e.into_inner();
    match inner.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            ApiError::invalid(format!("malformed JSON: {inner}"))
        }
        serde_json::error::Category::Io | serde_json::error::Category::Data => {
            let last = path.rsplit('.').next().unwrap_or_default();
            if SECRET_FIELDS.contains(&last) {
                return ApiError::invalid(format!(
                    "{path}: expected a non-empty string (the value is not repeated here)"
                ));
            }
            // serde names an unknown or missing field itself; elsewhere, say where.
            let message = inner.to_string();
            let message = strip_position(&message);
            if path == "." || path.is_empty() {
                ApiError::invalid(format!("invalid request body: {message}"))
            } else {
                ApiError::invalid(format!("{path}: {message}"))
            }
        }
    }
}

/// `… at line 1 column 20` → `…` (the field is named instead).
fn strip_position(message: &str) -> &str {
    match message.rfind(" at line ") {
        Some(i) => &message[..i],
        None => message,
    }
}

/// A query string parsed into `T`.
#[derive(Debug)]
pub(crate) struct ApiQuery<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, ApiError> {
        let query = parts.uri.query().unwrap_or_default();
        let de = serde_urlencoded::Deserializer::new(form_urlencoded::parse(query.as_bytes()));
        serde_path_to_error::deserialize(de)
            .map(ApiQuery)
            .map_err(|e| {
                let path = e.path().to_string();
                let inner = e.into_inner();
                if path == "." || path.is_empty() {
                    ApiError::invalid(format!("invalid query string: {inner}"))
                } else {
                    ApiError::invalid(format!("query parameter {path}: {inner}"))
                }
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_content_types_are_recognised_with_parameters() {
        assert!(is_json_type("application/json"));
        assert!(is_json_type("Application/JSON; charset=utf-8"));
        assert!(is_json_type("application/merge-patch+json"));
        assert!(!is_json_type("text/plain"));
        assert!(!is_json_type("application/x-www-form-urlencoded"));
    }

    #[test]
    fn positions_give_way_to_field_names() {
        assert_eq!(
            strip_position("invalid type: string \"x\", expected u16 at line 1 column 20"),
            "invalid type: string \"x\", expected u16"
        );
        assert_eq!(strip_position("no position"), "no position");
    }
}
