//! `fleet.find_address`: where is this IPv4 or MAC address? Every selected router is asked for
//! its own addresses (`/ip/address`), its ARP table and its DHCP leases — and, for a MAC, its
//! interfaces — and each hit comes back with the device, the table, the interface and the
//! entry itself. Equality is tested on the device where RouterOS can (ARP, leases, interfaces),
//! so a 500-lease router sends only the matching lease; `/ip/address` holds `addr/len` and is
//! matched here.
//!
//! One call answers for the whole selection: `summary` counts every device searched, failed and
//! matched; the list shows the devices that could not be searched first, then those where the
//! address was found (each with its hits), cut to fit the token budget with a cursor to
//! continue (see [`super`]).

use std::collections::HashMap;
use std::net::Ipv4Addr;
use std::sync::Arc;

use domain::Environment;
use routeros::{DeviceClient, PrintQuery, Record};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{AttentionFirst, Entry, ErrorCounts, Group, Window, error_value, fan_out, select};
use crate::paging::scope;
use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    address: String,
    project: Option<String>,
    environment: Option<Environment>,
    tags: Option<Vec<String>>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// What is being looked for.
#[derive(Debug, Clone)]
enum Wanted {
    Ipv4(Ipv4Addr),
    /// In RouterOS's form, `AA:BB:CC:DD:EE:FF`.
    Mac(String),
}

impl Wanted {
    fn parse(text: &str) -> Result<Self, ToolError> {
        if let Ok(ip) = text.trim().parse::<Ipv4Addr>() {
            return Ok(Wanted::Ipv4(ip));
        }
        crate::args::parse_mac(text).map(Wanted::Mac).map_err(|_| {
            ToolError::InvalidArguments(format!(
                "address \"{text}\" is neither an IPv4 address (10.0.0.5) nor a MAC address (AA:BB:CC:DD:EE:FF)"
            ))
        })
    }

    fn text(&self) -> String {
        match self {
            Wanted::Ipv4(ip) => ip.to_string(),
            Wanted::Mac(mac) => mac.clone(),
        }
    }
}

/// One hit on one device, before the device is attached.
struct Hit {
    table: &'static str,
    interface: Option<String>,
    entry: Record,
}

fn hits(table: &'static str, records: Vec<Record>) -> impl Iterator<Item = Hit> {
    records.into_iter().map(move |r| Hit {
        table,
        interface: r.get("interface").cloned(),
        entry: r,
    })
}

