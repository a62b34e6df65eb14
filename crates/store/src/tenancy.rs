//! Organizations and projects: the tenancy that groups devices.
//!
//! A `default` organization with a `default` project exists from the first migration, so a
//! single operator never has to think about tenancy.

use domain::{OrgName, ProjectName, ProjectRef};
use serde_json::json;

use crate::audit::{self, AuditContext};
use crate::{Store, StoreError, new_id, on_unique_violation, parse_column, time};

/// An organization.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Organization {
    pub id: String,
    pub name: OrgName,
    pub created_at: String,
    pub projects: i64,
}

/// A project within an organization.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Project {
    pub id: String,
    pub org: OrgName,
    pub name: ProjectName,
    pub created_at: String,
    pub devices: i64,
}

impl Project {
    pub fn reference(&self) -> ProjectRef {
        ProjectRef {
            org: self.org.clone(),
            project: self.name.clone(),
        }
    }
}

impl Store {
    /// Creates an organization with its `default` project.
    pub async fn create_org(
        &self,
        name: &OrgName,
        ctx: &AuditContext,
    ) -> Result<Organization, StoreError> {
        let mut tx = self.begin_write().await?;
        let id = new_id();
        let now = time::now();
        sqlx::query("INSERT INTO organizations (id, name, created_at) VALUES ($1, $2, $3)")
            .bind(&id)
            .bind(name.as_str())
            .bind(&now)
            .execute(&mut *tx)
            .await
            .map_err(|e| on_unique_violation(e, || StoreError::OrgExists(name.to_string())))?;
        sqlx::query(
            "INSERT INTO projects (id, organization_id, name, created_at) VALUES ($1, $2, 'default', $3)",
        )
        .bind(new_id())
        .bind(&id)
        .bind(&now)
        .execute(&mut *tx)
        .await?;
        audit::append(
            &mut tx,
            ctx,
            "org.create",
            &format!("org:{name}"),
            json!({ "name": name.as_str() }),
        )
        .await?;
        tx.commit().await?;
        Ok(Organization {
            id,
            name: name.clone(),
            created_at: now,
            projects: 1,
        })
    }

    pub async fn list_orgs(&self) -> Result<Vec<Organization>, StoreError> {
        let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
            "SELECT o.id, o.name, o.created_at, \
                    (SELECT COUNT(*) FROM projects p WHERE p.organization_id = o.id) \
             FROM organizations o ORDER BY o.name",
        )
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, name, created_at, projects)| {
                Ok(Organization {
                    id,
                    name: parse_column(&name, "organizations.name")?,
                    created_at,
                    projects,
                })
            })
            .collect()
    }

    /// Creates a project in an existing organization.
    pub async fn create_project(
        &self,
        reference: &ProjectRef,
        ctx: &AuditContext,
    ) -> Result<Project, StoreError> {
        let mut tx = self.begin_write().await?;
        let org_id: Option<(String,)> =
            sqlx::query_as("SELECT id FROM organizations WHERE name = $1")
                .bind(reference.org.as_str())
                .fetch_optional(&mut *tx)
                .await?;
        let (org_id,) = org_id.ok_or_else(|| StoreError::OrgNotFound(reference.org.to_string()))?;
        let id = new_id();
        let now = time::now();
        sqlx::query(
            "INSERT INTO projects (id, organization_id, name, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(&org_id)
        .bind(reference.project.as_str())
        .bind(&now)
        .execute(&mut *tx)
        .await
        .map_err(|e| on_unique_violation(e, || StoreError::ProjectExists(reference.to_string())))?;
        audit::append(
            &mut tx,
            ctx,
            "project.create",
            &format!("project:{reference}"),
            json!({ "project": reference.to_string() }),
        )
        .await?;
        tx.commit().await?;
        Ok(Project {
            id,
            org: reference.org.clone(),
            name: reference.project.clone(),
            created_at: now,
            devices: 0,
        })
    }

    /// Projects, optionally of one organization.
    pub async fn list_projects(&self, org: Option<&OrgName>) -> Result<Vec<Project>, StoreError> {
        if let Some(org) = org {
            let exists: Option<(String,)> =
                sqlx::query_as("SELECT id FROM organizations WHERE name = $1")
                    .bind(org.as_str())
                    .fetch_optional(&self.pool)
                    .await?;
            if exists.is_none() {
                return Err(StoreError::OrgNotFound(org.to_string()));
            }
        }
        let rows: Vec<(String, String, String, String, i64)> = sqlx::query_as(
            "SELECT p.id, o.name, p.name, p.created_at, \
                    (SELECT COUNT(*) FROM devices d WHERE d.project_id = p.id AND d.status <> 'decommissioned') \
             FROM projects p JOIN organizations o ON o.id = p.organization_id \
             WHERE ($1 IS NULL OR o.name = $1) ORDER BY o.name, p.name",
        )
        .bind(org.map(OrgName::as_str))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(id, org, name, created_at, devices)| {
                Ok(Project {
                    id,
                    org: parse_column(&org, "organizations.name")?,
                    name: parse_column(&name, "projects.name")?,
                    created_at,
                    devices,
                })
            })
            .collect()
    }

    /// The `ORG/PROJECT` of the project with registry id `id` (what plans record).
    pub async fn project_ref(&self, id: &str) -> Result<ProjectRef, StoreError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT o.name, p.name FROM projects p JOIN organizations o ON o.id = p.organization_id \
             WHERE p.id = $1",
        )
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        let (org, project) = row.ok_or_else(|| StoreError::ProjectNotFound(id.to_owned()))?;
        Ok(ProjectRef {
            org: parse_column(&org, "organizations.name")?,
            project: parse_column(&project, "projects.name")?,
        })
    }

    /// One project by reference, with its count of live devices.
    pub async fn project(&self, reference: &ProjectRef) -> Result<Project, StoreError> {
        let row: Option<(String, String, i64)> = sqlx::query_as(
            "SELECT p.id, p.created_at, \
                    (SELECT COUNT(*) FROM devices d WHERE d.project_id = p.id AND d.status <> 'decommissioned') \
             FROM projects p JOIN organizations o ON o.id = p.organization_id \
             WHERE o.name = $1 AND p.name = $2",
        )
        .bind(reference.org.as_str())
        .bind(reference.project.as_str())
        .fetch_optional(&self.pool)
        .await?;
        let (id, created_at, devices) =
            row.ok_or_else(|| StoreError::ProjectNotFound(reference.to_string()))?;
        Ok(Project {
            id,
            org: reference.org.clone(),
            name: reference.project.clone(),
            created_at,
            devices,
        })
    }

    /// The id of a project, or a clear error naming it.
    pub(crate) async fn project_id<'e, E>(
        executor: E,
        reference: &ProjectRef,
    ) -> Result<String, StoreError>
    where
        E: sqlx::Executor<'e, Database = sqlx::Any>,
    {
        let row: Option<(String,)> = sqlx::query_as(
            "SELECT p.id FROM projects p JOIN organizations o ON o.id = p.organization_id \
             WHERE o.name = $1 AND p.name = $2",
        )
        .bind(reference.org.as_str())
        .bind(reference.project.as_str())
        .fetch_optional(executor)
        .await?;
        row.map(|(id,)| id)
            .ok_or_else(|| StoreError::ProjectNotFound(reference.to_string()))
    }
}
