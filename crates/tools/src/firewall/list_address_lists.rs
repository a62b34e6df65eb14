//! `firewall.list_address_lists`: address-list entries, and — when no list is named — which
//! lists exist and how big they are, so a model can see the shape of a 10,000-entry blocklist
//! without paging through it.
//!
//! The `address` filter answers the question people actually ask ("is 45.1.2.3 blocked?"): an
//! IPv4 address matches entries that are that address or a network or range containing it;
//! anything else (a CIDR, a DNS name) matches entries with exactly that text.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use routeros::PrintQuery;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::redact::Scripts;

use crate::{Ctx, MenuList, ToolError, ToolOutput, contains, window};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    list: Option<String>,
    address: Option<String>,
    comment_contains: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
    fields: Option<Vec<String>>,
}

/// Whether an address-list entry (`1.2.3.4`, `1.2.3.0/24`, `1.2.3.4-1.2.3.9`, or a DNS name)
/// covers `ip`.
fn entry_contains(entry: &str, ip: Ipv4Addr) -> bool {
    let entry = entry.trim();
    if let Some((net, len)) = entry.split_once('/') {
        let (Ok(net), Ok(len)) = (net.parse::<Ipv4Addr>(), len.parse::<u32>()) else {
            return false;
        };
        if len > 32 {
            return false;
        }
        let mask = u32::MAX.checked_shl(32 - len).unwrap_or(0);
        return u32::from(net) & mask == u32::from(ip) & mask;
    }
    if let Some((from, to)) = entry.split_once('-') {
        return match (from.parse::<Ipv4Addr>(), to.parse::<Ipv4Addr>()) {
            (Ok(from), Ok(to)) => (from..=to).contains(&ip),
            _ => false,
        };
    }
    entry.parse::<Ipv4Addr>().is_ok_and(|e| e == ip)
}

fn address_matches(item: &Map<String, Value>, wanted: &str) -> bool {
    let Some(entry) = item.get("address").and_then(Value::as_str) else {
        return false;
    };
    match wanted.trim().parse::<Ipv4Addr>() {
        Ok(ip) => entry_contains(entry, ip),
        Err(_) => entry.eq_ignore_ascii_case(wanted.trim()),
    }
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("firewall.list_address_lists", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let scope_args = json!({"device_id": p.device_id, "list": p.list, "address": p.address, "comment_contains": p.comment_contains});
    let mut query = PrintQuery::all();
    if let Some(list) = &p.list {
        query = query.filter("list", list);
    }
    let fetched = MenuList {
        tool: "firewall.list_address_lists",
        scope_args,
        device_id: &p.device_id,
        menu: "ip/firewall/address-list",
        query,
        window: window(p.limit, p.cursor, p.fields),
    }
    .fetch(
        &ctx,
        |_, _, _| {},
        |i| {
            p.address.as_ref().is_none_or(|a| address_matches(i, a))
                && p.comment_contains
                    .as_ref()
                    .is_none_or(|c| contains(i.get("comment"), c))
        },
        Scripts::Withheld,
    )
    .await?;
    let mut context = Map::new();
    if p.list.is_none() {
        let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
        for i in &fetched.items {
            let name = i.get("list").and_then(Value::as_str).unwrap_or("");
            *counts.entry(name).or_default() += 1;
        }
        let lists: Vec<Value> = counts
            .into_iter()
            .map(|(name, count)| json!({"name": name, "count": count}))
            .collect();
        context.insert("lists".into(), Value::Array(lists));
    }
    fetched.page(context)
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;
    use std::net::Ipv4Addr;

    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use super::entry_contains;
    use crate::testing::Harness;

    #[test]
    fn entries_cover_addresses_as_routeros_means_them() {
        let ip: Ipv4Addr = "172.16.5.9".parse().unwrap();
        assert!(entry_contains("172.16.5.9", ip));
        assert!(entry_contains("172.16.5.0/24", ip));
        assert!(entry_contains("172.16.0.0/12", ip));
        assert!(entry_contains("0.0.0.0/0", ip));
        assert!(entry_contains("172.16.5.1-172.16.5.20", ip));
        assert!(!entry_contains("172.16.6.0/24", ip));
        assert!(!entry_contains("172.16.5.10-172.16.5.20", ip));
        assert!(!entry_contains("example.com", ip));
        assert!(!entry_contains("172.16.5.0/33", ip));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn ten_thousand_entries_page_once_with_a_summary_of_lists() {
        let h = Harness::start(&[Profile::Edge]).await;
        let first = h
            .ok(
                "firewall.list_address_lists",
                json!({"device_id": "r1", "limit": 10}),
            )
            .await;
        assert_eq!(first["total"], 11_005);
        assert_eq!(
            first["lists"],
            json!([
                {"name": "allowlist", "count": 500},
                {"name": "blocklist", "count": 10_000},
                {"name": "bogons", "count": 5},
                {"name": "customers", "count": 500},
            ])
        );

        let mut seen = HashSet::new();
        let mut cursor: Option<String> = None;
        let mut pages = 0;
        loop {
            pages += 1;
            assert!(pages <= 20, "paging must end");
            let mut args = json!({"device_id": "r1", "list": "blocklist", "limit": 1000, "fields": ["address"]});
            if let Some(c) = &cursor {
                args["cursor"] = json!(c);
            }
            let page = h.ok("firewall.list_address_lists", args).await;
            assert!(page.get("lists").is_none(), "no summary for one list");
            for e in page["items"].as_array().unwrap() {
                assert!(seen.insert(e["address"].as_str().unwrap().to_owned()));
            }
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!((seen.len(), pages), (10_000, 10));

        // Is an address in a network of some list? The allowlist has 172.16.0.0/24.
        let inside = h
            .ok(
                "firewall.list_address_lists",
                json!({"device_id": "r1", "address": "172.16.0.77"}),
            )
            .await;
        assert_eq!(inside["total"], 1, "{inside}");
        assert_eq!(inside["items"][0]["list"], "allowlist");
        assert_eq!(inside["items"][0]["address"], "172.16.0.0/24");
        assert_eq!(inside["lists"], json!([{"name": "allowlist", "count": 1}]));
        let blocked = seen.iter().next().unwrap().clone();
        let exact = h
            .ok(
                "firewall.list_address_lists",
                json!({"device_id": "r1", "address": blocked}),
            )
            .await;
        assert_eq!(exact["total"], 1);
        assert_eq!(exact["items"][0]["list"], "blocklist");
        let bogon = h
            .ok(
                "firewall.list_address_lists",
                json!({"device_id": "r1", "address": "198.18.0.0/15", "list": "bogons"}),
            )
            .await;
        assert_eq!(bogon["total"], 1);

        let customers = h
            .ok(
                "firewall.list_address_lists",
                json!({"device_id": "r1", "comment_contains": "CUST-0004"}),
            )
            .await;
        assert_eq!(customers["total"], 10, "cust-00040 … cust-00049");
        assert_eq!(
            customers["lists"],
            json!([{"name": "customers", "count": 10}])
        );
    }
}
