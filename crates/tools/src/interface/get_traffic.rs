//! `interface.get_traffic`: the current receive and transmit rates (bits and packets per second,
//! drops, errors) of one or more interfaces — one `monitor-traffic … once` sample, so the call
//! returns at once and never streams.
//!
//! Names are checked against `/interface` first so a typo is reported by name with a pointer to
//! `interface.list`, rather than as RouterOS's "input does not match any value of interface".

use std::collections::{HashMap, HashSet};

use routeros::{DeviceCommand, DriverError, ErrorKind, PrintQuery};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::{Ctx, ToolError, ToolOutput, device, device_ref, menu};

/// The most interfaces one call samples (the schema says the same).
const MAX_INTERFACES: usize = 64;

/// Rates returned per interface, besides `name` and `running`.
const RATES: &[&str] = &[
    "rx-bits-per-second",
    "tx-bits-per-second",
    "rx-packets-per-second",
    "tx-packets-per-second",
    "rx-drops-per-second",
    "tx-drops-per-second",
    "rx-errors-per-second",
    "tx-errors-per-second",
];

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    interfaces: Vec<String>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("interface.get_traffic", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let mut seen = HashSet::new();
    let names: Vec<String> = p
        .interfaces
        .iter()
        .map(|n| n.trim().to_owned())
        .filter(|n| seen.insert(n.clone()))
        .collect();
    if names.is_empty() || names.len() > MAX_INTERFACES {
        return Err(ToolError::InvalidArguments(format!(
            "interfaces: give 1 to {MAX_INTERFACES} interface names"
        )));
    }
    if let Some(bad) = names.iter().find(|n| n.is_empty() || n.contains(',')) {
        return Err(ToolError::InvalidArguments(format!(
            "interfaces: \"{bad}\" is not an interface name (one name per array element, no commas)"
        )));
    }
    let (dev, client) = device(&ctx, &p.device_id).await?;
    let known: HashMap<String, bool> = client
        .print(
            &menu("interface"),
            &PrintQuery::all().proplist(&["name", "running"]),
        )
        .await?
        .into_iter()
        .filter_map(|r| {
            let running = r.get("running").map(String::as_str) == Some("true");
            r.get("name").map(|n| (n.clone(), running))
        })
        .collect();
    let unknown: Vec<&str> = names
        .iter()
        .filter(|n| !known.contains_key(n.as_str()))
        .map(String::as_str)
        .collect();
    if !unknown.is_empty() {
        return Err(ToolError::Device(DriverError {
            device: dev.name.to_string(),
            kind: ErrorKind::NotFound(format!(
                "no interface named {}; interface.list shows the names",
                unknown
                    .iter()
                    .map(|n| format!("\"{n}\""))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
        }));
    }
    let samples = client
        .run(&DeviceCommand::MonitorTraffic {
            interfaces: names.clone(),
        })
        .await?;
    let by_name: HashMap<&str, Map<String, Value>> = samples
        .iter()
        .filter_map(|r| {
            r.get("name")
                .map(|n| (n.as_str(), crate::normalize::record(r)))
        })
        .collect();
    let interfaces: Vec<Value> = names
        .iter()
        .map(|n| {
            let mut item = Map::new();
            item.insert("name".into(), json!(n));
            item.insert("running".into(), json!(known.get(n).copied()));
            let sample = by_name.get(n.as_str());
            for rate in RATES {
                let v = sample.and_then(|s| s.get(*rate)).cloned();
                item.insert((*rate).to_owned(), v.unwrap_or(Value::Null));
            }
            Value::Object(item)
        })
        .collect();
    let mut out = device_ref(&dev);
    out.insert("interfaces".into(), Value::Array(interfaces));
    Ok(ToolOutput::new(Value::Object(out)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_sample_per_interface_in_the_order_asked() {
        let h = Harness::start(&[Profile::Switch48]).await;
        let list = h
            .ok(
                "interface.list",
                json!({"device_id": "r1", "type": "ether", "running": false, "limit": 1}),
            )
            .await;
        let down = list["items"][0]["name"].as_str().unwrap().to_owned();
        let t = h
            .ok(
                "interface.get_traffic",
                json!({"device_id": "r1", "interfaces": ["sfp-sfpplus1", down, "sfp-sfpplus1"]}),
            )
            .await;
        let rows = t["interfaces"].as_array().unwrap();
        assert_eq!(rows.len(), 2, "duplicates are sampled once: {t}");
        assert_eq!(rows[0]["name"], "sfp-sfpplus1");
        assert_eq!(rows[0]["running"], true);
        assert!(rows[0]["rx-bits-per-second"].as_u64().unwrap() > 0, "{t}");
        assert!(rows[0]["tx-packets-per-second"].is_u64());
        assert_eq!(rows[1]["name"], down.as_str());
        assert_eq!(rows[1]["running"], false);
        assert_eq!(rows[1]["rx-bits-per-second"], 0, "no link, no traffic");

        let typo = h
            .call(
                "interface.get_traffic",
                json!({"device_id": "r1", "interfaces": ["ether1", "ether99", "wan"]}),
            )
            .await
            .unwrap_err();
        let text = typo.to_string();
        assert!(
            text.contains("no interface named \"ether99\", \"wan\"")
                && text.contains("interface.list"),
            "{text}"
        );
        let empty = h
            .call(
                "interface.get_traffic",
                json!({"device_id": "r1", "interfaces": []}),
            )
            .await
            .unwrap_err();
        assert_eq!(empty.kind(), "invalid_arguments", "{empty}");

        h.sim("r1").reboot(Duration::from_secs(30));
        let down = h
            .call(
                "interface.get_traffic",
                json!({"device_id": "r1", "interfaces": ["ether1"]}),
            )
            .await
            .unwrap_err();
        assert!(down.to_string().starts_with("device r1: "), "{down}");
    }
}
