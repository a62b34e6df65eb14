//! Who is calling over HTTP: every request to the MCP endpoint and the admin API is
//! authenticated here before it is served, and the verified [`Principal`] travels with it as a
//! request extension (the MCP layer and the admin API read it; neither trusts anything else).
//!
//! Modes (`MCP_AUTH_MODE`):
//! - `oidc`: JWT access tokens from the configured OpenID provider (`auth::OidcValidator`); API
//!   tokens too when `MCP_AUTH_ALLOW_API_TOKENS=true`. The transport is an OAuth 2.1 protected
//!   resource: its metadata (RFC 9728) is served at `/.well-known/oauth-protected-resource`, and a
//!   401 names it in `WWW-Authenticate`.
//! - `token`: API tokens this server minted (`routeros-mcp token create`), checked against the
//!   hash the registry keeps; revoked and expired tokens are refused at once.
//! - `none` (loopback binds only): every request acts for the local user — with
//!   `MCP_STDIO_ROLE` over MCP, and as an administrator on the admin API, as the CLI does.
//!
//! With Cloudflare Access configured, every request must first carry a valid
//! `Cf-Access-Jwt-Assertion` as well (403 otherwise). Refusals are counted in
//! `auth_failures_total{reason}` and logged without the token.

use std::sync::Arc;

use auth::{FailureReason, Grant, Principal, PrincipalKind, Refusal, Role};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// How bearer tokens are checked.
#[derive(Debug)]
pub enum Mode {
    /// Loopback only: no credentials; the local user.
    None,
    /// API tokens minted by this server.
    Token,
    /// OpenID Connect access tokens (and API tokens when allowed).
    Oidc {
        validator: Box<auth::OidcValidator>,
        allow_api_tokens: bool,
    },
}

/// The authentication step of the HTTP transport.
#[derive(Debug)]
pub struct Authenticator {
    mode: Mode,
    cf_access: Option<auth::CfAccessValidator>,
    /// The role MCP requests act with in `none` mode.
    local_role: Role,
    store: store::Store,
    failures: prometheus::IntCounterVec,
    /// The protected resource's URL (the MCP endpoint as clients reach it).
    resource: String,
}

impl Authenticator {
    pub fn new(
        mode: Mode,
        cf_access: Option<auth::CfAccessValidator>,
        local_role: Role,
        store: store::Store,
        failures: prometheus::IntCounterVec,
        resource: String,
    ) -> Self {
        Self {
            mode,
            cf_access,
            local_role,
            store,
            failures,
            resource,
        }
    }

    /// Fetches the identity provider's and Cloudflare Access's signing keys anew on the next
    /// request that needs them (API tokens live in the database and need nothing).
    pub fn expire_keys(&self) {
        if let Mode::Oidc { validator, .. } = &self.mode {
            validator.expire_keys();
        }
        if let Some(cf) = &self.cf_access {
            cf.expire_keys();
        }
    }

    /// Whether any signing keys are fetched from outside (OIDC or Cloudflare Access).
    pub fn uses_provider_keys(&self) -> bool {
        matches!(self.mode, Mode::Oidc { .. }) || self.cf_access.is_some()
    }

    /// The URL of the protected resource metadata document, when the mode has one.
    pub fn metadata_url(&self) -> Option<String> {
        match &self.mode {
            Mode::Oidc { .. } => {
                let origin = origin_of(&self.resource);
                Some(format!(
                    "{origin}{}",
                    auth::PROTECTED_RESOURCE_METADATA_PATH
                ))
            }
            Mode::None | Mode::Token => None,
        }
    }

    /// The RFC 9728 document, when the mode has one.
    pub fn metadata(&self) -> Option<serde_json::Value> {
        match &self.mode {
            Mode::Oidc { validator, .. } => Some(auth::protected_resource_metadata(
                &self.resource,
                &[validator.issuer().to_owned()],
                &[
                    Role::Viewer.as_str(),
                    Role::Operator.as_str(),
                    Role::Approver.as_str(),
                    Role::Admin.as_str(),
                ],
            )),
            Mode::None | Mode::Token => None,
        }
    }

    /// The verified caller of a request to `path`, or why it is refused.
    pub async fn authenticate(
        &self,
        headers: &HeaderMap,
        admin: bool,
    ) -> Result<Arc<Principal>, Refusal> {
        let access = match &self.cf_access {
            Some(cf) => Some(cf.validate_headers(headers).await?),
            None => None,
        };
        let bearer = auth::bearer_from_headers(headers)?;
        match (&self.mode, bearer) {
            (Mode::None, _) => {
                let role = if admin { Role::Admin } else { self.local_role };
                let mut local = Principal::local(role);
                if let Some(access) = access {
                    // Who passed Cloudflare Access is recorded; the local role is what it acts with.
                    local.subject = access.subject;
                    local.display = access.display;
                    local.kind = PrincipalKind::CloudflareAccess;
                }
                Ok(Arc::new(local))
            }
            (Mode::Token | Mode::Oidc { .. }, None) => Err(Refusal::missing()),
            (Mode::Token, Some(token)) => self.api_token(token).await,
            (
                Mode::Oidc {
                    validator,
                    allow_api_tokens,
                },
                Some(token),
            ) => {
                if auth::ApiTokenSecret::looks_like(token) {
                    if *allow_api_tokens {
                        self.api_token(token).await
                    } else {
                        Err(Refusal::invalid_token(
                            FailureReason::Malformed,
                            "API tokens are not accepted by this server (MCP_AUTH_ALLOW_API_TOKENS=false); present an access token from the identity provider",
                        ))
                    }
                } else {
                    validator.validate(token).await.map(Arc::new)
                }
            }
        }
    }

