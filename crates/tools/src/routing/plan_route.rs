//! `routing.plan_route`: plans adding a static route or removing one. Removing or shadowing the
//! route the server reaches the router through is critical: the router is then armed to undo
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
    dst_address: Option<String>,
    gateway: Option<String>,
    distance: Option<u8>,
    routing_table: Option<String>,
    comment: Option<String>,
    route_id: Option<String>,
}

/// A route destination as RouterOS prints it: the network, host bits cleared.
fn network(dst: &str) -> Result<String, ToolError> {
    let with_len = args::prefix("dst_address", dst, false)?;
    let Some((addr, len)) = with_len.split_once('/') else {
        return Ok(with_len);
    };
    let len: u32 = len.parse().unwrap_or(0);
    Ok(match addr.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V4(a)) => {
            let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
            format!("{}/{len}", std::net::Ipv4Addr::from(u32::from(a) & mask))
        }
        Ok(std::net::IpAddr::V6(a)) => {
            let mask = u128::MAX.checked_shl(128 - len).unwrap_or(0);
            format!("{}/{len}", std::net::Ipv6Addr::from(u128::from(a) & mask))
        }
        Err(_) => with_len,
    })
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler_as_caller!("routing.plan_route", run);

pub(crate) async fn run(ctx: Ctx, p: Params, caller: Caller) -> Result<ToolOutput, ToolError> {
    let dst = p.dst_address.as_deref().map(network).transpose()?;
    let gateway = p
        .gateway
        .as_deref()
        .map(|g| args::text("gateway", g, true))
        .transpose()?;
    let table = p
        .routing_table
        .as_deref()
        .map(|t| args::text("routing_table", t, true))
        .transpose()?;
    let (op, title) = match p.action {
        Action::Add => {
            let (Some(dst), Some(gateway)) = (dst, gateway) else {
                return Err(ToolError::InvalidArguments(
                    "action add needs dst_address (e.g. 10.50.0.0/16, or 0.0.0.0/0 for a default route) and gateway (an address or an interface name)".into(),
                ));
            };
            if p.route_id.is_some() {
                return Err(ToolError::InvalidArguments(
                    "route_id names an existing route; leave it out to add one".into(),
                ));
            }
            let mut props = Props::from([
                ("dst-address".to_owned(), dst.clone()),
                ("gateway".to_owned(), gateway.clone()),
            ]);
            if let Some(d) = p.distance {
                if !(1..=255).contains(&d) {
                    return Err(ToolError::InvalidArguments(format!(
                        "distance {d} is out of range: RouterOS takes 1 to 255"
                    )));
                }
                props.insert("distance".into(), d.to_string());
            }
            if let Some(t) = &table {
                props.insert("routing-table".into(), t.clone());
            }
            if let Some(c) = &p.comment {
                props.insert("comment".into(), args::text("comment", c, false)?);
            }
            (
                Op::Add {
                    props,
                    place_before: None,
                },
                format!("Add route {dst} via {gateway}"),
            )
        }
        Action::Remove => {
            if p.comment.is_some() || p.distance.is_some() {
                return Err(ToolError::InvalidArguments(
                    "comment and distance are only for action add".into(),
                ));
            }
            let matching = args::matching(
                ("dst_address", "dst-address", dst.clone()),
                &[
                    ("gateway", "gateway", gateway),
                    ("routing_table", "routing-table", table),
                ],
                "route_id",
            )?;
            let what = dst
                .clone()
                .or_else(|| p.route_id.clone())
                .unwrap_or_default();
            let target = args::choose(
                "route_id",
                p.route_id.as_deref(),
                matching,
                "dst_address (and gateway)",
            )?;
            (
                Op::Remove { target },
                format!("Remove route {}", what.trim()),
            )
        }
    };
    crate::proposal::propose_on(
        &ctx,
        &caller,
        "routing.plan_route",
        format!("{title} on {}", p.device_id),
        p.device_id,
        vec![ChangeRequest {
            menu: "ip/route".into(),
            op,
        }],
    )
    .await
}
