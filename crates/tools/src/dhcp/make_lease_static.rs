//! `dhcp.make_lease_static`: plans turning a dynamic DHCP lease into a static one (RouterOS's
//! `make-static`), so the client keeps its address. The lease is named by its id, its address
//! or its MAC address. Returns the plan; nothing changes until it is approved and applied.

use serde::Deserialize;
use workflow::{ChangeRequest, Op, Props};

use crate::args;
use crate::Caller;
use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    lease_id: Option<String>,
    address: Option<String>,
    mac_address: Option<String>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler_as_caller!("dhcp.make_lease_static", run);

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let mut matching = Props::new();
    if let Some(a) = &p.address {
        matching.insert("address".into(), args::ip("address", a)?);
    }
    if let Some(m) = &p.mac_address {
        matching.insert("mac-address".into(), crate::args::parse_mac(m)?);
    }
    let what = matching
        .values()
        .next()
        .cloned()
        .or_else(|| p.lease_id.clone())
        .unwrap_or_default();
    let target = args::choose(
        "lease_id",
        p.lease_id.as_deref(),
        matching,
        "address or mac_address",
    )?;
    crate::proposal::propose_on(
        &ctx,
        &caller,
        "dhcp.make_lease_static",
        format!(
            "Make the DHCP lease of {} static on {}",
            what.trim(),
            p.device_id
        ),
        p.device_id,
        vec![ChangeRequest {
            menu: "ip/dhcp-server/lease".into(),
            op: Op::Command {
                target,
                command: "make-static".into(),
            },
        }],
    )
    .await
}