    /// Checks an API token against the registry.
    async fn api_token(&self, token: &str) -> Result<Arc<Principal>, Refusal> {
        let Some(secret) = auth::ApiTokenSecret::parse(token) else {
            return Err(Refusal::invalid_token(
                FailureReason::Malformed,
                "not an API token of this server",
            ));
        };
        let found = self
            .store
            .api_token_for_check(secret.id())
            .await
            .map_err(|e| {
                tracing::error!(error = %e, "reading API tokens failed");
                Refusal::invalid_token(
                    FailureReason::ProviderUnreachable,
                    "the token could not be checked (the database did not answer); try again",
                )
            })?;
        let Some((record, hash)) = found else {
            return Err(Refusal::revoked());
        };
        let matches = auth::TokenHash::from_hex(&hash).is_ok_and(|h| h.verify(&secret));
        if !matches || record.revoked_at.is_some() {
            return Err(Refusal::revoked());
        }
        if !record.is_live(&store::time::now()) {
            return Err(Refusal::invalid_token(
                FailureReason::Expired,
                "the API token has expired; mint a new one with `routeros-mcp token create`",
            ));
        }
        let Ok(role) = record.role.parse::<Role>() else {
            return Err(Refusal::revoked());
        };
        let grant = match record.project.clone() {
            Some(project) => Grant::in_project(role, project),
            None => Grant::everywhere(role),
        };
        let store = self.store.clone();
        let id = record.id.clone();
        let stale = record
            .last_used_at
            .as_deref()
            .is_none_or(|t| t < one_minute_ago().as_str());
        if stale {
            // An observation, at most once a minute per token, off the request's path.
            tokio::spawn(async move {
                if let Err(e) = store.touch_api_token(&id).await {
                    tracing::debug!(error = %e, "could not record an API token's last use");
                }
            });
        }
        Ok(Arc::new(Principal {
            subject: record.id,
            display: record.name,
            kind: PrincipalKind::ApiToken,
            grants: vec![grant],
        }))
    }

    /// The response for a refused request.
    pub fn refuse(&self, refusal: &Refusal, path: &str) -> Response {
        self.failures
            .with_label_values(&[refusal.reason.as_str()])
            .inc();
        tracing::warn!(reason = %refusal.reason, path = %printable(path), problem = %refusal.description, "HTTP request refused: authentication");
        let code = match refusal.status {
            StatusCode::FORBIDDEN => "forbidden",
            StatusCode::BAD_REQUEST => "invalid_request",
            _ => "unauthenticated",
        };
        let mut response = (
            refusal.status,
            axum::Json(json!({
                "code": code,
                "message": refusal.description,
                "details": {"reason": refusal.reason.as_str()},
            })),
        )
            .into_response();
        // Cloudflare Access refusals are not bearer-token errors: no challenge.
        if refusal.reason != FailureReason::CfAccess {
            let challenge = match self.metadata_url() {
                Some(url) => refusal.www_authenticate(&url, None),
                None => bearer_challenge(refusal),
            };
            if let Ok(value) = HeaderValue::from_str(&challenge) {
                response
                    .headers_mut()
                    .insert(header::WWW_AUTHENTICATE, value);
            }
        }
        response
    }
}

#[async_trait::async_trait]
impl console::Credentials for Authenticator {
    /// As a bearer API token is checked on this server: refused in `oidc` mode unless
    /// `MCP_AUTH_ALLOW_API_TOKENS=true`; in `none` mode there is the local operator instead.
    async fn api_token(&self, token: &str) -> Result<Arc<Principal>, Refusal> {
        match &self.mode {
            Mode::Token
            | Mode::Oidc {
                allow_api_tokens: true,
                ..
            } => self.api_token(token).await,
            Mode::Oidc {
                allow_api_tokens: false,
                ..
            } => Err(Refusal::invalid_token(
                FailureReason::Malformed,
                "API tokens are not accepted by this server (MCP_AUTH_ALLOW_API_TOKENS=false); sign in with the identity provider",
            )),
            Mode::None => Err(Refusal::invalid_token(
                FailureReason::Malformed,
                "this server runs without authentication; continue as the local operator",
            )),
        }
    }

    async fn api_token_live(&self, token_id: &str) -> bool {
        match self.store.api_token_for_check(token_id).await {
            Ok(Some((record, _))) => record.is_live(&store::time::now()),
            Ok(None) => false,
            Err(e) => {
                tracing::warn!(error = %e, "checking a console session's API token failed");
                false
            }
        }
    }

