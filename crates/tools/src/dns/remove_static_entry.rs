//! `dns.remove_static_entry`: plans removing one static DNS entry, named by its id or by its
//! name (and address, when a name has several entries). Returns the plan; nothing changes until
//! it is approved and applied.

use serde::Deserialize;
use workflow::{ChangeRequest, Op, Props};

use crate::plan::args;
use crate::registry::Caller;
use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    entry_id: Option<String>,
    name: Option<String>,
    address: Option<String>,
}

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let mut matching = Props::new();
    if let Some(n) = &p.name {
        matching.insert("name".into(), args::text("name", n, true)?);
    }
    if let Some(a) = &p.address {
        if p.name.is_none() {
            return Err(ToolError::InvalidArguments(
                "address narrows name: give name too (or entry_id alone)".into(),
            ));
        }
        matching.insert("address".into(), args::ip("address", a)?);
    }
    let target = args::choose("entry_id", p.entry_id.as_deref(), matching, "name")?;
    let what = p
        .name
        .as_deref()
        .or(p.entry_id.as_deref())
        .unwrap_or_default()
        .trim()
        .to_owned();
    args::propose_on(
        &ctx,
        &caller,
        "dns.remove_static_entry",
        format!("Remove DNS entry {what} on {}", p.device_id),
        p.device_id,
        vec![ChangeRequest {
            menu: "ip/dns/static".into(),
            op: Op::Remove { target },
        }],
    )
    .await
}
