//! `GET /v1/openapi.json`: the OpenAPI 3.1 document, generated from the same route definitions
//! the router was built from.

use std::sync::Arc;

use axum::{Extension, Json};
use utoipa::openapi::OpenApi;

use super::describe;
use crate::error::ErrorBody;

/// This document.
#[utoipa::path(
    get,
    path = "/v1/openapi.json",
    tag = "meta",
    responses(
        (status = 200, description = "The OpenAPI 3.1 document of this API", content_type = "application/json"),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
    )
)]
pub(crate) async fn openapi_json(Extension(doc): Extension<Arc<OpenApi>>) -> Json<OpenApi> {
    Json(OpenApi::clone(&doc))
}