    /// The admin API's local principal of `MCP_AUTH_MODE=none`: an administrator.
    fn local(&self) -> Option<Principal> {
        match self.mode {
            Mode::None => Some(Principal::local(Role::Admin)),
            Mode::Token | Mode::Oidc { .. } => None,
        }
    }
}

/// `Bearer realm="routeros-mcp"` with the error, for modes without resource metadata.
fn bearer_challenge(refusal: &Refusal) -> String {
    let mut out = "Bearer realm=\"routeros-mcp\"".to_owned();
    if let Some(error) = refusal.error {
        let description: String = refusal
            .description
            .chars()
            .map(|c| match c {
                '"' => '\'',
                '\\' => '/',
                c if (' '..='~').contains(&c) => c,
                _ => '?',
            })
            .collect();
        out.push_str(&format!(
            ", error=\"{}\", error_description=\"{description}\"",
            error.as_str()
        ));
    }
    out
}

fn one_minute_ago() -> String {
    (chrono::Utc::now() - chrono::Duration::minutes(1))
        .format("%Y-%m-%dT%H:%M:%S%.6fZ")
        .to_string()
}

/// `scheme://host[:port]` of a URL.
fn origin_of(url: &str) -> &str {
    let after_scheme = url.find("://").map_or(0, |i| i + 3);
    match url[after_scheme..].find('/') {
        Some(i) => &url[..after_scheme + i],
        None => url,
    }
}

fn printable(text: &str) -> String {
    text.chars().filter(|c| !c.is_control()).take(200).collect()
}

/// Paths served without credentials: liveness, readiness, metrics and the resource metadata.
pub(crate) fn is_public(path: &str) -> bool {
    matches!(path, "/health" | "/ready" | "/metrics")
        || path == auth::PROTECTED_RESOURCE_METADATA_PATH
        || path.starts_with(&format!("{}/", auth::PROTECTED_RESOURCE_METADATA_PATH))
}

/// Paths of the admin API: `/v1` and the runbook review queue, `/api/review` (authenticated
/// alike; the local principal of `MCP_AUTH_MODE=none` is an admin there).
pub(crate) fn is_admin(path: &str) -> bool {
    ["/v1", "/api/review"].iter().any(|p| {
        path == *p
            || path
                .strip_prefix(p)
                .is_some_and(|rest| rest.starts_with('/'))
    })
}

/// The middleware: authenticates every non-public request and puts the principal on it. The
/// web console's paths carry no bearer token: the console signs people in itself (with the
/// same checks, see [`console::Credentials`]) and acts through the admin API as them; with
/// Cloudflare Access configured, they too must carry a valid assertion.
pub(crate) async fn layer(
    State(authn): State<Arc<Authenticator>>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = request.uri().path().to_owned();
    if is_public(&path) {
        return next.run(request).await;
    }
    if console::is_console_path(&path) {
        if let Some(cf) = &authn.cf_access
            && let Err(refusal) = cf.validate_headers(request.headers()).await
        {
            return authn.refuse(&refusal, &path);
        }
        return next.run(request).await;
    }
    let admin = is_admin(&path);
    match authn.authenticate(request.headers(), admin).await {
        Ok(principal) => {
            request.extensions_mut().insert(principal);
            next.run(request).await
        }
        Err(refusal) => authn.refuse(&refusal, &path),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_origin_of_a_resource_url() {
        assert_eq!(
            origin_of("https://mcp.example.net/mcp"),
            "https://mcp.example.net"
        );
        assert_eq!(origin_of("http://127.0.0.1:8080"), "http://127.0.0.1:8080");
    }

    #[test]
    fn only_health_readiness_metrics_and_metadata_are_public() {
        for p in [
            "/health",
            "/ready",
            "/metrics",
            "/.well-known/oauth-protected-resource",
            "/.well-known/oauth-protected-resource/mcp",
        ] {
            assert!(is_public(p), "{p}");
        }
        for p in [
            "/mcp",
            "/v1/organizations",
            "/healthz",
            "/.well-known/oauth-protected-resourcex",
            "/metrics/x",
        ] {
            assert!(!is_public(p), "{p}");
        }
    }

    #[test]
    fn the_admin_api_and_the_review_queue_are_admin_paths() {
        for p in [
            "/v1",
            "/v1/organizations",
            "/api/review",
            "/api/review/pending",
        ] {
            assert!(is_admin(p), "{p}");
        }
        for p in ["/mcp", "/v1x", "/api/reviewer", "/api", "/metrics"] {
            assert!(!is_admin(p), "{p}");
        }
    }

    #[test]
    fn a_challenge_without_metadata_names_the_error_safely() {
        let r = Refusal::invalid_token(FailureReason::Expired, "expired \"now\"\n");
        let c = bearer_challenge(&r);
        assert_eq!(
            c,
            "Bearer realm=\"routeros-mcp\", error=\"invalid_token\", error_description=\"expired 'now'?\""
        );
        assert_eq!(
            bearer_challenge(&Refusal::missing()),
            "Bearer realm=\"routeros-mcp\""
        );
    }
}
