//! `config.get_snapshot`: a stored configuration snapshot, a page at a time — paged exactly like
//! `config.export` (at most `limit` lines and a character budget per page, optionally one
//! section), secrets hidden and script bodies withheld by the one definition in
//! `routeros::secret`, whether or not the snapshot was taken with `show-sensitive`.

use serde::Deserialize;
use serde_json::{Value, json};

use super::export::{console_section, hide_secrets, line_menus, page_len, section_lines};
use crate::paging::{decode_cursor, encode_cursor, scope};
use crate::{Ctx, ToolError, ToolOutput};

const DEFAULT_LINES: usize = 200;
const MAX_LINES: usize = 400;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    snapshot_id: String,
    section: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("config.get_snapshot", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let section = p.section.as_deref().map(console_section).transpose()?;
    let limit = p
        .limit
        .map_or(DEFAULT_LINES, |l| usize::try_from(l).unwrap_or(MAX_LINES))
        .clamp(1, MAX_LINES);
    let (row, dev) = super::visible_snapshot(&ctx, &p.snapshot_id).await?;
    let query = scope(
        "config.get_snapshot",
        &json!({"snapshot_id": row.id, "section": section}),
    );
    let offset = match &p.cursor {
        Some(c) => decode_cursor(c, &query)?,
        None => 0,
    };
    let mut lines = ctx.backups().lines(&row)?;
    if let Some(s) = &section {
        lines = section_lines(lines, s);
    }
    let total = lines.len();
    if offset > total {
        return Err(ToolError::InvalidArguments(format!(
            "cursor points past the end of the snapshot ({total} lines); start again without a cursor"
        )));
    }
    let n = page_len(&lines[offset..], limit);
    let menus = line_menus(&lines);
    let page: Vec<String> = lines[offset..offset + n]
        .iter()
        .zip(&menus[offset..offset + n])
        .map(|(l, m)| hide_secrets(m, l))
        .collect();
    let end = offset + n;
    let mut out = crate::device_ref(&dev);
    out.insert("snapshot".into(), super::snapshot_summary(&row));
    if let Some(s) = &section {
        out.insert("section".into(), json!(s));
    }
    out.insert(
        "from_line".into(),
        json!(if n == 0 { 0 } else { offset + 1 }),
    );
    out.insert("to_line".into(), json!(end));
    out.insert("total_lines".into(), json!(total));
    out.insert(
        "next_cursor".into(),
        if end < total {
            json!(encode_cursor(end, &query))
        } else {
            Value::Null
        },
    );
    out.insert("text".into(), json!(page.join("\n")));
    Ok(ToolOutput::new(Value::Object(out)))
}
