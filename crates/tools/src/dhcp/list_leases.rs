//! `dhcp.list_leases`: DHCP leases of one router — who holds which address — with the exact
//! filters an engineer reaches for (server, status, MAC, address) applied on the device, and a
//! host-name substring applied here (RouterOS has no substring match in print queries).

use std::net::Ipv4Addr;

use routeros::PrintQuery;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Ctx, MenuList, ToolError, ToolOutput, contains, window};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    server: Option<String>,
    status: Option<String>,
    mac_address: Option<String>,
    address: Option<String>,
    host_name_contains: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
    fields: Option<Vec<String>>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("dhcp.list_leases", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let mac = p.mac_address.as_deref().map(crate::args::parse_mac).transpose()?;
    let address = p
        .address
        .as_deref()
        .map(|a| {
            a.trim().parse::<Ipv4Addr>().map_err(|_| {
                ToolError::InvalidArguments(format!(
                    "address \"{a}\" is not an IPv4 address (e.g. 192.168.88.254)"
                ))
            })
        })
        .transpose()?;
    let mut query = PrintQuery::all();
    if let Some(s) = &p.server {
        query = query.filter("server", s);
    }
    if let Some(s) = &p.status {
        query = query.filter("status", s);
    }
    if let Some(m) = &mac {
        query = query.filter("mac-address", m);
    }
    if let Some(a) = &address {
        query = query.filter("address", &a.to_string());
    }
    let scope_args = json!({"device_id": p.device_id, "server": p.server, "status": p.status,
        "mac_address": mac, "address": address, "host_name_contains": p.host_name_contains});
    MenuList {
        tool: "dhcp.list_leases",
        scope_args,
        device_id: &p.device_id,
        menu: "ip/dhcp-server/lease",
        query,
        window: window(p.limit, p.cursor, p.fields),
    }
    .run_shaped(
        &ctx,
        |_, _, i| {
            // RouterOS omits `dynamic` on some versions for static leases; say it plainly.
            i.entry("dynamic").or_insert(Value::Bool(false));
        },
        |i| {
            p.host_name_contains
                .as_ref()
                .is_none_or(|h| contains(i.get("host-name"), h))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use routeros_sim::profiles::Profile;
    use serde_json::{Value, json};

    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn five_hundred_leases_page_once_and_filters_narrow() {
        let h = Harness::start(&[Profile::Edge]).await;
        let mut seen = HashSet::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            pages += 1;
            assert!(pages <= 10, "paging must end");
            let mut args = json!({"device_id": "r1", "limit": 120});
            if let Some(c) = &cursor {
                args["cursor"] = json!(c);
            }
            let page = h.ok("dhcp.list_leases", args).await;
            assert_eq!(page["total"], 500);
            for l in page["items"].as_array().unwrap() {
                assert!(seen.insert(l["id"].as_str().unwrap().to_owned()), "{l}");
                assert!(l["dynamic"].is_boolean(), "{l}");
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen.len(), 500);
        assert_eq!(pages, 5);

        let one = h
            .ok(
                "dhcp.list_leases",
                json!({"device_id": "r1", "host_name_contains": "HOST-042"}),
            )
            .await;
        assert_eq!(one["total"], 1, "{one}");
        let lease = &one["items"][0];
        assert_eq!(lease["host-name"], "host-042");
        assert_eq!(lease["address"], "10.0.1.52");
        assert_eq!(lease["status"], "bound");
        assert_eq!(lease["server"], "lan-dhcp");
        assert_eq!(lease["dynamic"], false, "the first 100 leases are static");
        assert!(lease["expires-after"]["seconds"].is_number(), "{lease}");

        // The MAC in another spelling finds the same lease, on the device.
        let mac = lease["mac-address"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .replace(':', "-");
        let by_mac = h
            .ok(
                "dhcp.list_leases",
                json!({"device_id": "r1", "mac_address": mac}),
            )
            .await;
        assert_eq!(by_mac["total"], 1);
        assert_eq!(by_mac["items"][0]["id"], lease["id"]);
        let by_address = h
            .ok(
                "dhcp.list_leases",
                json!({"device_id": "r1", "address": "10.0.1.52", "server": "lan-dhcp", "status": "bound"}),
            )
            .await;
        assert_eq!(by_address["items"][0]["id"], lease["id"]);

        let dynamic = h
            .ok(
                "dhcp.list_leases",
                json!({"device_id": "r1", "server": "lan-dhcp", "limit": 1000, "fields": ["dynamic"]}),
            )
            .await;
        let n_dynamic = dynamic["items"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|l| l["dynamic"] == Value::Bool(true))
            .count();
        assert_eq!(n_dynamic, 400);
        let none = h
            .ok(
                "dhcp.list_leases",
                json!({"device_id": "r1", "server": "nope"}),
            )
            .await;
        assert_eq!(none["total"], 0);

        let bad = h
            .call(
                "dhcp.list_leases",
                json!({"device_id": "r1", "mac_address": "not-a-mac"}),
            )
            .await
            .unwrap_err();
        assert!(bad.to_string().contains("not a MAC address"), "{bad}");
        let bad = h
            .call(
                "dhcp.list_leases",
                json!({"device_id": "r1", "address": "10.0.1"}),
            )
            .await
            .unwrap_err();
        assert!(bad.to_string().contains("not an IPv4 address"), "{bad}");
    }
}
