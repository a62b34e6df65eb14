//! Web console sign-ins: sessions (found by the hash of their cookie's id) and sign-ins under
//! way with the identity provider (found by the hash of their `state`).
//!
//! The registry never sees a session id or a `state` value, only their SHA-256, computed by the
//! caller; what it keeps is the verified principal (as text: subject, display name, kind, grant
//! entries), the session's CSRF token and its times. Expiry is decided here on every read, so a
//! session past its idle or absolute limit is gone for every instance at once.

use crate::{Store, StoreError, time};

/// A console session as stored.
#[derive(Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    pub subject: String,
    pub display: String,
    /// The principal's kind (`oidc`, `api_token`, `local`, …).
    pub kind: String,
    /// Grant entries, `ROLE` or `ORG/PROJECT:ROLE`.
    pub grants: Vec<String>,
    /// The token every form of this session carries.
    pub csrf_token: String,
    pub created_at: String,
    pub last_seen_at: String,
    pub expires_at: String,
}

impl std::fmt::Debug for ConsoleSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleSession")
            .field("subject", &self.subject)
            .field("kind", &self.kind)
            .field("grants", &self.grants)
            .field("csrf_token", &"<hidden>")
            .field("expires_at", &self.expires_at)
            .finish()
    }
}

/// A sign-in under way: what the provider's callback is checked against.
#[derive(Clone, PartialEq, Eq)]
pub struct ConsoleLogin {
    pub nonce: String,
    pub pkce_verifier: String,
    pub created_at: String,
}

impl std::fmt::Debug for ConsoleLogin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConsoleLogin")
            .field("created_at", &self.created_at)
            .finish_non_exhaustive()
    }
}

type SessionRow = (
    String,
    String,
    String,
    String,
    String,
    String,
    String,
    String,
);

impl Store {
    /// Records a new session under the hash of its id; expired sessions and stale sign-ins are
    /// swept on the way.
    pub async fn create_console_session(
        &self,
        id_hash: &str,
        session: &ConsoleSession,
    ) -> Result<(), StoreError> {
        let now = time::now();
        sqlx::query("DELETE FROM console_sessions WHERE expires_at <= $1")
            .bind(&now)
            .execute(self.pool())
            .await?;
        let grants = serde_json::to_string(&session.grants)
            .map_err(|_| StoreError::Corrupt("console_sessions.grants".into()))?;
        sqlx::query(
            "INSERT INTO console_sessions (id_hash, subject, display, kind, grants, csrf_token, \
             created_at, last_seen_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        )
        .bind(id_hash)
        .bind(&session.subject)
        .bind(&session.display)
        .bind(&session.kind)
        .bind(grants)
        .bind(&session.csrf_token)
        .bind(&session.created_at)
        .bind(&session.last_seen_at)
        .bind(&session.expires_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// The live session with this id hash, its last use moved to now; `None` when there is
    /// none, or when it was idle since before `idle_since` or is past its absolute expiry (such
    /// a session is deleted).
    pub async fn touch_console_session(
        &self,
        id_hash: &str,
        idle_since: &str,
    ) -> Result<Option<ConsoleSession>, StoreError> {
        let row: Option<SessionRow> = sqlx::query_as(
            "SELECT subject, display, kind, grants, csrf_token, created_at, last_seen_at, \
             expires_at FROM console_sessions WHERE id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(self.pool())
        .await?;
        let Some((
            subject,
            display,
            kind,
            grants,
            csrf_token,
            created_at,
            last_seen_at,
            expires_at,
        )) = row
        else {
            return Ok(None);
        };
        let now = time::now();
        if expires_at <= now || last_seen_at.as_str() < idle_since {
            self.delete_console_session(id_hash).await?;
            return Ok(None);
        }
        let grants: Vec<String> = serde_json::from_str(&grants)
            .map_err(|_| StoreError::Corrupt("console_sessions.grants".into()))?;
        sqlx::query("UPDATE console_sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(&now)
            .bind(id_hash)
            .execute(self.pool())
            .await?;
        Ok(Some(ConsoleSession {
            subject,
            display,
            kind,
            grants,
            csrf_token,
            created_at,
            last_seen_at: now,
            expires_at,
        }))
    }

    /// Ends a session (sign-out); true when there was one.
    pub async fn delete_console_session(&self, id_hash: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1")
            .bind(id_hash)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }

    /// Records a sign-in under way under the hash of its `state`.
    pub async fn create_console_login(
        &self,
        state_hash: &str,
        login: &ConsoleLogin,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO console_logins (state_hash, nonce, pkce_verifier, created_at) \
             VALUES ($1, $2, $3, $4)",
        )
        .bind(state_hash)
        .bind(&login.nonce)
        .bind(&login.pkce_verifier)
        .bind(&login.created_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Takes (reads and deletes) the sign-in with this state hash, if it started after
    /// `started_after`; a `state` is good for one callback only. Older sign-ins are swept.
    pub async fn take_console_login(
        &self,
        state_hash: &str,
        started_after: &str,
    ) -> Result<Option<ConsoleLogin>, StoreError> {
        let row: Option<(String, String, String)> = sqlx::query_as(
            "SELECT nonce, pkce_verifier, created_at FROM console_logins WHERE state_hash = $1",
        )
        .bind(state_hash)
        .fetch_optional(self.pool())
        .await?;
        let taken = sqlx::query("DELETE FROM console_logins WHERE state_hash = $1")
            .bind(state_hash)
            .execute(self.pool())
            .await?;
        sqlx::query("DELETE FROM console_logins WHERE created_at <= $1")
            .bind(started_after)
            .execute(self.pool())
            .await?;
        // Two callbacks racing with one state: only the one that deleted the row goes on.
        if taken.rows_affected() == 0 {
            return Ok(None);
        }
        Ok(row
            .filter(|(_, _, created_at)| created_at.as_str() > started_after)
            .map(|(nonce, pkce_verifier, created_at)| ConsoleLogin {
                nonce,
                pkce_verifier,
                created_at,
            }))
    }
}
