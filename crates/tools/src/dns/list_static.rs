//! `dns.list_static`: the router's static DNS entries (`/ip/dns/static`) — local names, CNAMEs,
//! forwarders, TXT records — with their type, target and TTL.
//!
//! RouterOS leaves `type` out for plain A records; the answer always says the type, so the
//! `type` filter finds them. `ttl` is a duration here (`{"seconds": 86400, "text": "1d"}`).

use serde::Deserialize;
use serde_json::{Value, json};

use crate::normalize::duration_value;
use crate::{Ctx, MenuList, ToolError, ToolOutput, contains, window};

/// Record types RouterOS accepts (the schema lists the same).
const TYPES: &[&str] = &[
    "A", "AAAA", "CNAME", "FWD", "MX", "NS", "NXDOMAIN", "SRV", "TXT",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    name_contains: Option<String>,
    #[serde(rename = "type")]
    kind: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
    fields: Option<Vec<String>>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("dns.list_static", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let kind = p
        .kind
        .as_deref()
        .map(|k| {
            let upper = k.trim().to_ascii_uppercase();
            if TYPES.contains(&upper.as_str()) {
                Ok(upper)
            } else {
                Err(ToolError::InvalidArguments(format!(
                    "type: \"{k}\" is not a DNS record type; allowed: {}",
                    TYPES.join(", ")
                )))
            }
        })
        .transpose()?;
    let scope_args =
        json!({"device_id": p.device_id, "name_contains": p.name_contains, "type": kind});
    MenuList {
        tool: "dns.list_static",
        scope_args,
        device_id: &p.device_id,
        menu: "ip/dns/static",
        query: routeros::PrintQuery::all(),
        window: window(p.limit, p.cursor, p.fields),
    }
    .run_shaped(
        &ctx,
        |_, r, item| {
            if !item.contains_key("type") {
                item.insert("type".into(), json!("A"));
            }
            if let Some(ttl) = r.get("ttl") {
                item.insert("ttl".into(), duration_value(ttl));
            }
        },
        |i| {
            kind.as_ref()
                .is_none_or(|k| i.get("type").and_then(Value::as_str) == Some(k))
                && p.name_contains
                    .as_ref()
                    .is_none_or(|n| contains(i.get("name"), n) || contains(i.get("regexp"), n))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn static_entries_typed_and_filtered() {
        let h = Harness::start(&[Profile::Home, Profile::Edge]).await;
        let home = h.ok("dns.list_static", json!({"device_id": "r1"})).await;
        assert_eq!(home["total"], 1);
        let router = &home["items"][0];
        assert_eq!(router["name"], "router.lan");
        assert_eq!(router["address"], "192.168.88.1");
        assert_eq!(router["type"], "A", "RouterOS omits the default type");
        assert_eq!(router["ttl"], json!({"seconds": 86_400, "text": "1d"}));

        h.sim("r2").write_state(|s| {
            s.insert_raw(
                "/ip/dns/static",
                &[
                    ("name", "www.lan.example.net"),
                    ("type", "CNAME"),
                    ("cname", "srv3.lan.example.net"),
                    ("ttl", "5m"),
                ],
            )
            .unwrap()
        });
        let edge = h
            .ok("dns.list_static", json!({"device_id": "r2", "limit": 5}))
            .await;
        assert_eq!(edge["total"], 21);
        assert_eq!(edge["returned"], 5);
        let cnames = h
            .ok(
                "dns.list_static",
                json!({"device_id": "r2", "type": "CNAME"}),
            )
            .await;
        assert_eq!(cnames["total"], 1);
        assert_eq!(cnames["items"][0]["cname"], "srv3.lan.example.net");
        assert_eq!(cnames["items"][0]["ttl"]["seconds"], 300);
        let a = h
            .ok("dns.list_static", json!({"device_id": "r2", "type": "A"}))
            .await;
        assert_eq!(a["total"], 20);
        let srv1 = h
            .ok(
                "dns.list_static",
                json!({"device_id": "r2", "name_contains": "SRV1"}),
            )
            .await;
        // srv1 and srv10 … srv19.
        assert_eq!(srv1["total"], 11);
        let bad = h
            .call("dns.list_static", json!({"device_id": "r2", "type": "PTR"}))
            .await
            .unwrap_err();
        assert!(bad.to_string().contains("invalid arguments"), "{bad}");
    }
}