/// One router's search. Its reads are made one after another, over one connection: a
/// fleet-wide call holds one socket per router (three at once per router ran a 2,000-router
/// search out of open files, as it did `fleet.get_health` at 10,000).
async fn search(client: Arc<DeviceClient>, wanted: Wanted) -> Result<Vec<Hit>, ToolError> {
    let print = |menu: &'static str, query: PrintQuery| {
        let client = Arc::clone(&client);
        async move { client.print(&crate::menu(menu), &query).await }
    };
    let mut found = Vec::new();
    let leases = match &wanted {
        Wanted::Ipv4(ip) => {
            let ip_text = ip.to_string();
            let by_ip = || PrintQuery::all().filter("address", &ip_text);
            let own = print("ip/address", PrintQuery::all()).await?;
            let arp = print("ip/arp", by_ip()).await?;
            let leases = print("ip/dhcp-server/lease", by_ip()).await?;
            let own = own.into_iter().filter(|r| {
                r.get("address")
                    .and_then(|a| a.split('/').next())
                    .is_some_and(|a| a == ip_text)
            });
            found.extend(hits("ip/address", own.collect()));
            found.extend(hits("ip/arp", arp));
            leases
        }
        Wanted::Mac(mac) => {
            let by_mac = || PrintQuery::all().filter("mac-address", mac);
            let interfaces = print("interface", by_mac()).await?;
            let arp = print("ip/arp", by_mac()).await?;
            let leases = print("ip/dhcp-server/lease", by_mac()).await?;
            found.extend(interfaces.into_iter().map(|r| Hit {
                table: "interface",
                interface: r.get("name").cloned(),
                entry: r,
            }));
            found.extend(hits("ip/arp", arp));
            leases
        }
    };
    if !leases.is_empty() {
        // A lease names its DHCP server; the server names the interface it serves.
        let servers = print("ip/dhcp-server", PrintQuery::all()).await?;
        let interface_of: HashMap<&str, &str> = servers
            .iter()
            .filter_map(|s| Some((s.get("name")?.as_str(), s.get("interface")?.as_str())))
            .collect();
        for lease in leases {
            let server = lease.get("server").or_else(|| lease.get("active-server"));
            found.push(Hit {
                table: "ip/dhcp-server/lease",
                interface: server
                    .and_then(|s| interface_of.get(s.as_str()))
                    .map(|i| (*i).to_owned()),
                entry: lease,
            });
        }
    }
    Ok(found)
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("fleet.find_address", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let wanted = Wanted::parse(&p.address)?;
    let list = AttentionFirst {
        scope: scope(
            "fleet.find_address",
            &json!({"address": wanted.text(), "project": p.project,
                    "environment": p.environment, "tags": p.tags}),
        ),
        budget: ctx.budget,
    };
    let window = Window {
        limit: p.limit,
        cursor: p.cursor,
        include_quiet: false,
    };
    // A cursor is checked before any device is contacted.
    list.answer(Map::new(), Vec::new(), &window)?;
    let devices = select(&ctx, p.project.as_deref(), p.environment, p.tags.as_deref()).await?;
    let count = devices.devices.len();
    let outcomes = fan_out(&ctx, devices, |_, client| search(client, wanted.clone())).await;
    let mut errors = ErrorCounts::default();
    let (mut matches, mut matched) = (0usize, 0usize);
    let entries: Vec<Entry> = outcomes
        .into_iter()
        .map(|(d, outcome)| {
            let mut item = Map::new();
            item.insert("id".into(), json!(d.id));
            item.insert("name".into(), json!(d.name));
            let group = match outcome {
                Ok(found) if found.is_empty() => Group::Quiet,
                Ok(found) => {
                    matches += found.len();
                    matched += 1;
                    let hits: Vec<Value> = found
                        .into_iter()
                        .map(|h| {
                            json!({
                                "table": h.table,
                                "interface": h.interface,
                                "entry": crate::normalize::record(&h.entry),
                            })
                        })
                        .collect();
                    item.insert("matches".into(), Value::Array(hits));
                    Group::Found
                }
                Err(e) => {
                    errors.add(&e);
                    item.insert("error".into(), error_value(&e));
                    Group::Attention
                }
            };
            Entry {
                group,
                device: d,
                value: Value::Object(item),
            }
        })
        .collect();
    let kind = match wanted {
        Wanted::Ipv4(_) => "ipv4",
        Wanted::Mac(_) => "mac",
    };
    let mut envelope = Map::new();
    envelope.insert("address".into(), json!(wanted.text()));
    envelope.insert("kind".into(), json!(kind));
    envelope.insert(
        "summary".into(),
        json!({
            "devices": count,
            "failed": errors.total(),
            "errors": errors.value(),
            "devices_matched": matched,
            "matches": matches,
        }),
    );
    Ok(ToolOutput::new(list.answer(envelope, entries, &window)?))
}

#[cfg(test)]
mod tests {
    use routeros_sim::Faults;
    use routeros_sim::profiles::Profile;
    use serde_json::{Value, json};

    use crate::testing::Harness;

