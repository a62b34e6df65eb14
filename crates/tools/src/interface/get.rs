//! `interface.get`: one interface by name or id, in full: the general `/interface` properties
//! plus the properties of its typed menu (`/interface/ethernet`, `/interface/bridge`,
//! `/interface/vlan`, `/interface/wireguard`, …) — the VLAN id and parent, the bridge's STP and
//! VLAN filtering, the WireGuard listen port and public key. A bridge also lists its ports; a
//! bridge port names its bridge. Secrets (WireGuard private keys, PPP passwords, IPsec secrets) are
//! hidden and script bodies (VRRP hooks) withheld, by the one definition in `routeros::secret`.

use routeros::{DriverError, ErrorKind, PrintQuery, Record, RosId};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::normalize::record;
use crate::redact::{self, Scripts};
use crate::{Ctx, ToolError, ToolOutput, device, device_ref, menu};

/// The typed menu of each interface type (RouterOS `type` → menu).
const TYPED_MENUS: &[(&str, &str)] = &[
    ("ether", "interface/ethernet"),
    ("bridge", "interface/bridge"),
    ("vlan", "interface/vlan"),
    ("wg", "interface/wireguard"),
    ("bond", "interface/bonding"),
    ("eoip", "interface/eoip"),
    ("gre-tunnel", "interface/gre"),
    ("vrrp", "interface/vrrp"),
    ("pppoe-out", "interface/pppoe-client"),
    ("l2tp-out", "interface/l2tp-client"),
    ("sstp-out", "interface/sstp-client"),
    ("ovpn-out", "interface/ovpn-client"),
    ("lte", "interface/lte"),
    ("wlan", "interface/wireless"),
    ("wifi", "interface/wifi"),
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    interface: String,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("interface.get", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let wanted = p.interface.trim();
    if wanted.is_empty() {
        return Err(ToolError::InvalidArguments(
            "interface: give an interface name (ether1) or id (*1)".into(),
        ));
    }
    let (dev, client) = device(&ctx, &p.device_id).await?;
    let not_found = || {
        ToolError::Device(DriverError {
            device: dev.name.to_string(),
            kind: ErrorKind::NotFound(format!(
                "no interface \"{wanted}\"; interface.list shows the names and ids"
            )),
        })
    };
    let general: Record = if wanted.starts_with('*') {
        let id = RosId::parse(wanted).map_err(ToolError::InvalidArguments)?;
        match client.get(&menu("interface"), &id).await {
            Ok(r) => r,
            Err(e) if matches!(e.kind, ErrorKind::NotFound(_)) => return Err(not_found()),
            Err(e) => return Err(e.into()),
        }
    } else {
        client
            .print(
                &menu("interface"),
                &PrintQuery::all().filter("name", wanted),
            )
            .await?
            .into_iter()
            .next()
            .ok_or_else(not_found)?
    };
    let name = general.get("name").cloned().unwrap_or_default();
    let kind = general.get("type").cloned().unwrap_or_default();
    let typed = TYPED_MENUS
        .iter()
        .find(|(t, _)| *t == kind)
        .map(|(_, m)| *m);
    let is_bridge = kind == "bridge";
    let is_port = general.get("slave").map(String::as_str) == Some("true");
    // What depends only on the general record is read at once.
    let (typed_record, ports, membership) = futures::try_join!(
        async {
            match typed {
                Some(m) => by_name(&client, m, "name", &name)
                    .await
                    .map(|r| r.into_iter().next().map(|r| (m, r))),
                None => Ok(None),
            }
        },
        async {
            if is_bridge {
                by_name(&client, "interface/bridge/port", "bridge", &name)
                    .await
                    .map(Some)
            } else {
                Ok(None)
            }
        },
        async {
            if is_port {
                by_name(&client, "interface/bridge/port", "interface", &name)
                    .await
                    .map(Some)
            } else {
                Ok(None)
            }
        },
    )?;
    let details = typed_record.map(|(m, r)| {
        let mut d = record(&r);
        // What the general part already says is not repeated.
        d.retain(|k, _| k != "id" && !general.contains_key(k.as_str()));
        redact::item(m, &mut d, Scripts::Withheld);
        d
    });
    let mut out = device_ref(&dev);
    let mut general_item = record(&general);
    redact::item("interface", &mut general_item, Scripts::Withheld);
    out.insert("interface".into(), Value::Object(general_item));
    out.insert("details".into(), details.map_or(Value::Null, Value::Object));
    if let Some(ports) = ports {
        out.insert(
            "ports".into(),
            Value::Array(ports.iter().map(|r| port(record(r))).collect()),
        );
    }
    if let Some(bridge) = membership
        .as_ref()
        .and_then(|m| m.first())
        .and_then(|r| r.get("bridge"))
    {
        out.insert("bridge".into(), json!(bridge));
    }
    Ok(ToolOutput::new(Value::Object(out)))
}

/// Items of `menu` whose `key` equals `value`; empty when the device has no such menu (a
/// RouterOS without the package, a platform without the hardware).
async fn by_name(
    client: &routeros::DeviceClient,
    m: &str,
    key: &str,
    value: &str,
) -> Result<Vec<Record>, ToolError> {
    match client
        .print(&menu(m), &PrintQuery::all().filter(key, value))
        .await
    {
        Ok(r) => Ok(r),
        Err(e) if matches!(e.kind, ErrorKind::NotFound(_)) => Ok(Vec::new()),
        Err(e) => Err(e.into()),
    }
}

/// A bridge port as a bridge's summary shows it.
fn port(mut r: Map<String, Value>) -> Value {
    r.retain(|k, _| {
        matches!(
            k.as_str(),
            "interface" | "pvid" | "frame-types" | "status" | "disabled" | "comment"
        )
    });
    Value::Object(r)
}

#[cfg(test)]
mod tests {
    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn typed_details_by_name_or_id_secrets_hidden() {
        let h = Harness::start(&[Profile::Home, Profile::Switch48]).await;
        let wg = h
            .ok(
                "interface.get",
                json!({"device_id": "r1", "interface": "wg0"}),
            )
            .await;
        assert_eq!(wg["interface"]["type"], "wg");
        assert_eq!(wg["details"]["listen-port"], 13231);
        assert_eq!(wg["details"]["private-key"], "(hidden)");
        let public = wg["details"]["public-key"].as_str().unwrap();
        assert_eq!(public.len(), 44, "{public}");
        let private = h.sim("r1").read_state(|s| {
            s.items_of("/interface/wireguard")
                .find_map(|i| i.get("private-key").map(str::to_owned))
                .unwrap()
        });
        assert!(
            !wg.to_string().contains(&private),
            "the private key never leaves"
        );

        let bridge = h
            .ok(
                "interface.get",
                json!({"device_id": "r1", "interface": "bridge"}),
            )
            .await;
        assert_eq!(bridge["details"]["protocol-mode"], "rstp");
        assert_eq!(bridge["details"]["vlan-filtering"], false);
        assert_eq!(bridge["details"]["ageing-time"]["seconds"], 300);
        let ports: Vec<&str> = bridge["ports"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["interface"].as_str().unwrap())
            .collect();
        assert_eq!(ports, ["ether2", "ether3", "ether4", "ether5", "wifi1", "wifi2"]);

        let ether2 = h
            .ok(
                "interface.get",
                json!({"device_id": "r1", "interface": "ether2"}),
            )
            .await;
        assert_eq!(ether2["bridge"], "bridge", "a bridge port names its bridge");
        assert_eq!(ether2["details"]["auto-negotiation"], true);
        assert!(ether2["details"]["orig-mac-address"].is_string());
        let id = ether2["interface"]["id"].as_str().unwrap();
        let by_id = h
            .ok("interface.get", json!({"device_id": "r1", "interface": id}))
            .await;
        assert_eq!(by_id["interface"]["name"], "ether2");

        let vlan = h
            .ok(
                "interface.get",
                json!({"device_id": "r2", "interface": "vlan99-mgmt"}),
            )
            .await;
        assert_eq!(vlan["details"]["vlan-id"], 99);
        assert_eq!(vlan["details"]["interface"], "bridge", "the parent");
        assert!(vlan.get("ports").is_none());
        assert_eq!(vlan.get("bridge"), None);

        let missing = h
            .call(
                "interface.get",
                json!({"device_id": "r1", "interface": "ether9"}),
            )
            .await
            .unwrap_err();
        let text = missing.to_string();
        assert!(
            text.starts_with("device r1: not found: no interface \"ether9\""),
            "{text}"
        );
        assert!(text.contains("interface.list"), "{text}");
        assert_eq!(missing.kind(), "not_found");
        let missing_id = h
            .call(
                "interface.get",
                json!({"device_id": "r1", "interface": "*FFF"}),
            )
            .await
            .unwrap_err();
        assert_eq!(missing_id.kind(), "not_found", "{missing_id}");
        let bad_id = h
            .call(
                "interface.get",
                json!({"device_id": "r1", "interface": "*xyz"}),
            )
            .await
            .unwrap_err();
        assert!(
            bad_id.to_string().contains("invalid RouterOS id"),
            "{bad_id}"
        );
    }
}
