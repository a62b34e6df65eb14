//! API tokens: the registry's record of each bearer token this server minted.
//!
//! The token itself is never stored: only its SHA-256 (hex), computed by the caller. A record
//! names the one role the token grants, and the project it is limited to (none: every project).
//! Roles are kept as text here; what a role allows is decided by the server, not the registry.

use domain::ProjectRef;
use serde_json::json;

use crate::audit::{self, AuditContext};
use crate::{Store, StoreError, time};

/// A minted token as listed (no hash).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ApiToken {
    pub id: String,
    pub name: String,
    pub role: String,
    /// `None`: every project.
    #[serde(serialize_with = "project_text")]
    pub project: Option<ProjectRef>,
    pub created_by: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
    pub last_used_at: Option<String>,
}

fn project_text<S: serde::Serializer>(p: &Option<ProjectRef>, s: S) -> Result<S::Ok, S::Error> {
    match p {
        Some(p) => s.serialize_str(&p.to_string()),
        None => s.serialize_none(),
    }
}

impl ApiToken {
    /// Whether the token is accepted at `now` (RFC 3339 text, as `time::now` gives).
    pub fn is_live(&self, now: &str) -> bool {
        self.revoked_at.is_none() && self.expires_at.as_deref().is_none_or(|e| e > now)
    }
}

/// What `create_api_token` records.
#[derive(Debug, Clone)]
pub struct NewApiToken {
    /// The token's public id part (what `token revoke` names).
    pub id: String,
    pub name: String,
    pub role: String,
    pub project: Option<ProjectRef>,
    /// SHA-256 of the whole token, hex.
    pub token_hash: String,
    pub expires_at: Option<String>,
}

type Row = (
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    String,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

const SELECT: &str = "SELECT t.id, t.name, t.role, o.name, p.name, t.created_by, t.created_at, \
     t.expires_at, t.revoked_at, t.last_used_at FROM api_tokens t \
     LEFT JOIN projects p ON p.id = t.project_id \
     LEFT JOIN organizations o ON o.id = p.organization_id";

fn from_row(row: Row) -> Result<ApiToken, StoreError> {
    let (id, name, role, org, project, created_by, created_at, expires_at, revoked_at, last_used) =
        row;
    let project = match (org, project) {
        (Some(org), Some(project)) => Some(ProjectRef {
            org: org
                .parse()
                .map_err(|_| StoreError::Corrupt("api_tokens.project_id".into()))?,
            project: project
                .parse()
                .map_err(|_| StoreError::Corrupt("api_tokens.project_id".into()))?,
        }),
        _ => None,
    };
    Ok(ApiToken {
        id,
        name,
        role,
        project,
        created_by,
        created_at,
        expires_at,
        revoked_at,
        last_used_at: last_used,
    })
}

impl Store {
    /// Records a minted token (audited as `token.create`; the record names the token's id, role
    /// and scope, never the token).
    pub async fn create_api_token(
        &self,
        new: &NewApiToken,
        ctx: &AuditContext,
    ) -> Result<ApiToken, StoreError> {
        let mut tx = self.begin_write().await?;
        let project_id = match &new.project {
            Some(p) => Some(Store::project_id(&mut *tx, p).await?),
            None => None,
        };
        let now = time::now();
        sqlx::query(
            "INSERT INTO api_tokens (id, name, role, project_id, token_hash, created_by, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(&new.id)
        .bind(&new.name)
        .bind(&new.role)
        .bind(project_id)
        .bind(&new.token_hash)
        .bind(&ctx.actor)
        .bind(&now)
        .bind(new.expires_at.clone())
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            ctx,
            "token.create",
            &format!("token:{}", new.id),
            json!({
                "name": new.name,
                "role": new.role,
                "project": new.project.as_ref().map(ToString::to_string),
                "expires_at": new.expires_at,
            }),
        )
        .await?;
        tx.commit().await?;
        Ok(ApiToken {
            id: new.id.clone(),
            name: new.name.clone(),
            role: new.role.clone(),
            project: new.project.clone(),
            created_by: ctx.actor.clone(),
            created_at: now,
            expires_at: new.expires_at.clone(),
            revoked_at: None,
            last_used_at: None,
        })
    }

    /// Every token, newest first (revoked and expired ones too, marked as such).
    pub async fn list_api_tokens(&self) -> Result<Vec<ApiToken>, StoreError> {
        let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
            "{SELECT} ORDER BY t.created_at DESC, t.id"
        )))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter().map(from_row).collect()
    }

    /// The token with `id` and its stored hash, for checking a presented token.
    pub async fn api_token_for_check(
        &self,
        id: &str,
    ) -> Result<Option<(ApiToken, String)>, StoreError> {
        let row: Option<(String,)> =
            sqlx::query_as("SELECT token_hash FROM api_tokens WHERE id = $1")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let Some((hash,)) = row else {
            return Ok(None);
        };
        let row: Option<Row> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE t.id = $1")))
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        match row {
            Some(row) => Ok(Some((from_row(row)?, hash))),
            None => Ok(None),
        }
    }

    /// Notes that a token was used (an observation: not audited; best effort for callers).
    pub async fn touch_api_token(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
            .bind(time::now())
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Revokes a token at once (audited as `token.revoke`). Revoking a revoked token changes
    /// nothing and says so.
    pub async fn revoke_api_token(
        &self,
        id: &str,
        ctx: &AuditContext,
    ) -> Result<ApiToken, StoreError> {
        let mut tx = self.begin_write().await?;
        let row: Option<Row> =
            sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE t.id = $1")))
                .bind(id)
                .fetch_optional(&mut *tx)
                .await?;
        let mut token = from_row(row.ok_or_else(|| StoreError::TokenNotFound(id.to_owned()))?)?;
        if token.revoked_at.is_some() {
            return Err(StoreError::TokenRevoked(id.to_owned()));
        }
        let now = time::now();
        sqlx::query("UPDATE api_tokens SET revoked_at = $1 WHERE id = $2")
            .bind(&now)
            .bind(id)
            .execute(&mut *tx)
            .await?;
        audit::append(
            &mut tx,
            ctx,
            "token.revoke",
            &format!("token:{id}"),
            json!({ "name": token.name, "role": token.role }),
        )
        .await?;
        tx.commit().await?;
        token.revoked_at = Some(now);
        Ok(token)
    }
}
