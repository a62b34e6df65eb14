//! `firewall.remove_address_list_entry`: plans removing one entry of a firewall address list,
//! named by its id or by list and address. Returns the plan; nothing changes until it is
//! approved and applied.

use serde::Deserialize;
use workflow::{ChangeRequest, Op, Props};

use crate::args;
use crate::Caller;
use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    entry_id: Option<String>,
    list: Option<String>,
    address: Option<String>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler_as_caller!("firewall.remove_address_list_entry", run);

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let matching = match (&p.list, &p.address) {
        (Some(l), Some(a)) => Props::from([
            ("list".to_owned(), args::text("list", l, true)?),
            ("address".to_owned(), args::text("address", a, true)?),
        ]),
        (None, None) => Props::new(),
        _ => {
            return Err(ToolError::InvalidArguments(
                "give list and address together (or entry_id alone)".into(),
            ));
        }
    };
    let target = args::choose(
        "entry_id",
        p.entry_id.as_deref(),
        matching,
        "list and address",
    )?;
    let title = match (&p.list, &p.address, &p.entry_id) {
        (Some(l), Some(a), _) => format!("Remove {} from address list {}", a.trim(), l.trim()),
        (_, _, Some(i)) => format!("Remove address-list entry {}", i.trim()),
        _ => "Remove an address-list entry".to_owned(),
    };
    crate::proposal::propose_on(
        &ctx,
        &caller,
        "firewall.remove_address_list_entry",
        format!("{title} on {}", p.device_id),
        p.device_id,
        vec![ChangeRequest {
            menu: "ip/firewall/address-list".into(),
            op: Op::Remove { target },
        }],
    )
    .await
}
