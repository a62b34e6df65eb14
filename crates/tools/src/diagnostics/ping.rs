//! `diagnostics.ping`: a bounded ping (1–10 probes) sent by the router, returned per probe
//! and summarised with RTTs in milliseconds. RouterOS only answers a REST ping with a `count`
//! (an unbounded one is cut after 60 s), so the count is always sent.

use routeros::{DeviceCommand, Record};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ms, target};
use crate::{Ctx, ToolError, ToolOutput};

const DEFAULT_COUNT: u32 = 4;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    address: String,
    count: Option<u32>,
    interface: Option<String>,
}

/// Probes and summary from RouterOS's per-probe records (each also carries running totals;
/// the summary is computed from the probes themselves so it holds for every driver).
fn shape(records: &[Record]) -> (Vec<Value>, Value) {
    let mut times = Vec::new();
    let probes: Vec<Value> = records
        .iter()
        .enumerate()
        .map(|(i, r)| {
            let time = ms(r.get("time"));
            if let Some(t) = time.as_f64() {
                times.push(t);
            }
            let int = |k: &str| r.get(k).and_then(|v| v.parse::<i64>().ok());
            let mut p = json!({
                "seq": int("seq").unwrap_or(i as i64),
                "host": r.get("host"),
                "time_ms": time,
            });
            for key in ["ttl", "size"] {
                if let Some(n) = int(key) {
                    p[key] = json!(n);
                }
            }
            if let Some(status) = r.get("status").filter(|s| !s.is_empty()) {
                p["status"] = json!(status);
            }
            p
        })
        .collect();
    let sent = probes.len();
    let received = times.len();
    let loss = if sent == 0 {
        100.0
    } else {
        ((sent - received) as f64 * 1000.0 / sent as f64).round() / 10.0
    };
    let round = |v: f64| (v * 1000.0).round() / 1000.0;
    let summary = json!({
        "sent": sent,
        "received": received,
        "loss_percent": loss,
        "min_ms": times.iter().copied().reduce(f64::min).map(round),
        "avg_ms": (received > 0).then(|| round(times.iter().sum::<f64>() / received as f64)),
        "max_ms": times.iter().copied().reduce(f64::max).map(round),
    });
    (probes, summary)
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("diagnostics.ping", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let address = target(&p.address)?;
    let count = p.count.unwrap_or(DEFAULT_COUNT);
    if !(1..=10).contains(&count) {
        return Err(ToolError::InvalidArguments(format!(
            "count {count} is out of range: 1 to 10 probes"
        )));
    }
    let (dev, client) = crate::device(&ctx, &p.device_id).await?;
    let records = client
        .run(&DeviceCommand::Ping {
            address: address.clone(),
            count,
            interface: p.interface.clone(),
        })
        .await?;
    let (probes, summary) = shape(&records);
    let mut out = crate::device_ref(&dev);
    out.insert("address".into(), json!(address));
    if let Some(i) = p.interface {
        out.insert("interface".into(), json!(i));
    }
    out.insert("summary".into(), summary);
    out.insert("probes".into(), Value::Array(probes));
    Ok(ToolOutput::new(Value::Object(out)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::testing::Harness;

    /// `routeros-fixtures/rest/doc-ping-count-4.json`: MikroTik's REST API page.
    const DOC_PING: &str = r#"[{"avg-rtt":"453us","host":"10.155.101.1","max-rtt":"453us","min-rtt":"453us","packet-loss":"0","received":"1","sent":"1","seq":"0","size":"56","time":"453us","ttl":"64"},
{"avg-rtt":"417us","host":"10.155.101.1","max-rtt":"453us","min-rtt":"382us","packet-loss":"0","received":"2","sent":"2","seq":"1","size":"56","time":"382us","ttl":"64"},
{"avg-rtt":"495us","host":"10.155.101.1","max-rtt":"650us","min-rtt":"382us","packet-loss":"0","received":"3","sent":"3","seq":"2","size":"56","time":"650us","ttl":"64"},
{"avg-rtt":"461us","host":"10.155.101.1","max-rtt":"650us","min-rtt":"359us","packet-loss":"0","received":"4","sent":"4","seq":"3","size":"56","time":"359us","ttl":"64"}]"#;

    #[test]
    fn routeros_documented_ping_summarises_like_routeros() {
        let v: serde_json::Value = serde_json::from_str(DOC_PING).unwrap();
        let records: Vec<routeros::Record> = v
            .as_array()
            .unwrap()
            .iter()
            .map(|r| routeros::types::record_from_json(r).unwrap())
            .collect();
        let (probes, summary) = super::shape(&records);
        assert_eq!(
            summary,
            json!({"sent": 4, "received": 4, "loss_percent": 0.0, "min_ms": 0.359, "avg_ms": 0.461, "max_ms": 0.65})
        );
        assert_eq!(
            probes[1],
            json!({"seq": 1, "host": "10.155.101.1", "time_ms": 0.382, "ttl": 64, "size": 56})
        );
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn reachable_and_blackholed_targets() {
        let h = Harness::start(&[Profile::Home]).await;
        // The LAN address of the router itself: answered, fast.
        let ok = h
            .ok(
                "diagnostics.ping",
                json!({"device_id": "r1", "address": "192.168.88.1", "count": 2}),
            )
            .await;
        assert_eq!(ok["summary"]["sent"], 2);
        assert_eq!(ok["summary"]["received"], 2);
        assert_eq!(ok["summary"]["loss_percent"], 0.0);
        let avg = ok["summary"]["avg_ms"].as_f64().unwrap();
        assert!(avg > 0.0 && avg < 1.0, "{ok}");
        assert_eq!(ok["probes"][0]["host"], "192.168.88.1");
        assert_eq!(ok["probes"][1]["seq"], 1);
        assert_eq!(ok["device"]["name"], "r1");

        // A blackhole route on the device drops every probe.
        h.sim("r1").write_state(|s| {
            s.insert_raw(
                "/ip/route",
                &[("dst-address", "198.51.100.0/24"), ("blackhole", "true")],
            )
            .unwrap();
        });
        let lost = h
            .ok(
                "diagnostics.ping",
                json!({"device_id": "r1", "address": "198.51.100.7", "count": 1}),
            )
            .await;
        assert_eq!(lost["summary"]["received"], 0);
        assert_eq!(lost["summary"]["loss_percent"], 100.0);
        assert!(lost["summary"]["avg_ms"].is_null());
        assert_eq!(lost["probes"][0]["status"], "timeout");
        assert!(lost["probes"][0]["time_ms"].is_null());

        let bad = h
            .call(
                "diagnostics.ping",
                json!({"device_id": "r1", "address": "1.1.1.1; /system reboot"}),
            )
            .await
            .unwrap_err();
        assert!(bad.to_string().contains("invalid arguments"), "{bad}");
        let many = h
            .call(
                "diagnostics.ping",
                json!({"device_id": "r1", "address": "1.1.1.1", "count": 11}),
            )
            .await
            .unwrap_err();
        assert!(many.to_string().contains("invalid arguments"), "{many}");

        h.sim("r1").reboot(Duration::from_secs(30));
        let down = h
            .call(
                "diagnostics.ping",
                json!({"device_id": "r1", "address": "192.168.88.1", "count": 1}),
            )
            .await
            .unwrap_err();
        assert!(down.to_string().starts_with("device r1: "), "{down}");
    }
}
