//! `config.diff`: how two configurations differ, as a unified diff grouped by RouterOS menu
//! (`/ip firewall filter`: the lines removed and added, with a line of context) — two stored
//! snapshots, a snapshot against its device's running configuration, or two devices' running
//! configurations. Lines are compared as stored and shown with secrets hidden and script bodies
//! withheld (a changed password shows as a changed line with its value hidden). A page holds
//! whole menus up to a character budget; a menu larger than a page alone is cut and says so.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::export::{PAGE_CHARS, console_section, hide_secrets};
use crate::paging::{decode_cursor, encode_cursor, scope};
use crate::{Ctx, ToolError, ToolOutput};

/// Unchanged lines shown around each change.
const CONTEXT: usize = 1;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    snapshot_id: Option<String>,
    against_snapshot_id: Option<String>,
    device_id: Option<String>,
    against_device_id: Option<String>,
    section: Option<String>,
    cursor: Option<String>,
}

/// One side of the comparison: what it is, and its lines.
struct Side {
    about: Value,
    lines: Vec<String>,
}

async fn snapshot_side(ctx: &Ctx, id: &str) -> Result<(Side, store::Device), ToolError> {
    let (row, dev) = super::visible_snapshot(ctx, id).await?;
    let lines = ctx.backups().lines(&row)?;
    let mut about = crate::device_ref(&dev);
    about.insert("snapshot_id".into(), json!(row.id));
    about.insert("taken_at".into(), json!(row.taken_at));
    Ok((
        Side {
            about: Value::Object(about),
            lines,
        },
        dev,
    ))
}

async fn running_side(ctx: &Ctx, device: &store::Device) -> Result<Side, ToolError> {
    // Contacting the device needs the same access as any read of it.
    let (dev, _) = crate::device(ctx, &device.id.to_string()).await?;
    let running = ctx.backups().running(&dev).await?;
    let mut about = crate::device_ref(&dev);
    about.insert("running".into(), json!(true));
    Ok(Side {
        about: Value::Object(about),
        lines: running.lines,
    })
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("config.diff", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let section = p.section.as_deref().map(console_section).transpose()?;
    let (from, to) = match (
        p.snapshot_id.as_deref(),
        p.against_snapshot_id.as_deref(),
        p.device_id.as_deref(),
        p.against_device_id.as_deref(),
    ) {
        (Some(a), Some(b), None, None) => {
            (snapshot_side(&ctx, a).await?.0, snapshot_side(&ctx, b).await?.0)
        }
        (Some(a), None, None, None) => {
            let (side, dev) = snapshot_side(&ctx, a).await?;
            (side, running_side(&ctx, &dev).await?)
        }
        (None, None, Some(a), Some(b)) => {
            let a = crate::registered(&ctx, a).await?;
            let b = crate::registered(&ctx, b).await?;
            (running_side(&ctx, &a).await?, running_side(&ctx, &b).await?)
        }
        _ => {
            return Err(ToolError::InvalidArguments(
                "say what to compare with exactly one of: snapshot_id and against_snapshot_id \
                 (two snapshots); snapshot_id alone (a snapshot against its device's running \
                 configuration); device_id and against_device_id (two devices' running \
                 configurations)"
                    .into(),
            ));
        }
    };
    let query = scope(
        "config.diff",
        &json!({
            "snapshot_id": p.snapshot_id, "against_snapshot_id": p.against_snapshot_id,
            "device_id": p.device_id, "against_device_id": p.against_device_id,
            "section": section,
        }),
    );
    let offset = match &p.cursor {
        Some(c) => decode_cursor(c, &query)?,
        None => 0,
    };
    let mut menus = backup::diff(&from.lines, &to.lines, CONTEXT, hide_secrets);
    if let Some(s) = &section {
        menus.retain(|m| m.menu == *s || m.menu.starts_with(&format!("{s} ")));
    }
    let total = menus.len();
    if offset > total {
        return Err(ToolError::InvalidArguments(format!(
            "cursor points past the end of the diff ({total} menus): the configuration changed; start again without a cursor"
        )));
    }
    let summary = json!({
        "menus_changed": total,
        "lines_added": menus.iter().map(|m| m.added).sum::<usize>(),
        "lines_removed": menus.iter().map(|m| m.removed).sum::<usize>(),
    });
    let mut page = Vec::new();
    let mut chars = 0;
    let mut end = offset;
    for m in &menus[offset..] {
        let cost: usize = m.lines.iter().map(|l| l.len() + 4).sum::<usize>() + m.menu.len() + 60;
        if !page.is_empty() && chars + cost > PAGE_CHARS {
            break;
        }
        let mut entry = Map::new();
        entry.insert("menu".into(), json!(m.menu));
        entry.insert("added".into(), json!(m.added));
        entry.insert("removed".into(), json!(m.removed));
        if cost > PAGE_CHARS {
            // Alone too large for a page: as many lines as fit, and say so.
            let mut kept = Vec::new();
            let mut used = m.menu.len() + 60;
            for l in &m.lines {
                if used + l.len() + 4 > PAGE_CHARS {
                    break;
                }
                used += l.len() + 4;
                kept.push(l.clone());
            }
            entry.insert("lines".into(), json!(kept));
            entry.insert("truncated".into(), json!(true));
            chars += used;
        } else {
            entry.insert("lines".into(), json!(m.lines));
            chars += cost;
        }
        page.push(Value::Object(entry));
        end += 1;
    }
    Ok(ToolOutput::new(json!({
        "from": from.about,
        "to": to.about,
        "identical": total == 0,
        "summary": summary,
        "menus": page,
        "next_cursor": if end < total { json!(encode_cursor(end, &query)) } else { Value::Null },
    })))
}
