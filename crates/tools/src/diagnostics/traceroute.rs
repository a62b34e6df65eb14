//! `diagnostics.traceroute`: the path from the router to an address, hop by hop, with loss and
//! RTTs in milliseconds. RouterOS answers with one section of hop records per round
//! (`.section` "0", "1", …), each carrying running statistics; the last round holds the result.

use routeros::{DeviceCommand, Record};
use serde::Deserialize;
use serde_json::{Value, json};

use super::{ms, percent, target};
use crate::{Ctx, ToolError, ToolOutput};

const DEFAULT_COUNT: u32 = 1;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    address: String,
    count: Option<u32>,
}

/// The hops of the last round (records without `.section` form one round).
fn hops(records: &[Record]) -> Vec<Value> {
    let section = |r: &Record| {
        r.get(".section")
            .and_then(|s| s.parse::<u64>().ok())
            .unwrap_or(0)
    };
    let last = records.iter().map(section).max().unwrap_or(0);
    records
        .iter()
        .filter(|r| section(r) == last)
        .enumerate()
        .map(|(i, r)| {
            let mut hop = json!({
                "hop": i + 1,
                "address": r.get("address").filter(|a| !a.is_empty()),
                "loss_percent": percent(r.get("loss")),
                "sent": r.get("sent").and_then(|s| s.parse::<i64>().ok()),
                "last_ms": ms(r.get("last")),
                "avg_ms": ms(r.get("avg")),
                "best_ms": ms(r.get("best")),
                "worst_ms": ms(r.get("worst")),
            });
            if let Some(status) = r.get("status").filter(|s| !s.is_empty()) {
                hop["status"] = json!(status);
            }
            hop
        })
        .collect()
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("diagnostics.traceroute", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let address = target(&p.address)?;
    let count = p.count.unwrap_or(DEFAULT_COUNT);
    if !(1..=3).contains(&count) {
        return Err(ToolError::InvalidArguments(format!(
            "count {count} is out of range: 1 to 3 probes per hop"
        )));
    }
    let (dev, client) = crate::device(&ctx, &p.device_id).await?;
    let records = client
        .run(&DeviceCommand::Traceroute {
            address: address.clone(),
            count,
        })
        .await?;
    let mut out = crate::device_ref(&dev);
    out.insert("address".into(), json!(address));
    out.insert("hops".into(), Value::Array(hops(&records)));
    Ok(ToolOutput::new(Value::Object(out)))
}

#[cfg(test)]
mod tests {
    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::testing::Harness;

    #[test]
    fn the_last_round_holds_the_result() {
        let rec = |section: &str, address: &str, sent: &str, avg: &str| {
            routeros::Record::from([
                (".section".to_owned(), section.to_owned()),
                ("address".to_owned(), address.to_owned()),
                ("loss".to_owned(), "0".to_owned()),
                ("sent".to_owned(), sent.to_owned()),
                ("avg".to_owned(), avg.to_owned()),
            ])
        };
        let records = vec![
            rec("0", "10.0.0.1", "1", "0.3ms"),
            rec("0", "9.9.9.9", "1", "12.1ms"),
            rec("1", "10.0.0.1", "2", "0.4ms"),
            rec("1", "9.9.9.9", "2", "12.5ms"),
        ];
        let hops = super::hops(&records);
        assert_eq!(hops.len(), 2);
        assert_eq!(hops[1]["hop"], 2);
        assert_eq!(hops[1]["sent"], 2);
        assert_eq!(hops[1]["avg_ms"], 12.5);
        assert_eq!(hops[0]["loss_percent"], 0.0);
        assert!(hops[0]["best_ms"].is_null());
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn hops_to_the_internet_and_into_a_blackhole() {
        let h = Harness::start(&[Profile::Home]).await;
        let gateway = h.sim("r1").read_state(|s| {
            s.items_of("/ip/route")
                .find(|r| r.get("dst-address") == Some("0.0.0.0/0"))
                .and_then(|r| r.get("gateway").map(str::to_owned))
                .unwrap()
        });
        let t = h
            .ok(
                "diagnostics.traceroute",
                json!({"device_id": "r1", "address": "9.9.9.9", "count": 2}),
            )
            .await;
        let hops = t["hops"].as_array().unwrap();
        assert!(hops.len() >= 3, "{t}");
        assert_eq!(
            hops[0]["address"],
            json!(gateway),
            "the default gateway first"
        );
        assert_eq!(hops.last().unwrap()["address"], "9.9.9.9");
        for (i, hop) in hops.iter().enumerate() {
            assert_eq!(hop["hop"], i + 1);
            assert_eq!(hop["sent"], 2, "the last of two rounds");
            assert_eq!(hop["loss_percent"], 0.0);
            assert!(hop["avg_ms"].as_f64().unwrap() > 0.0, "{hop}");
        }

        h.sim("r1").write_state(|s| {
            s.insert_raw(
                "/ip/route",
                &[("dst-address", "198.51.100.0/24"), ("blackhole", "true")],
            )
            .unwrap();
        });
        let dark = h
            .ok(
                "diagnostics.traceroute",
                json!({"device_id": "r1", "address": "198.51.100.7"}),
            )
            .await;
        for hop in dark["hops"].as_array().unwrap() {
            assert!(hop["address"].is_null(), "{hop}");
            assert_eq!(hop["loss_percent"], 100.0);
            assert_eq!(hop["status"], "timeout");
        }
    }
}
