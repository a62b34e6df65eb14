//! `dns.add_static_entry`: plans a static DNS entry (an A record, a CNAME or a TXT record) on one
//! router. Returns the plan; nothing changes until it is approved and applied.

use serde::Deserialize;
use workflow::{ChangeRequest, DeviceRequest, Op, PlanRequest, Props};

use crate::Caller;
use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    name: String,
    address: Option<String>,
    cname: Option<String>,
    text: Option<String>,
    ttl: Option<String>,
    comment: Option<String>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler_as_caller!("dns.add_static_entry", run);

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let mut props = Props::from([("name".to_owned(), p.name.trim().to_owned())]);
    let (kind, value) = match (&p.address, &p.cname, &p.text) {
        (Some(a), None, None) => {
            if a.parse::<std::net::IpAddr>().is_err() {
                return Err(ToolError::InvalidArguments(format!(
                    "address \"{a}\" is not an IPv4 or IPv6 address"
                )));
            }
            ("address", a.clone())
        }
        (None, Some(c), None) => ("cname", c.clone()),
        (None, None, Some(t)) => ("text", t.clone()),
        _ => {
            return Err(ToolError::InvalidArguments(
                "give exactly one of address (A/AAAA), cname or text".into(),
            ));
        }
    };
    props.insert(kind.into(), value);
    if kind != "address" {
        props.insert(
            "type".into(),
            kind.to_ascii_uppercase().replace("TEXT", "TXT"),
        );
    }
    for (k, v) in [("ttl", &p.ttl), ("comment", &p.comment)] {
        if let Some(v) = v {
            props.insert(k.into(), v.clone());
        }
    }
    crate::proposal::propose(
        &ctx,
        &caller,
        PlanRequest {
            title: format!("Add DNS entry {} on {}", p.name.trim(), p.device_id),
            tool: "dns.add_static_entry".into(),
            devices: vec![DeviceRequest {
                device: p.device_id,
                changes: vec![ChangeRequest {
                    menu: "ip/dns/static".into(),
                    op: Op::Add {
                        props,
                        place_before: None,
                    },
                }],
            }],
        },
    )
    .await
}
