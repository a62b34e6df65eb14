//! `wireguard.list_peers`: WireGuard peers with what tells whether a tunnel works — endpoint,
//! allowed addresses, last handshake, traffic — and never their secrets: a peer's preshared
//! key (and, from RouterOS 7.15, its generated private key) is replaced by `"(hidden)"` (by the
//! one definition in `routeros::secret`) before anything else sees the item, so neither
//! `fields` nor a budget cut can bring it back.

use routeros::PrintQuery;
use serde::Deserialize;
use serde_json::json;

use crate::{Ctx, MenuList, ToolError, ToolOutput, window};

/// The menu this tool reads.
const MENU: &str = "interface/wireguard/peers";

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    interface: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
    fields: Option<Vec<String>>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("wireguard.list_peers", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let scope_args = json!({"device_id": p.device_id, "interface": p.interface});
    let mut query = PrintQuery::all();
    if let Some(i) = &p.interface {
        query = query.filter("interface", i);
    }
    MenuList {
        tool: "wireguard.list_peers",
        scope_args,
        device_id: &p.device_id,
        menu: MENU,
        query,
        window: window(p.limit, p.cursor, p.fields),
    }
    .run(&ctx, |_| true)
    .await
}

#[cfg(test)]
mod tests {
    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::testing::Harness;

    const PSK: &str = "c2VjcmV0LXByZXNoYXJlZC1rZXktZm9yLXRoZS10ZXM=";

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn peers_with_handshake_and_traffic_never_keys() {
        let h = Harness::start(&[Profile::Home]).await;
        let private_key = h.sim("r1").read_state(|s| {
            s.items_of("/interface/wireguard")
                .find_map(|i| i.get("private-key").map(str::to_owned))
                .unwrap()
        });
        h.sim("r1").write_state(|s| {
            s.insert_raw(
                "/interface/wireguard/peers",
                &[
                    ("name", "office"),
                    ("interface", "wg0"),
                    ("public-key", "b2ZmaWNlLXB1YmxpYy1rZXktZm9yLXRoZS10ZXN0cyE="),
                    ("preshared-key", PSK),
                    ("endpoint-address", "198.51.100.10"),
                    ("endpoint-port", "51820"),
                    ("allowed-address", "10.200.0.0/24"),
                ],
            )
            .unwrap();
            s.insert_raw(
                "/interface/wireguard/peers",
                &[
                    ("name", "tablet"),
                    ("interface", "wg0"),
                    ("public-key", "dGFibGV0LXB1YmxpYy1rZXktZm9yLXRoZS10ZXN0cyE="),
                    ("allowed-address", "10.100.0.9/32"),
                    ("persistent-keepalive", "25s"),
                ],
            )
            .unwrap();
        });
        let all = h
            .ok("wireguard.list_peers", json!({"device_id": "r1"}))
            .await;
        let text = all.to_string();
        assert!(!text.contains(PSK), "preshared key leaked: {text}");
        assert!(!text.contains(&private_key), "private key leaked");
        assert_eq!(all["total"], 4);
        let names: Vec<&str> = all["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["name"].as_str().unwrap())
            .collect();
        assert_eq!(names, ["phone", "laptop", "office", "tablet"]);
        // The profile's road warriors are connected: where from, and a recent handshake.
        let phone = &all["items"][0];
        assert_eq!(phone["interface"], "wg0");
        assert_eq!(phone["allowed-address"], "10.100.0.2/32");
        assert!(
            phone["current-endpoint-address"]
                .as_str()
                .is_some_and(|a| a.starts_with("192.0.2.")),
            "{phone}"
        );
        assert!(phone["last-handshake"]["seconds"].is_number(), "{phone}");
        let tablet = &all["items"][3];
        assert_eq!(tablet["rx"], 0, "never connected, no traffic");
        assert!(tablet.get("last-handshake").is_none(), "{tablet}");
        assert_eq!(
            tablet["persistent-keepalive"],
            json!({"seconds": 25, "text": "25s"})
        );
        let office = &all["items"][2];
        assert_eq!(office["preshared-key"], "(hidden)");
        assert_eq!(office["endpoint-address"], "198.51.100.10");
        assert_eq!(office["endpoint-port"], 51820);
        // A peer with an endpoint on a running interface handshakes and shows it as current.
        assert_eq!(office["current-endpoint-address"], "198.51.100.10");
        assert!(office["last-handshake"]["seconds"].is_number(), "{office}");
        assert!(office["rx"].as_i64().unwrap() >= 0 && office["tx"].is_i64());

        // Asking for the secret by name still gets nothing secret.
        let asked = h
            .ok(
                "wireguard.list_peers",
                json!({"device_id": "r1", "interface": "wg0", "fields": ["preshared-key", "private-key"]}),
            )
            .await;
        assert!(!asked.to_string().contains(PSK));
        assert_eq!(asked["items"][2]["preshared-key"], "(hidden)");
        let none = h
            .ok(
                "wireguard.list_peers",
                json!({"device_id": "r1", "interface": "wg9"}),
            )
            .await;
        assert_eq!(none["total"], 0);
    }
}
