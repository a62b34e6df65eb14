//! Console sessions: the cookie, the record behind it, and the checks every POST passes.
//!
//! The cookie holds 256 random bits (base64url); the database holds their SHA-256, so reading
//! the table gives no one a session. A session ends when unused for the idle limit, at the
//! absolute limit after sign-in, at sign-out, and — for a session signed in with an API token —
//! as soon as that token is revoked or expires.
//!
//! A POST is accepted only when it comes from this server's own origin (its `Origin` header,
//! else its `Referer`, names the host the request was sent to; a request with neither is
//! refused) and carries the session's CSRF token in its `csrf` field (compared in constant
//! time). The session cookie is `SameSite=Strict` besides.

use std::sync::Arc;

use auth::{Principal, PrincipalKind};
use axum::http::{HeaderMap, HeaderValue, header};
use sha2::{Digest, Sha256};
use store::{ConsoleSession, StoreError};

use crate::Console;

/// The session cookie's name.
pub const COOKIE: &str = "rmcp_console";

/// A signed-in person, as the pages see them.
#[derive(Clone)]
pub struct Session {
    pub principal: Arc<Principal>,
    /// The token every form carries.
    pub csrf: String,
    pub(crate) id_hash: String,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("principal", &self.principal)
            .finish_non_exhaustive()
    }
}

/// SHA-256 (hex) of a secret value: what the database keeps.
pub(crate) fn hash(value: &str) -> String {
    hex::encode(Sha256::digest(value.as_bytes()))
}

/// The session cookie's value in a request, if any.
fn cookie_value(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value.trim())
        .filter(|v| !v.is_empty() && v.len() <= 128)
}

fn kind(text: &str) -> Option<PrincipalKind> {
    match text {
        "oidc" => Some(PrincipalKind::Oidc),
        "api_token" => Some(PrincipalKind::ApiToken),
        "cf_access" => Some(PrincipalKind::CloudflareAccess),
        "local" => Some(PrincipalKind::Local),
        _ => None,
    }
}

/// The live session a request's cookie names, if any.
pub(crate) async fn load(
    console: &Console,
    headers: &HeaderMap,
) -> Result<Option<Session>, StoreError> {
    let Some(id) = cookie_value(headers) else {
        return Ok(None);
    };
    let id_hash = hash(id);
    let idle_since = store::time::ago(console.config.idle);
    let Some(stored) = console
        .store
        .touch_console_session(&id_hash, &idle_since)
        .await?
    else {
        return Ok(None);
    };
    let Some(kind) = kind(&stored.kind) else {
        console.store.delete_console_session(&id_hash).await?;
        return Ok(None);
    };
    if kind == PrincipalKind::ApiToken
        && !console
            .config
            .credentials
            .api_token_live(&stored.subject)
            .await
    {
        console.store.delete_console_session(&id_hash).await?;
        return Ok(None);
    }
    let mut grants = Vec::with_capacity(stored.grants.len());
    for g in &stored.grants {
        match g.parse() {
            Ok(grant) => grants.push(grant),
            Err(_) => {
                console.store.delete_console_session(&id_hash).await?;
                return Ok(None);
            }
        }
    }
    Ok(Some(Session {
        principal: Arc::new(Principal {
            subject: stored.subject,
            display: stored.display,
            kind,
            grants,
        }),
        csrf: stored.csrf_token,
        id_hash,
    }))
}

/// Why a session could not be made.
#[derive(Debug, thiserror::Error)]
pub(crate) enum StartError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(transparent)]
    Auth(#[from] auth::AuthError),
    #[error("the session cookie is not a valid header value")]
    Cookie,
}

