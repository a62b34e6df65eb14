//! `dns.remove_static_entry`: plans removing one static DNS entry, named by its id or by its
//! name (and address, when a name has several entries). Returns the plan; nothing changes until
//! it is approved and applied.

use serde::Deserialize;
use workflow::{ChangeRequest, Op};

use crate::args;
use crate::Caller;
use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    entry_id: Option<String>,
    name: Option<String>,
    address: Option<String>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler_as_caller!("dns.remove_static_entry", run);

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let name = p
        .name
        .as_deref()
        .map(|n| args::text("name", n, true))
        .transpose()?;
    let address = p
        .address
        .as_deref()
        .map(|a| args::ip("address", a))
        .transpose()?;
    let matching = args::matching(
        ("name", "name", name),
        &[("address", "address", address)],
        "entry_id",
    )?;
    let target = args::choose("entry_id", p.entry_id.as_deref(), matching, "name")?;
    let what = p
        .name
        .as_deref()
        .or(p.entry_id.as_deref())
        .unwrap_or_default()
        .trim()
        .to_owned();
    crate::proposal::propose_on(
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
