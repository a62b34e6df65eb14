//! The `config` tools: the router's export, its stored snapshots, differences between them,
//! declared state, and the restore engine `config.plan_restore` runs on a snapshot.

crate::toolkit::tools! {
    export,
    list_snapshots,
    get_snapshot,
    diff,
    plan_desired_state,
    plan_restore,
}

pub mod restore;

#[cfg(test)]
mod desired_tests;

pub use export::hide_in_export;

use crate::{Ctx, ToolError};

/// Snapshot ids are UUIDs; anything longer is refused before it reaches the database.
const MAX_ID_LEN: usize = 64;

/// The snapshot `id` and its device, if the caller may see the device. A snapshot of a device
/// the caller holds no role on is answered exactly as a snapshot that does not exist.
pub(crate) async fn visible_snapshot(
    ctx: &Ctx,
    id: &str,
) -> Result<(store::snapshots::SnapshotRow, store::Device), ToolError> {
    let id = id.trim();
    let missing = || backup::BackupError::NotFound(id.chars().take(MAX_ID_LEN).collect()).into();
    if id.len() > MAX_ID_LEN || id.parse::<domain::DeviceId>().is_err() {
        return Err(missing());
    }
    let Some(row) = ctx.fleet.store().snapshot_get(id).await? else {
        return Err(missing());
    };
    match crate::registered(ctx, &row.device_id).await {
        Ok(device) => Ok((row, device)),
        Err(ToolError::UnknownDevice(_)) => Err(missing()),
        Err(e) => Err(e),
    }
}

/// A snapshot as listings show it (no content).
pub(crate) fn snapshot_summary(s: &store::snapshots::SnapshotRow) -> serde_json::Value {
    let menus: serde_json::Value =
        serde_json::from_str(&s.changed_menus).unwrap_or(serde_json::Value::Null);
    serde_json::json!({
        "id": s.id,
        "taken_at": s.taken_at,
        "cause": s.cause,
        "plan_id": s.plan_id,
        "changed_by": s.changed_by,
        "changed_menus": menus,
        "trigger": s.trigger_kind,
        "lines": s.line_count,
        "routeros_version": s.routeros_version,
        "encrypted": s.key_id.is_some(),
    })
}

#[cfg(test)]
mod snapshot_tests;
