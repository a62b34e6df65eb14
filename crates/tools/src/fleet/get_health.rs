//! `fleet.get_health`: is every router up, and how is it doing? Each device on the page is
//! asked for its identity and `/system/resource` (both at once; one console command over SSH);
//! those that answer show version, uptime, CPU load and memory use, the others their error.
//! `summary` counts the devices of this page, which is the whole selection unless there are more
//! than `limit`.

use domain::Environment;
use routeros::PrintQuery;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{error_value, fan_out, select};
use crate::normalize::duration_value;
use crate::paging::{DEFAULT_LIMIT, MAX_LIMIT, Page, decode_cursor, encode_cursor, scope};
use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    project: Option<String>,
    environment: Option<Environment>,
    tags: Option<Vec<String>>,
    limit: Option<u32>,
    cursor: Option<String>,
}

fn int(v: Option<&String>) -> Option<i64> {
    v.and_then(|s| s.trim_end_matches('%').parse().ok())
}

/// What a device that answered looks like.
fn healthy(resource: &routeros::Record, identity: Option<&String>) -> Map<String, Value> {
    let total = int(resource.get("total-memory"));
    let free = int(resource.get("free-memory"));
    let used = match (total, free) {
        (Some(t), Some(f)) if t > 0 => Some(((t - f) as f64 / t as f64 * 1000.0).round() / 10.0),
        _ => None,
    };
    let mut m = Map::new();
    m.insert("reachable".into(), json!(true));
    m.insert("identity".into(), json!(identity));
    m.insert("version".into(), json!(resource.get("version")));
    m.insert(
        "uptime".into(),
        resource
            .get("uptime")
            .map_or(Value::Null, |u| duration_value(u)),
    );
    m.insert(
        "cpu_load_percent".into(),
        json!(int(resource.get("cpu-load"))),
    );
    m.insert("memory_used_percent".into(), json!(used));
    m
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("fleet.get_health", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let query = scope(
        "fleet.get_health",
        &json!({"project": p.project, "environment": p.environment, "tags": p.tags}),
    );
    let offset = match &p.cursor {
        Some(c) => decode_cursor(c, &query)?,
        None => 0,
    };
    let limit = p
        .limit
        .map_or(DEFAULT_LIMIT, |l| usize::try_from(l).unwrap_or(MAX_LIMIT))
        .clamp(1, MAX_LIMIT);
    let devices = select(&ctx, p.project.as_deref(), p.environment, p.tags.as_deref()).await?;
    let total = devices.len();
    if offset > total {
        return Err(ToolError::InvalidArguments(format!(
            "cursor points past the end of the selection ({total} devices): the registry changed; start again without a cursor"
        )));
    }
    let page: Vec<_> = devices.into_iter().skip(offset).take(limit).collect();
    let end = offset + page.len();
    let outcomes = fan_out(&ctx, page, |_, client| async move {
        let [resource, identity] = client
            .print_each([
                (crate::menu("system/resource"), PrintQuery::all()),
                (crate::menu("system/identity"), PrintQuery::all()),
            ])
            .await;
        let resource = resource?.into_iter().next().unwrap_or_default();
        let identity = identity?;
        Ok(healthy(
            &resource,
            identity.first().and_then(|i| i.get("name")),
        ))
    })
    .await;
    let mut reachable = 0;
    let items: Vec<Value> = outcomes
        .into_iter()
        .map(|(d, outcome)| {
            let mut item = Map::new();
            item.insert("id".into(), json!(d.id));
            item.insert("name".into(), json!(d.name));
            match outcome {
                Ok(health) => {
                    reachable += 1;
                    item.extend(health);
                }
                Err(e) => {
                    item.insert("reachable".into(), json!(false));
                    item.insert("error".into(), error_value(&e));
                }
            }
            Value::Object(item)
        })
        .collect();
    let checked = items.len();
    let next_cursor = (end < total).then(|| encode_cursor(end, &query));
    let structured = json!({
        "summary": {"total": checked, "reachable": reachable, "unreachable": checked - reachable},
        "total": total,
        "returned": checked,
        "next_cursor": next_cursor,
        "items": items,
    });
    Ok(ToolOutput {
        structured,
        page: Some(Page {
            offset,
            total,
            scope: query,
        }),
        cache: None,
    })
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use routeros_sim::Faults;
    use routeros_sim::profiles::Profile;
    use serde_json::{Value, json};

    use crate::ToolContext;
    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hundred_devices_five_down_partial_results() {
        let h = Harness::start(&[Profile::Home; 100]).await;
        for down in ["r7", "r42", "r99"] {
            h.sim(down).reboot(Duration::from_secs(120));
        }
        for locked in ["r13", "r64"] {
            h.sim(locked).set_faults(Faults {
                reject_auth: true,
                ..Faults::default()
            });
        }
        let out = h.ok("fleet.get_health", json!({})).await;
        assert_eq!(
            out["summary"],
            json!({"total": 100, "reachable": 95, "unreachable": 5})
        );
        assert_eq!(out["total"], 100);
        assert!(out["next_cursor"].is_null());
        let items = out["items"].as_array().unwrap();
        let mut failed = Vec::new();
        for item in items {
            let name = item["name"].as_str().unwrap();
            if item["reachable"] == true {
                let i: usize = name[1..].parse().unwrap();
                assert_eq!(item["identity"], format!("sim-{i:04}"), "{item}");
                assert_eq!(item["version"], "7.19.4 (stable)");
                assert!(item["uptime"]["seconds"].is_number(), "{item}");
                assert!(item["cpu_load_percent"].is_number(), "{item}");
                let mem = item["memory_used_percent"].as_f64().unwrap();
                assert!(mem > 0.0 && mem < 100.0, "{item}");
                assert!(item.get("error").is_none());
            } else {
                let message = item["error"]["message"].as_str().unwrap();
                assert!(
                    message.starts_with(&format!("device {name}: ")),
                    "{message}"
                );
                failed.push((
                    name.to_owned(),
                    item["error"]["kind"].as_str().unwrap().to_owned(),
                ));
            }
        }
        failed.sort();
        let kinds: Vec<(&str, &str)> = failed
            .iter()
            .map(|(n, k)| {
                // A rebooting router refuses connections (or, mid-handshake, lets one time out).
                let k = if k == "timeout" { "unreachable" } else { k };
                (n.as_str(), k)
            })
            .collect();
        assert_eq!(
            kinds,
            [
                ("r13", "auth_failed"),
                ("r42", "unreachable"),
                ("r64", "auth_failed"),
                ("r7", "unreachable"),
                ("r99", "unreachable"),
            ]
        );

        // Paging walks the registry once; filters narrow by tag.
        let mut names = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..10 {
            let mut args = json!({"limit": 30, "tags": ["profile=home"]});
            if let Some(c) = &cursor {
                args["cursor"] = json!(c);
            }
            let page = h.ok("fleet.get_health", args).await;
            assert_eq!(page["summary"]["total"].as_u64(), page["returned"].as_u64());
            names.extend(
                page["items"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|i| i["name"].as_str().unwrap().to_owned()),
            );
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        let mut sorted = names.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!((names.len(), sorted.len()), (100, 100));
        let none = h
            .ok("fleet.get_health", json!({"tags": ["profile=edge"]}))
            .await;
        assert_eq!(
            none["summary"],
            json!({"total": 0, "reachable": 0, "unreachable": 0})
        );
        let bad = h
            .call("fleet.get_health", json!({"tags": ["profile"]}))
            .await
            .unwrap_err();
        assert!(bad.to_string().contains("KEY=VALUE"), "{bad}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn no_more_devices_in_flight_than_the_concurrency_bound() {
        let h = Harness::start(&[Profile::Home; 6]).await;
        for sim in h.sims.devices() {
            sim.set_faults(Faults {
                latency_ms: 250,
                ..Faults::default()
            });
        }
        // Two at a time: three waves of at least 250 ms each (one wave if unbounded).
        let ctx = Arc::new(ToolContext {
            fleet_concurrency: 2,
            ..(*h.ctx).clone()
        });
        let handler = crate::handlers()
            .into_iter()
            .find(|h| h.name == "fleet.get_health")
            .unwrap();
        let started = Instant::now();
        let out = (handler.run)(ctx, json!({}), crate::Caller::new("test"))
            .await
            .unwrap()
            .structured;
        let elapsed = started.elapsed();
        assert_eq!(out["summary"]["reachable"], 6, "{out}");
        assert!(elapsed >= Duration::from_millis(700), "{elapsed:?}");
        assert!(
            out["items"]
                .as_array()
                .unwrap()
                .iter()
                .all(|i| i["reachable"] == Value::Bool(true))
        );
    }
}
