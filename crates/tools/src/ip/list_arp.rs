//! `ip.list_arp`: the ARP table — which MAC address answers for which IPv4 address on which
//! interface, and the entry's status (`reachable`, `stale`, `failed`, …). Use it to find the
//! device behind an address or the address of a MAC.
//!
//! Filters are checked before the device is asked: an address must be IPv4 and a MAC address
//! six hex pairs (any case, `:` or `-`), matched the way RouterOS prints them (upper case).

use std::net::Ipv4Addr;

use routeros::PrintQuery;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Ctx, MenuList, ToolError, ToolOutput, window};

/// Properties returned when the client does not choose (`fields` may name any other:
/// `published`, `complete`, `DHCP`, `invalid`).
const DEFAULT_PROPERTIES: &[&str] = &[
    "address",
    "mac-address",
    "interface",
    "status",
    "dynamic",
    "disabled",
    "comment",
];

fn defaults() -> Vec<String> {
    DEFAULT_PROPERTIES.iter().map(|p| (*p).to_owned()).collect()
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    interface: Option<String>,
    address: Option<String>,
    mac_address: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
    fields: Option<Vec<String>>,
}

/// `aa-bb-cc-dd-ee-ff` or `AA:BB:…` → `AA:BB:CC:DD:EE:FF`.
fn mac(text: &str) -> Result<String, ToolError> {
    let parts: Vec<&str> = text.trim().split([':', '-']).collect();
    let ok = parts.len() == 6
        && parts
            .iter()
            .all(|p| p.len() == 2 && p.chars().all(|c| c.is_ascii_hexdigit()));
    if ok {
        Ok(parts.join(":").to_ascii_uppercase())
    } else {
        Err(ToolError::InvalidArguments(format!(
            "mac_address: \"{text}\" is not a MAC address; expected six hex pairs such as 4C:5E:0C:12:34:56"
        )))
    }
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("ip.list_arp", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let address = p
        .address
        .as_deref()
        .map(|a| {
            a.trim().parse::<Ipv4Addr>().map_err(|_| {
                ToolError::InvalidArguments(format!(
                    "address: \"{a}\" is not an IPv4 address such as 192.168.88.10"
                ))
            })
        })
        .transpose()?
        .map(|a| a.to_string());
    let mac_address = p.mac_address.as_deref().map(mac).transpose()?;
    let mut query = PrintQuery::all();
    if let Some(i) = &p.interface {
        query = query.filter("interface", i.trim());
    }
    MenuList {
        tool: "ip.list_arp",
        scope_args: json!({"device_id": p.device_id, "interface": p.interface, "address": address, "mac_address": mac_address}),
        device_id: &p.device_id,
        menu: "ip/arp",
        query,
        window: window(p.limit, p.cursor, Some(p.fields.unwrap_or_else(defaults))),
    }
    .run(&ctx, |item| {
        address
            .as_ref()
            .is_none_or(|a| item.get("address").and_then(Value::as_str) == Some(a))
            && mac_address.as_ref().is_none_or(|m| {
                item.get("mac-address")
                    .and_then(Value::as_str)
                    .is_some_and(|x| x.eq_ignore_ascii_case(m))
            })
    })
    .await
}

#[cfg(test)]
mod tests {
    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn arp_entries_filtered_by_interface_address_and_mac() {
        let h = Harness::start(&[Profile::Edge]).await;
        let all = h
            .ok("ip.list_arp", json!({"device_id": "r1", "limit": 1000}))
            .await;
        // One entry per eighth DHCP lease and one per distribution switch.
        assert_eq!(all["total"], 73);
        let first = &all["items"][0];
        assert_eq!(first["status"], "reachable");
        assert_eq!(first["dynamic"], true);
        assert!(first.get("DHCP").is_none(), "not in the default set");
        let address = first["address"].as_str().unwrap().to_owned();
        let mac = first["mac-address"].as_str().unwrap().to_owned();

        let by_addr = h
            .ok(
                "ip.list_arp",
                json!({"device_id": "r1", "address": address}),
            )
            .await;
        assert_eq!(by_addr["total"], 1);
        assert_eq!(by_addr["items"][0]["mac-address"], mac.as_str());
        let flags = h
            .ok(
                "ip.list_arp",
                json!({"device_id": "r1", "address": address, "fields": ["DHCP", "published"]}),
            )
            .await;
        assert_eq!(
            flags["items"][0],
            json!({"id": first["id"], "DHCP": true, "published": false})
        );

        let lower_dashed = mac.to_lowercase().replace(':', "-");
        let by_mac = h
            .ok(
                "ip.list_arp",
                json!({"device_id": "r1", "mac_address": lower_dashed}),
            )
            .await;
        assert_eq!(by_mac["total"], 1);
        assert_eq!(by_mac["items"][0]["address"], address.as_str());

        let on_mgmt = h
            .ok(
                "ip.list_arp",
                json!({"device_id": "r1", "interface": "ether1"}),
            )
            .await;
        assert_eq!(on_mgmt["total"], 0);
        let lan = h
            .ok(
                "ip.list_arp",
                json!({"device_id": "r1", "interface": "sfp-sfpplus2", "limit": 5}),
            )
            .await;
        assert_eq!(lan["total"], 73);
        assert_eq!(lan["returned"], 5);

        let bad = h
            .call(
                "ip.list_arp",
                json!({"device_id": "r1", "address": "10.0.1"}),
            )
            .await
            .unwrap_err();
        assert!(bad.to_string().contains("not an IPv4 address"), "{bad}");
        let bad_mac = h
            .call(
                "ip.list_arp",
                json!({"device_id": "r1", "mac_address": "zz:11"}),
            )
            .await
            .unwrap_err();
        assert!(bad_mac.to_string().contains("six hex pairs"), "{bad_mac}");
    }

    #[test]
    fn mac_addresses_in_every_usual_spelling() {
        for m in [
            "4c:5e:0c:12:34:56",
            "4C-5E-0C-12-34-56",
            " 4C:5E:0C:12:34:56 ",
        ] {
            assert_eq!(super::mac(m).unwrap(), "4C:5E:0C:12:34:56");
        }
        for m in ["4C5E.0C12.3456", "4C:5E:0C:12:34", "4C:5E:0C:12:34:5G", ""] {
            assert!(super::mac(m).is_err(), "{m}");
        }
    }
}
