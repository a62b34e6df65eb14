//! The API's errors: one JSON shape (`{"code", "message", "details"}`) with a stable code per
//! kind of failure, and the mapping from the registry's, the fleet's and the workflow's errors
//! into it.
//!
//! Messages are written for the caller: what was wrong and what to do. Our own failures (the
//! database, the vault, a stored value that does not parse) are logged with their cause and
//! answered with an opaque `internal` error, so no SQL, path or stored value reaches a caller.

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fleet::FleetError;
use serde::Serialize;
use serde_json::Value;
use store::StoreError;
use tools::runbook::CreateError;
use tools::runbook::review::ReviewError;
use workflow::WorkflowError;

/// What kind of failure an error is; the wire form is stable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ErrorCode {
    /// No verified principal came with the request (401).
    Unauthenticated,
    /// The principal can see the object but lacks the role the action needs (403).
    Forbidden,
    /// No such thing, or nothing the principal may see (404).
    NotFound,
    /// The request is malformed or a value is not allowed (400, 413, 415, 405).
    InvalidRequest,
    /// The request is valid but the object's state does not allow it (409).
    Conflict,
    /// A new device failed its checks (unreachable, wrong identity, login refused) and was not
    /// added (422).
    OnboardingFailed,
    /// A registered device did not do what was asked (unreachable, refused) (502).
    DeviceError,
    /// The server failed; its log has the details under the correlation id (500).
    Internal,
}

/// The body of every error response.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub code: ErrorCode,
    /// What was wrong and what is allowed, for a person.
    pub message: String,
    /// More about the failure where there is more (an onboarding's per-driver findings), else
    /// null.
    #[schema(value_type = Option<Object>, required = true)]
    pub details: Option<Value>,
}

/// An error on its way to becoming a response.
#[derive(Debug, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    status: StatusCode,
    code: ErrorCode,
    message: String,
    details: Option<Value>,
    /// Extra response headers (`Allow` on 405, `WWW-Authenticate` on 401).
    headers: Vec<(header::HeaderName, HeaderValue)>,
}

impl ApiError {
    pub(crate) fn new(status: StatusCode, code: ErrorCode, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
            details: None,
            headers: Vec::new(),
        }
    }

    pub(crate) fn with_details(mut self, details: Value) -> Self {
        self.details = Some(details);
        self
    }

    pub(crate) fn with_header(mut self, name: header::HeaderName, value: HeaderValue) -> Self {
        self.headers.push((name, value));
        self
    }

    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, ErrorCode::InvalidRequest, message)
    }

    pub(crate) fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, ErrorCode::NotFound, message)
    }

    pub(crate) fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, ErrorCode::Forbidden, message)
    }

    pub(crate) fn conflict(message: impl Into<String>) -> Self {
        Self::new(StatusCode::CONFLICT, ErrorCode::Conflict, message)
    }

    pub(crate) fn unauthenticated() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            ErrorCode::Unauthenticated,
            "this request carries no verified identity: send a bearer token",
        )
        .with_header(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"))
    }

    /// Our own failure: logged with its cause (inside the request's span, so with its
    /// correlation id), answered without it.
    pub(crate) fn internal(cause: &dyn std::fmt::Display) -> Self {
        tracing::error!(error = %cause, "admin API request failed");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            ErrorCode::Internal,
            "the server could not complete the request; its log has the details under the correlation id in the x-correlation-id header",
        )
    }

    /// The HTTP status this error is answered with.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// The stable code.
    pub fn code(&self) -> ErrorCode {
        self.code
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code,
            message: self.message,
            details: self.details,
        };
        let mut response = (self.status, axum::Json(body)).into_response();
        for (name, value) in self.headers {
            response.headers_mut().insert(name, value);
        }
        response
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::OrgNotFound(org) => {
                ApiError::not_found(crate::access::org_not_found_message(&org))
            }
            StoreError::ProjectNotFound(project) => {
                ApiError::not_found(crate::access::project_not_found_message(&project))
            }
            StoreError::DeviceNotFound { what, .. } => {
                ApiError::not_found(format!("device \"{what}\" not found"))
            }
            StoreError::OrgExists(_)
            | StoreError::ProjectExists(_)
            | StoreError::DuplicateDevice { .. }
            | StoreError::Decommissioned(_)
            | StoreError::NoCredentials(_)
            | StoreError::AmbiguousDevice { .. }
            | StoreError::RunbookReviewState { .. } => ApiError::conflict(e.to_string()),
            StoreError::RunbookVersionNotFound(_) => ApiError::not_found(e.to_string()),
            // The registry's own failures, and any kind added later: never shown.
            other => ApiError::internal(&other),
        }
    }
}

impl From<FleetError> for ApiError {
    fn from(e: FleetError) -> Self {
        match e {
            FleetError::Store(e) => e.into(),
            FleetError::Driver(e) => ApiError::new(
                StatusCode::BAD_GATEWAY,
                ErrorCode::DeviceError,
                e.to_string(),
            ),
            FleetError::Refused(reason) => ApiError::conflict(reason),
            other => ApiError::internal(&other),
        }
    }
}

impl From<WorkflowError> for ApiError {
    fn from(e: WorkflowError) -> Self {
        match e {
            WorkflowError::PlanNotFound(id) => {
                ApiError::not_found(crate::access::plan_not_found_message(&id))
            }
            WorkflowError::Invalid(message) => ApiError::invalid(message),
            WorkflowError::Refused(message) | WorkflowError::Conflict(message) => {
                ApiError::conflict(message)
            }
            WorkflowError::Token(e) => ApiError::invalid(e.to_string()),
            WorkflowError::Device(e) => ApiError::new(
                StatusCode::BAD_GATEWAY,
                ErrorCode::DeviceError,
                e.to_string(),
            ),
            WorkflowError::Fleet(e) => e.into(),
            WorkflowError::Store(e) => e.into(),
            other => ApiError::internal(&other),
        }
    }
}

impl From<ReviewError> for ApiError {
    fn from(e: ReviewError) -> Self {
        match e {
            ReviewError::Invalid(message) => ApiError::invalid(message),
            e @ ReviewError::NotFound(_) => ApiError::not_found(e.to_string()),
            ReviewError::Conflict(message) => ApiError::conflict(message),
            ReviewError::Store(e) => e.into(),
            other => ApiError::internal(&other),
        }
    }
}

impl From<CreateError> for ApiError {
    fn from(e: CreateError) -> Self {
        match e {
            CreateError::Invalid(message) => ApiError::invalid(message),
            CreateError::Exists(message) | CreateError::NoFolder(message) => {
                ApiError::conflict(message)
            }
            other => ApiError::internal(&other),
        }
    }
}
