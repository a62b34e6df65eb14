//! The web console at `/console`: the pages people use to look after the fleet and decide on
//! changes — sign-in, the fleet, a device, onboarding, plans (approve or reject), runbook
//! reviews and the audit log — rendered on the server as HTML (maud), with one stylesheet and
//! no script, all compiled into the binary.
//!
//! **No back door.** Every page reads, and every button acts, through the admin API's own
//! router, called in-process with the signed-in principal ([`api`]): the same handlers, the
//! same role and tenant checks, the same audit records (`api:<kind>:<subject>`) as a bearer
//! token call. The console decides nothing about who may do what; it only hides buttons a
//! principal could not use, and a forged form is refused by the admin API itself.
//!
//! **Sign-in** ([`signin`]): the OpenID provider's authorization code flow with PKCE
//! (`OIDC_ISSUER`, `OIDC_CLIENT_ID`, `OIDC_CLIENT_SECRET`), or an API token (the way in when
//! the provider is down), verified exactly as the bearer-token layer verifies it. With
//! `MCP_AUTH_MODE=none` (loopback only) the local operator signs in with one button.
//!
//! **Sessions** ([`session`]): a random 256-bit id in an `HttpOnly`, `SameSite=Strict`,
//! `Path=/console` cookie (`Secure` when the public URL is https); the database keeps only its
//! hash, the principal, a CSRF token and the times (idle and absolute expiry), so every instance
//! sharing the database serves the same sessions. Every POST must carry the session's CSRF
//! token and come from this server's own origin (`Origin`, else `Referer`), or it is refused
//! with 403 before anything happens.

pub mod api;
mod assets;
mod pages;
pub mod session;
pub mod signin;

use std::sync::Arc;
use std::time::Duration;

use auth::{OidcLogin, Principal, Refusal};
use axum::Router;
use axum::routing::{get, post};

/// The console's path prefix.
pub const PREFIX: &str = "/console";

/// Whether a request path is the console's (served with its own sign-in, not bearer tokens).
pub fn is_console_path(path: &str) -> bool {
    path == PREFIX
        || path
            .strip_prefix(PREFIX)
            .is_some_and(|rest| rest.starts_with('/'))
}

/// How the console checks the credentials a person signs in with, provided by the server (the
/// same checks its bearer-token layer makes).
#[async_trait::async_trait]
pub trait Credentials: Send + Sync + std::fmt::Debug {
    /// The principal of an API token, or why it is refused.
    async fn api_token(&self, token: &str) -> Result<Arc<Principal>, Refusal>;

    /// Whether the principal of a session signed in with an API token may still act: false
    /// once its token is revoked or expired.
    async fn api_token_live(&self, token_id: &str) -> bool;

    /// The local operator, when the server runs without authentication (`MCP_AUTH_MODE=none`).
    fn local(&self) -> Option<Principal>;
}

/// What the console is configured with.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// The OpenID provider sign-in, when `OIDC_ISSUER`, `OIDC_CLIENT_ID` and
    /// `OIDC_CLIENT_SECRET` are set.
    pub login: Option<Arc<OidcLogin>>,
    /// How credentials are checked.
    pub credentials: Arc<dyn Credentials>,
    /// Cookies carry `Secure` (the public URL is https).
    pub secure_cookies: bool,
    /// A session unused this long ends (`MCP_CONSOLE_SESSION_IDLE_SECONDS`).
    pub idle: Duration,
    /// A session ends this long after sign-in, used or not
    /// (`MCP_CONSOLE_SESSION_MAX_SECONDS`).
    pub absolute: Duration,
    /// How long a device-side auto-revert waits for the apply to confirm
    /// (`MCP_PLAN_CONFIRM_TIMEOUT_SECONDS`), shown on plan pages.
    pub auto_revert_window: Duration,
}

/// What every handler shares.
#[derive(Debug, Clone)]
pub(crate) struct Console {
    pub config: ConsoleConfig,
    pub store: store::Store,
    pub api: api::Api,
}

/// The console's routes under [`PREFIX`], answering through `admin` (the admin API's router).
pub fn router(config: ConsoleConfig, store: store::Store, admin: Router) -> Router {
    let console = Arc::new(Console {
        config,
        store,
        api: api::Api::new(admin),
    });
    Router::new()
        .route("/console", get(pages::fleet::page))
        .route("/console/", get(pages::fleet::page))
        .route("/console/assets/console.css", get(assets::css))
        .route("/console/signin", get(signin::page))
        .route("/console/signin/token", post(signin::with_token))
        .route("/console/signin/local", post(signin::local))
        .route("/console/signin/oidc", get(signin::start_oidc))
        .route("/console/callback", get(signin::callback))
        .route("/console/signout", post(signin::sign_out))
        .route(
            "/console/devices/new",
            get(pages::onboard::page).post(pages::onboard::probe),
        )
        .route("/console/devices/confirm", post(pages::onboard::confirm))
        .route("/console/devices/{id}", get(pages::device::page))
        .route("/console/devices/{id}/test", post(pages::device::test))
        .route("/console/devices/{id}/rotate", post(pages::device::rotate))
        .route(
            "/console/devices/{id}/decommission",
            get(pages::device::confirm_decommission).post(pages::device::decommission),
        )
        .route("/console/plans", get(pages::plans::list))
        .route("/console/plans/{id}", get(pages::plans::page))
        .route("/console/plans/{id}/approve", post(pages::plans::approve))
        .route("/console/plans/{id}/reject", post(pages::plans::reject))
        .route("/console/reviews", get(pages::reviews::list))
        .route("/console/reviews/{id}", get(pages::reviews::page))
        .route(
            "/console/reviews/{id}/approve",
            post(pages::reviews::approve),
        )
        .route("/console/reviews/{id}/reject", post(pages::reviews::reject))
        .route("/console/audit", get(pages::audit::page))
        .route("/console/{*rest}", axum::routing::any(pages::not_found))
        .with_state(console)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_paths_are_the_prefix_and_below_it_only() {
        for p in [
            "/console",
            "/console/",
            "/console/plans/x",
            "/console/callback",
        ] {
            assert!(is_console_path(p), "{p}");
        }
        for p in ["/consoles", "/console.css", "/v1/console", "/", "/mcp"] {
            assert!(!is_console_path(p), "{p}");
        }
    }
}
