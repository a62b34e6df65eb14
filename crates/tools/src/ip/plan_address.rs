//! `ip.plan_address`: plans adding an IP address to an interface, or removing one. Removing the
//! address the server reaches the router through is critical: the router is then armed to undo
//! it by itself. Returns the plan; nothing changes until it is approved and applied.

use serde::Deserialize;
use workflow::{ChangeRequest, Op, Props};

use crate::args;
use crate::Caller;
use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Action {
    Add,
    Remove,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    action: Action,
    address: Option<String>,
    interface: Option<String>,
    comment: Option<String>,
    address_id: Option<String>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler_as_caller!("ip.plan_address", run);

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let address = p
        .address
        .as_deref()
        .map(|a| args::prefix("address", a, false))
        .transpose()?;
    let interface = p
        .interface
        .as_deref()
        .map(|i| args::text("interface", i, true))
        .transpose()?;
    let (op, title) = match p.action {
        Action::Add => {
            let (Some(address), Some(interface)) = (address, interface) else {
                return Err(ToolError::InvalidArguments(
                    "action add needs address (with its prefix length, e.g. 10.20.0.1/24) and interface".into(),
                ));
            };
            if p.address_id.is_some() {
                return Err(ToolError::InvalidArguments(
                    "address_id names an existing address; leave it out to add one".into(),
                ));
            }
            let mut props = Props::from([
                ("address".to_owned(), address.clone()),
                ("interface".to_owned(), interface.clone()),
            ]);
            if let Some(c) = &p.comment {
                props.insert("comment".into(), args::text("comment", c, false)?);
            }
            (
                Op::Add {
                    props,
                    place_before: None,
                },
                format!("Add {address} on {interface}"),
            )
        }
        Action::Remove => {
            if p.comment.is_some() {
                return Err(ToolError::InvalidArguments(
                    "comment is only for action add".into(),
                ));
            }
            let matching = args::matching(
                ("address", "address", address.clone()),
                &[("interface", "interface", interface)],
                "address_id",
            )?;
            let what = address
                .clone()
                .or_else(|| p.address_id.clone())
                .unwrap_or_default();
            let target = args::choose(
                "address_id",
                p.address_id.as_deref(),
                matching,
                "address (and interface)",
            )?;
            (
                Op::Remove { target },
                format!("Remove address {}", what.trim()),
            )
        }
    };
    crate::proposal::propose_on(
        &ctx,
        &caller,
        "ip.plan_address",
        format!("{title} on {}", p.device_id),
        p.device_id,
        vec![ChangeRequest {
            menu: "ip/address".into(),
            op,
        }],
    )
    .await
}