/// Starts a session for `principal`; the `Set-Cookie` value that hands it to the browser.
pub(crate) async fn start(
    console: &Console,
    principal: &Principal,
) -> Result<HeaderValue, StartError> {
    let id = auth::random_token()?;
    let csrf = auth::random_token()?;
    let now = chrono::Utc::now();
    let absolute =
        chrono::Duration::from_std(console.config.absolute).unwrap_or(chrono::Duration::hours(12));
    let record = ConsoleSession {
        subject: principal.subject.clone(),
        display: principal.display.clone(),
        kind: principal.kind.as_str().to_owned(),
        grants: principal.grants.iter().map(ToString::to_string).collect(),
        csrf_token: csrf,
        created_at: store::time::format(now),
        last_seen_at: store::time::format(now),
        expires_at: store::time::format(now + absolute),
    };
    console
        .store
        .create_console_session(&hash(&id), &record)
        .await?;
    let max_age = console.config.absolute.as_secs();
    let cookie = format!(
        "{COOKIE}={id}; Path=/console; HttpOnly; SameSite=Strict; Max-Age={max_age}{}",
        if console.config.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    // The id is base64url: always a valid header value.
    HeaderValue::from_str(&cookie).map_err(|_| StartError::Cookie)
}

/// The `Set-Cookie` value that removes the session cookie.
pub(crate) fn clear_cookie(console: &Console) -> HeaderValue {
    let cookie = format!(
        "{COOKIE}=; Path=/console; HttpOnly; SameSite=Strict; Max-Age=0{}",
        if console.config.secure_cookies {
            "; Secure"
        } else {
            ""
        }
    );
    HeaderValue::from_str(&cookie).unwrap_or(HeaderValue::from_static("rmcp_console=; Max-Age=0"))
}

/// Ends a session.
pub(crate) async fn end(console: &Console, session: &Session) -> Result<(), StoreError> {
    console
        .store
        .delete_console_session(&session.id_hash)
        .await?;
    Ok(())
}

/// Whether a POST comes from this server's own pages: its `Origin` (else its `Referer`) names
/// the host the request was sent to. Returns what was wrong.
pub(crate) fn same_origin(headers: &HeaderMap) -> Result<(), String> {
    let host = headers
        .get(header::HOST)
        .and_then(|v| v.to_str().ok())
        .map(|h| h.trim().to_ascii_lowercase())
        .ok_or("the request has no Host header")?;
    let source = match headers.get(header::ORIGIN) {
        Some(origin) => origin
            .to_str()
            .map_err(|_| "the Origin header is not text")?,
        None => headers
            .get(header::REFERER)
            .and_then(|v| v.to_str().ok())
            .ok_or("the form was not sent from a console page (no Origin or Referer header)")?,
    };
    let authority = source
        .split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or_default())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if authority == host {
        Ok(())
    } else {
        Err("the form was sent from another site's page".into())
    }
}

/// Whether a form's CSRF token is the session's.
pub(crate) fn csrf_matches(session: &Session, sent: Option<&str>) -> bool {
    sent.is_some_and(|s| {
        !s.is_empty() && auth::constant_time_eq(s.as_bytes(), session.csrf.as_bytes())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                axum::http::HeaderName::from_bytes(k.as_bytes()).expect("name"),
                HeaderValue::from_str(v).expect("value"),
            );
        }
        h
    }

    #[test]
    fn the_cookie_is_found_among_others() {
        let h = headers(&[("cookie", "a=1; rmcp_console=abc; b=2")]);
        assert_eq!(cookie_value(&h), Some("abc"));
        assert_eq!(
            cookie_value(&headers(&[("cookie", "rmcp_consolex=abc")])),
            None
        );
        assert_eq!(cookie_value(&headers(&[("cookie", "rmcp_console=")])), None);
    }

    #[test]
    fn a_post_must_come_from_this_host() {
        let ok = headers(&[
            ("host", "127.0.0.1:8080"),
            ("origin", "http://127.0.0.1:8080"),
        ]);
        assert!(same_origin(&ok).is_ok());
        let referer = headers(&[
            ("host", "127.0.0.1:8080"),
            ("referer", "http://127.0.0.1:8080/console/plans/x"),
        ]);
        assert!(same_origin(&referer).is_ok());
        for bad in [
            headers(&[
                ("host", "127.0.0.1:8080"),
                ("origin", "http://evil.example:8080"),
            ]),
            headers(&[("host", "127.0.0.1:8080"), ("origin", "null")]),
            headers(&[("host", "127.0.0.1:8080")]),
            headers(&[
                ("host", "127.0.0.1:8080"),
                ("referer", "http://127.0.0.1:8081/console"),
            ]),
        ] {
            assert!(same_origin(&bad).is_err(), "{bad:?}");
        }
    }
}
