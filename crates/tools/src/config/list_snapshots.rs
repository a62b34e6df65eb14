//! `config.list_snapshots`: a device's stored configuration snapshots, newest first — when each
//! was taken, what changed it (a plan and its approver, or something outside the product) and
//! which menus changed. No content: `config.get_snapshot` pages one, `config.diff` compares.

use serde::Deserialize;
use serde_json::{Value, json};

use crate::paging::{Page, decode_cursor, encode_cursor, scope};
use crate::{Ctx, ToolError, ToolOutput};

/// Snapshots per page when the caller does not say.
const DEFAULT_LIMIT: usize = 20;
/// The most per page.
const MAX_LIMIT: usize = 100;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    limit: Option<u32>,
    cursor: Option<String>,
    fields: Option<Vec<String>>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("config.list_snapshots", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let dev = crate::registered(&ctx, &p.device_id).await?;
    let device_id = dev.id.to_string();
    let query = scope("config.list_snapshots", &json!({"device_id": device_id}));
    let offset = match &p.cursor {
        Some(c) => decode_cursor(c, &query)?,
        None => 0,
    };
    let limit = p
        .limit
        .map_or(DEFAULT_LIMIT, |l| usize::try_from(l).unwrap_or(MAX_LIMIT))
        .clamp(1, MAX_LIMIT);
    let store = ctx.fleet.store();
    let total = usize::try_from(store.snapshot_count(&device_id).await?).unwrap_or(0);
    if offset > total {
        return Err(ToolError::InvalidArguments(format!(
            "cursor points past the end of the list ({total} snapshots): snapshots were pruned; start again without a cursor"
        )));
    }
    let rows = store
        .snapshot_list(
            &device_id,
            i64::try_from(offset).unwrap_or(i64::MAX),
            i64::try_from(limit).unwrap_or(i64::MAX),
        )
        .await?;
    let end = offset + rows.len();
    let mut out = crate::device_ref(&dev);
    out.insert("returned".into(), json!(rows.len()));
    out.insert("total".into(), json!(total));
    out.insert(
        "next_cursor".into(),
        if end < total {
            json!(encode_cursor(end, &query))
        } else {
            Value::Null
        },
    );
    out.insert(
        "items".into(),
        Value::Array(
            rows.iter()
                .map(|r| match super::snapshot_summary(r) {
                    Value::Object(m) => {
                        Value::Object(crate::normalize::project(m, p.fields.as_deref()))
                    }
                    other => other,
                })
                .collect(),
        ),
    );
    Ok(ToolOutput {
        structured: Value::Object(out),
        page: Some(Page {
            offset,
            total,
            scope: query,
        }),
        cache: None,
    })
}
