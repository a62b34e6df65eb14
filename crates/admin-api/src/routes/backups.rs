//! A project's backup and drift state, device by device: when its configuration was last
//! backed up, whether it has drifted from the last state the product applied or accepted (and
//! since when, in which menus), and how the last scheduled check went. What `fleet.get_drift`
//! reports, for the people who run the fleet.

use auth::Role;
use axum::Json;
use axum::extract::{Path, State};
use serde::Serialize;
use store::DeviceFilter;
use utoipa::ToSchema;

use super::describe;
use crate::AdminState;
use crate::error::{ApiError, ErrorBody};
use crate::extract::Caller;

/// One device's backup and drift state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct BackupState {
    pub device_id: String,
    pub name: String,
    /// When the newest configuration snapshot was taken; null when none was.
    pub last_backup_at: Option<String>,
    /// When the device was first seen out of line with its baseline; null when it is in line
    /// (or was never checked).
    pub drift_since: Option<String>,
    /// The RouterOS menus that differ from the baseline.
    pub drift_menus: Vec<String>,
    /// `ok` or `failed`: how the last scheduled backup check went; null before the first.
    pub last_check_status: Option<String>,
    pub last_check_at: Option<String>,
}

/// The project's live devices, each with its backup and drift state.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub(crate) struct BackupStateList {
    pub items: Vec<BackupState>,
}

/// The backup and drift state of the project's devices.
#[utoipa::path(
    get,
    path = "/v1/organizations/{org}/projects/{project}/backup-status",
    tag = "devices",
    params(
        ("org" = String, Path, description = "Organization name"),
        ("project" = String, Path, description = "Project name"),
    ),
    responses(
        (status = 200, description = "Each live device's last backup, drift and last check", body = BackupStateList),
        (status = 400, description = describe::INVALID, body = ErrorBody),
        (status = 401, description = describe::UNAUTHENTICATED, body = ErrorBody),
        (status = 404, description = describe::NOT_FOUND, body = ErrorBody),
        (status = 500, description = describe::INTERNAL, body = ErrorBody),
    )
)]
pub(crate) async fn backup_status(
    State(state): State<AdminState>,
    caller: Caller,
    Path((org, project)): Path<(String, String)>,
) -> Result<Json<BackupStateList>, ApiError> {
    let (reference, _) = super::open_project(&state, &caller, &org, &project, Role::Viewer).await?;
    let store = state.store();
    let devices = store
        .list_devices(&DeviceFilter {
            project: Some(reference),
            environment: None,
            status: None,
            tags: Vec::new(),
            include_decommissioned: false,
        })
        .await?;
    let mut items = Vec::with_capacity(devices.len());
    for d in devices {
        let id = d.id.to_string();
        let last = store.snapshot_list(&id, 0, 1).await?;
        let drift = store.drift_get(&id).await?;
        let check = store.check_get(&id).await?;
        items.push(BackupState {
            name: d.name.to_string(),
            last_backup_at: last.first().map(|s| s.taken_at.clone()),
            drift_menus: drift
                .as_ref()
                .and_then(|r| serde_json::from_str(&r.menus).ok())
                .unwrap_or_default(),
            drift_since: drift.map(|r| r.since),
            last_check_status: check.as_ref().map(|c| c.status.clone()),
            last_check_at: check.map(|c| c.checked_at),
            device_id: id,
        });
    }
    Ok(Json(BackupStateList { items }))
}