    /// (device, table, interface) of every hit, in the answer's order.
    fn hits(answer: &Value) -> Vec<(String, String, String)> {
        answer["items"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|d| {
                d["matches"].as_array().cloned().unwrap_or_default().into_iter().map(
                    move |m| {
                        (
                            d["name"].as_str().unwrap().to_owned(),
                            m["table"].as_str().unwrap().to_owned(),
                            m["interface"].as_str().unwrap_or("-").to_owned(),
                        )
                    },
                )
            })
            .collect()
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn addresses_and_macs_across_the_fleet_with_partial_failures() {
        let h = Harness::start(&[Profile::Home, Profile::Edge, Profile::Home]).await;
        // Lease 40 of the edge router also has an ARP entry (every eighth one does).
        let (lease_ip, lease_mac) = h.sim("r2").read_state(|s| {
            s.items_of("/ip/dhcp-server/lease")
                .find(|l| l.get("host-name") == Some("host-040"))
                .map(|l| {
                    (
                        l.get("address").unwrap().to_owned(),
                        l.get("mac-address").unwrap().to_owned(),
                    )
                })
                .unwrap()
        });
        let by_mac = h
            .ok(
                "fleet.find_address",
                json!({"address": lease_mac.to_lowercase()}),
            )
            .await;
        assert_eq!(by_mac["address"], lease_mac);
        assert_eq!(
            by_mac["summary"],
            json!({"devices": 3, "failed": 0, "errors": {}, "devices_matched": 1, "matches": 2})
        );
        // Routers where nothing was found are only counted.
        assert_eq!((&by_mac["total"], &by_mac["returned"]), (&json!(1), &json!(1)));
        let r = |d: &str, t: &str, i: &str| (d.to_owned(), t.to_owned(), i.to_owned());
        assert_eq!(
            hits(&by_mac),
            [
                r("r2", "ip/arp", "sfp-sfpplus2"),
                r("r2", "ip/dhcp-server/lease", "sfp-sfpplus2")
            ]
        );
        let lease = &by_mac["items"][0]["matches"][1]["entry"];
        assert_eq!(lease["address"], lease_ip);
        assert_eq!(lease["host-name"], "host-040");
        let by_ip = h
            .ok("fleet.find_address", json!({"address": lease_ip}))
            .await;
        assert_eq!(by_ip["summary"]["matches"], 2);
        assert_eq!(by_ip["kind"], "ipv4");

        // The home routers share the default LAN address; both are found, on the bridge.
        let lan = h
            .ok("fleet.find_address", json!({"address": "192.168.88.1"}))
            .await;
        assert_eq!(
            hits(&lan),
            [
                r("r1", "ip/address", "bridge"),
                r("r3", "ip/address", "bridge")
            ]
        );
        assert_eq!(
            lan["items"][0]["matches"][0]["entry"]["address"],
            "192.168.88.1/24"
        );

        // A router's interface MAC is found in its interface table.
        let ether1_mac = h.sim("r3").read_state(|s| {
            s.items_of("/interface")
                .find(|i| i.get("name") == Some("ether1"))
                .and_then(|i| i.get("mac-address").map(str::to_owned))
                .unwrap()
        });
        let own = h
            .ok("fleet.find_address", json!({"address": ether1_mac}))
            .await;
        assert!(
            hits(&own).contains(&r("r3", "interface", "ether1")),
            "{own}"
        );

        // One router refusing logins costs only its own answer, and is listed first.
        h.sim("r3").set_faults(Faults {
            reject_auth: true,
            ..Faults::default()
        });
        let partial = h
            .ok("fleet.find_address", json!({"address": "192.168.88.1"}))
            .await;
        assert_eq!(
            partial["summary"],
            json!({"devices": 3, "failed": 1, "errors": {"auth_failed": 1},
                   "devices_matched": 1, "matches": 1})
        );
        let failed = &partial["items"][0];
        assert_eq!(failed["name"], "r3");
        assert_eq!(failed["error"]["kind"], "auth_failed");
        assert!(
            failed["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("device r3: ")
        );
        assert_eq!(partial["items"][1]["name"], "r1");
        // A credential changed in the registry takes effect on the next call (the clients a
        // fleet-wide call reuses are only reused while the registry is unchanged).
        let r1 = h.ctx.fleet.store().find_device(None, "r1").await.unwrap();
        h.ctx
            .fleet
            .store()
            .rotate_credentials(
                &r1.id,
                None,
                &vault::SecretString::from("not-the-password".to_owned()),
                h.ctx.fleet.master_key(),
                &store::AuditContext::new("test"),
            )
            .await
            .unwrap();
        let stale = h
            .ok("fleet.find_address", json!({"address": "192.168.88.1"}))
            .await;
        assert_eq!(stale["summary"]["errors"], json!({"auth_failed": 2}), "{stale}");
        let nothing = h
            .ok("fleet.find_address", json!({"address": "203.0.113.250"}))
            .await;
        assert_eq!(nothing["summary"]["matches"], 0);
        assert_eq!(nothing["summary"]["devices"], 3);
        let bad = h
            .call("fleet.find_address", json!({"address": "10.0.0.300"}))
            .await
            .unwrap_err();
        assert!(bad.to_string().contains("neither an IPv4 address"), "{bad}");
        // A cursor of another address is refused before any router is asked.
        let one = h
            .ok(
                "fleet.find_address",
                json!({"address": "192.168.88.1", "limit": 1}),
            )
            .await;
        let cursor = one["next_cursor"].as_str().unwrap();
        let other = h
            .call(
                "fleet.find_address",
                json!({"address": "192.168.88.2", "cursor": cursor}),
            )
            .await
            .unwrap_err();
        assert!(other.to_string().contains("different query"), "{other}");
        let rest = h
            .ok(
                "fleet.find_address",
                json!({"address": "192.168.88.1", "limit": 1, "cursor": cursor}),
            )
            .await;
        // Both home routers now refuse the server's login: one failed router per page.
        assert_eq!(one["items"][0]["name"], "r1");
        assert_eq!(rest["items"][0]["name"], "r3");
        assert!(rest["next_cursor"].is_null());
    }
}
