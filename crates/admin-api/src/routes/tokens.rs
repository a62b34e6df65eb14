//! `/v1/tokens`: API tokens, for administrators of every project — listed (never the tokens
//! themselves), minted (the token is in the response once) and revoked.

use auth::Role;
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::describe;
use crate::AdminState;
use crate::access;
use crate::error::{ApiError, ErrorBody};
use crate::extract::{Caller, JsonBody};
use crate::tokens::{Lifetime, MintError, mint};

/// A token to mint.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(crate) struct CreateToken {
    /// The one role it grants: viewer, operator, approver or admin.
    #[schema(example = "operator")]
    pub role: String,
    /// `ORG/PROJECT` to limit it to one project; absent: every project.
    #[schema(example = "acme/site-a")]
    pub project: Option<String>,
    /// Lifetime: a number with a unit (30m, 12h, 30d, 8w) or `never`; default 90d.
    #[schema(example = "30d")]
    pub expires: Option<String>,
    /// A label for people: what or who uses the token.
    #[schema(example = "ci pipeline")]
    pub name: String,
}

/// A token as listed.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenView {
    pub id: String,
    pub name: String,
    pub role: String,
    /// `ORG/PROJECT`, or null for every project.
    pub project: Option<String>,
    /// active, expired or revoked.
    pub state: String,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

/// The tokens.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct TokenList {
    pub items: Vec<TokenView>,
}

/// A token just minted: `token` is shown only in this response.
#[derive(Debug, Serialize, ToSchema)]
pub(crate) struct MintedView {
    /// The bearer token; the server keeps only its hash.
    pub token: String,
    #[serde(flatten)]
    pub record: TokenView,
}

fn view(t: store::ApiToken) -> TokenView {
    let now = store::time::now();
    let state = if t.revoked_at.is_some() {
        "revoked"
    } else if t.is_live(&now) {
        "active"
    } else {
        "expired"
    };
    TokenView {
        state: state.to_owned(),
        project: t.project.as_ref().map(ToString::to_string),
        id: t.id,
        name: t.name,
        role: t.role,
        created_by: t.created_by,
        created_at: t.created_at,
        expires_at: t.expires_at,
        revoked_at: t.revoked_at,
        last_used_at: t.last_used_at,
    }
}

/// Every API token (never the tokens themselves).
#[utoipa::path(
    get,
    path = "/v1/tokens",
    tag = "tokens",
    responses(
        (status = 200, description = "The tokens, newest first", body = TokenList),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = "Tokens are managed by admins of every project", body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn list_tokens(
    State(state): State<AdminState>,
    caller: Caller,
) -> Result<Json<TokenList>, ApiError> {
    access::require_global_admin(&caller.principal, "managing API tokens")?;
    let items = state
        .store()
        .list_api_tokens()
        .await?
        .into_iter()
        .map(view)
        .collect();
    Ok(Json(TokenList { items }))
}

/// Mints a token; the response is the only place it is ever shown.
#[utoipa::path(
    post,
    path = "/v1/tokens",
    tag = "tokens",
    request_body = CreateToken,
    responses(
        (status = 201, description = "Minted: `token` is shown only now", body = MintedView),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = "Tokens are managed by admins of every project", body = ErrorBody),
        (status = 404, description = "The project does not exist", body = ErrorBody),
        (status = 413, description = describe::TOO_LARGE, body = ErrorBody),
        (status = 415, description = describe::MEDIA_TYPE, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn create_token(
    State(state): State<AdminState>,
    caller: Caller,
    body: JsonBody,
) -> Result<Response, ApiError> {
    access::require_global_admin(&caller.principal, "managing API tokens")?;
    let request: CreateToken = body.parse()?;
    let role: Role = request.role.parse().map_err(|e: auth::UnknownRole| {
        ApiError::invalid(format!("role: {e}")).with_details(serde_json::json!({"field": "role"}))
    })?;
    let project = match request.project.as_deref() {
        Some(p) => Some(p.parse().map_err(|e: domain::ParseError| {
            ApiError::invalid(format!("project: {e}"))
                .with_details(serde_json::json!({"field": "project"}))
        })?),
        None => None,
    };
    let lifetime: Lifetime = request
        .expires
        .as_deref()
        .unwrap_or("90d")
        .parse()
        .map_err(|e: String| {
            ApiError::invalid(format!("expires: {e}"))
                .with_details(serde_json::json!({"field": "expires"}))
        })?;
    let minted = mint(
        state.store(),
        role,
        project,
        lifetime,
        &request.name,
        &caller.audit,
    )
    .await
    .map_err(|e| match e {
        MintError::Invalid(m) => ApiError::invalid(format!("name: {m}"))
            .with_details(serde_json::json!({"field": "name"})),
        MintError::Store(s) => s.into(),
        other => ApiError::internal(&other),
    })?;
    let mut response = (
        StatusCode::CREATED,
        Json(MintedView {
            token: minted.secret.expose().to_owned(),
            record: view(minted.token),
        }),
    )
        .into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(response)
}

/// Revokes a token at once.
#[utoipa::path(
    delete,
    path = "/v1/tokens/{id}",
    tag = "tokens",
    params(("id" = String, Path, description = "The token's id, as listed")),
    responses(
        (status = 200, description = "Revoked", body = TokenView),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 403, description = "Tokens are managed by admins of every project", body = ErrorBody),
        (status = 404, description = "No such token", body = ErrorBody),
        (status = 409, description = "Already revoked", body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn revoke_token(
    State(state): State<AdminState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<TokenView>, ApiError> {
    access::require_global_admin(&caller.principal, "managing API tokens")?;
    match state.store().revoke_api_token(&id, &caller.audit).await {
        Ok(t) => Ok(Json(view(t))),
        Err(store::StoreError::TokenNotFound(_)) => Err(ApiError::not_found(format!(
            "no API token with id \"{}\"",
            id.chars()
                .filter(|c| !c.is_control())
                .take(64)
                .collect::<String>()
        ))),
        Err(e @ store::StoreError::TokenRevoked(_)) => Err(ApiError::conflict(e.to_string())),
        Err(e) => Err(e.into()),
    }
}
