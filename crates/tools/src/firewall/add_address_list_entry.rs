//! `firewall.add_address_list_entry`: plans adding an address (or prefix, range or DNS name) to
//! a firewall address list, optionally for a limited time. Returns the plan; nothing changes
//! until it is approved and applied.

use serde::Deserialize;
use workflow::{ChangeRequest, Op, Props};

use crate::args;
use crate::Caller;
use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    list: String,
    address: String,
    timeout: Option<String>,
    comment: Option<String>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler_as_caller!("firewall.add_address_list_entry", run);

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let list = args::text("list", &p.list, true)?;
    let address = args::text("address", &p.address, true)?;
    if address.contains(char::is_whitespace) {
        return Err(ToolError::InvalidArguments(format!(
            "address \"{}\" contains a space: give one address, prefix (10.0.0.0/8), range (10.0.0.1-10.0.0.9) or DNS name",
            p.address
        )));
    }
    let mut props = Props::from([
        ("list".to_owned(), list.clone()),
        ("address".to_owned(), address.clone()),
    ]);
    if let Some(t) = &p.timeout {
        props.insert("timeout".into(), args::duration("timeout", t)?);
    }
    if let Some(c) = &p.comment {
        props.insert("comment".into(), args::text("comment", c, false)?);
    }
    crate::proposal::propose_on(
        &ctx,
        &caller,
        "firewall.add_address_list_entry",
        format!("Add {address} to address list {list} on {}", p.device_id),
        p.device_id,
        vec![ChangeRequest {
            menu: "ip/firewall/address-list".into(),
            op: Op::Add {
                props,
                place_before: None,
            },
        }],
    )
    .await
}
