//! `fleet.get_health`: is every router up, and how is it doing? Every selected device is asked
//! for `/system/resource` and its identity (one console command over SSH; over REST one after
//! the other on one connection, so a fleet call keeps one socket per router); those
//! that answer show version, uptime, CPU load and memory use, the others their error.
//!
//! One call answers for the whole selection: `summary` counts every device (reachable,
//! unreachable by error kind, over the CPU or memory mark, healthy); the list shows the devices
//! needing attention first and the healthy ones only with `include_healthy`, cut to fit the
//! token budget with a cursor to continue (see [`super`]).

use domain::Environment;
use routeros::{DriverKind, PrintQuery};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::{AttentionFirst, Entry, ErrorCounts, Group, Window, error_value, fan_out, select};
use crate::normalize::duration_value;
use crate::paging::scope;
use crate::{Ctx, ToolError, ToolOutput};

/// CPU load (percent) from which a device needs attention.
const HIGH_CPU: f64 = 90.0;
/// Memory use (percent) from which a device needs attention.
const HIGH_MEMORY: f64 = 90.0;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    project: Option<String>,
    environment: Option<Environment>,
    tags: Option<Vec<String>>,
    #[serde(default)]
    include_healthy: bool,
    limit: Option<u32>,
    cursor: Option<String>,
}

fn int(v: Option<&String>) -> Option<i64> {
    v.and_then(|s| s.trim_end_matches('%').parse().ok())
}

/// What a device that answered looks like, and why it needs attention (if it does).
fn healthy(
    resource: &routeros::Record,
    identity: Option<&String>,
) -> (Map<String, Value>, Vec<&'static str>) {
    let total = int(resource.get("total-memory"));
    let free = int(resource.get("free-memory"));
    let used = match (total, free) {
        (Some(t), Some(f)) if t > 0 => Some(((t - f) as f64 / t as f64 * 1000.0).round() / 10.0),
        _ => None,
    };
    let cpu = int(resource.get("cpu-load"));
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
    m.insert("cpu_load_percent".into(), json!(cpu));
    m.insert("memory_used_percent".into(), json!(used));
    let mut attention = Vec::new();
    if cpu.is_some_and(|c| c as f64 >= HIGH_CPU) {
        attention.push("cpu");
    }
    if used.is_some_and(|u| u >= HIGH_MEMORY) {
        attention.push("memory");
    }
    (m, attention)
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("fleet.get_health", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let list = AttentionFirst {
        scope: scope(
            "fleet.get_health",
            &json!({"project": p.project, "environment": p.environment, "tags": p.tags,
                    "include_healthy": p.include_healthy}),
        ),
        budget: ctx.budget,
    };
    let window = Window {
        limit: p.limit,
        cursor: p.cursor,
        include_quiet: p.include_healthy,
    };
    // A cursor is checked before any device is contacted.
    list.answer(Map::new(), Vec::new(), &window)?;
    let devices = select(&ctx, p.project.as_deref(), p.environment, p.tags.as_deref()).await?;
    let total = devices.devices.len();
    let outcomes = fan_out(&ctx, devices, |_, client| async move {
        let reads = [
            (crate::menu("system/resource"), PrintQuery::all()),
            (crate::menu("system/identity"), PrintQuery::all()),
        ];
        // Over SSH both reads are one console command. Over REST they go one after the other
        // on one keep-alive connection: both at once would open a second connection to every
        // router and keep it, which at fleet scale doubles the open sockets (20,000 for 10,000
        // routers, past a common open-files limit) to save one loopback-fast round trip.
        let (resource, identity) = if client.driver_order().first() == Some(&DriverKind::Ssh) {
            let [resource, identity] = client.print_each(reads).await;
            (resource?, identity?)
        } else {
            let [(m1, q1), (m2, q2)] = &reads;
            // A router that does not answer the first read is not asked the second.
            let resource = client.print(m1, q1).await?;
            (resource, client.print(m2, q2).await?)
        };
        let resource = resource.into_iter().next().unwrap_or_default();
        Ok(healthy(
            &resource,
            identity.first().and_then(|i| i.get("name")),
        ))
    })
    .await;
    let mut errors = ErrorCounts::default();
    let (mut high_cpu, mut high_memory, mut attention) = (0u64, 0u64, 0u64);
    let entries: Vec<Entry> = outcomes
        .into_iter()
        .map(|(d, outcome)| {
            let mut item = Map::new();
            item.insert("id".into(), json!(d.id));
            item.insert("name".into(), json!(d.name));
            let group = match outcome {
                Ok((health, reasons)) => {
                    item.extend(health);
                    high_cpu += u64::from(reasons.contains(&"cpu"));
                    high_memory += u64::from(reasons.contains(&"memory"));
                    if reasons.is_empty() {
                        Group::Quiet
                    } else {
                        item.insert("attention".into(), json!(reasons));
                        Group::Attention
                    }
                }
                Err(e) => {
                    errors.add(&e);
                    item.insert("reachable".into(), json!(false));
                    item.insert("attention".into(), json!(["unreachable"]));
                    item.insert("error".into(), error_value(&e));
                    Group::Attention
                }
            };
            attention += u64::from(group == Group::Attention);
            Entry {
                group,
                device: d,
                value: Value::Object(item),
            }
        })
        .collect();
    let unreachable = errors.total();
    let mut envelope = Map::new();
    envelope.insert(
        "summary".into(),
        json!({
            "total": total,
            "reachable": total as u64 - unreachable,
            "unreachable": unreachable,
            "errors": errors.value(),
            "high_cpu": high_cpu,
            "high_memory": high_memory,
            "attention": attention,
            "healthy": total as u64 - attention,
        }),
    );
    let structured = list.answer(envelope, entries, &window)?;
    Ok(ToolOutput::new(structured))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::time::{Duration, Instant};

    use routeros_sim::Faults;
    use routeros_sim::model::menu;
    use routeros_sim::profiles::Profile;
    use serde_json::{Value, json};

    use crate::ToolContext;
    use crate::testing::{Harness, Options};

    fn names(page: &Value) -> Vec<String> {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["name"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Makes a router report nearly all of its memory in use.
    fn fill_memory(h: &Harness, name: &str) {
        h.sim(name).write_state(|s| {
            s.set_raw(menu("/system/resource").unwrap(), None, "total-memory", "1024")
                .unwrap();
        });
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_hundred_devices_those_needing_attention_first_and_the_summary_over_all() {
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
        fill_memory(&h, "r50");
        let out = h.ok("fleet.get_health", json!({})).await;
        let summary = &out["summary"];
        assert_eq!(
            (
                &summary["total"],
                &summary["reachable"],
                &summary["unreachable"],
                &summary["high_memory"],
                &summary["attention"],
                &summary["healthy"]
            ),
            (
                &json!(100),
                &json!(95),
                &json!(5),
                &json!(1),
                &json!(6),
                &json!(94)
            ),
            "{out}"
        );
        assert_eq!(summary["errors"]["auth_failed"], 2, "{out}");
        // A rebooting router refuses connections (or, mid-handshake, lets one time out).
        let down = summary["errors"]["unreachable"].as_u64().unwrap_or(0)
            + summary["errors"]["timeout"].as_u64().unwrap_or(0);
        assert_eq!(down, 3, "{out}");
        // Only the six needing attention are listed, in registry order; the rest are counted.
        assert_eq!(names(&out), ["r13", "r42", "r50", "r64", "r7", "r99"]);
        assert_eq!((&out["total"], &out["returned"]), (&json!(6), &json!(6)));
        assert!(out["next_cursor"].is_null());
        for item in out["items"].as_array().unwrap() {
            let name = item["name"].as_str().unwrap();
            if name == "r50" {
                assert_eq!(item["reachable"], true);
                assert_eq!(item["attention"], json!(["memory"]));
                assert!(item["memory_used_percent"].as_f64().unwrap() >= 90.0, "{item}");
                assert_eq!(item["identity"], "sim-0050");
                assert!(item["uptime"]["seconds"].is_number(), "{item}");
            } else {
                assert_eq!(item["reachable"], false);
                assert_eq!(item["attention"], json!(["unreachable"]));
                let message = item["error"]["message"].as_str().unwrap();
                assert!(message.starts_with(&format!("device {name}: ")), "{message}");
            }
        }

        // Everything, a page at a time: the attention ones first, each device exactly once,
        // the same whole-fleet summary on every page.
        let mut seen = Vec::new();
        let mut cursor: Option<String> = None;
        for _ in 0..10 {
            let mut args = json!({"limit": 30, "include_healthy": true});
            if let Some(c) = &cursor {
                args["cursor"] = json!(c);
            }
            let page = h.ok("fleet.get_health", args).await;
            assert_eq!(page["summary"]["total"], 100);
            assert_eq!(page["total"], 100);
            seen.extend(names(&page));
            match page["next_cursor"].as_str() {
                Some(c) => cursor = Some(c.to_owned()),
                None => break,
            }
        }
        assert_eq!(seen[..6], ["r13", "r42", "r50", "r64", "r7", "r99"]);
        let healthy = &seen[6..];
        assert!(healthy.windows(2).all(|w| w[0] < w[1]), "{healthy:?}");
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!((seen.len(), sorted.len()), (100, 100));
        let healthy_item = h
            .ok("fleet.get_health", json!({"include_healthy": true, "limit": 7}))
            .await["items"][6]
            .clone();
        assert_eq!(healthy_item["name"], "r1");
        assert_eq!(healthy_item["version"], "7.19.4 (stable)");
        assert!(healthy_item["cpu_load_percent"].is_number(), "{healthy_item}");
        assert!(healthy_item.get("attention").is_none(), "{healthy_item}");

        // A device that needs attention after the first page is not shown a second time.
        let first = h
            .ok("fleet.get_health", json!({"include_healthy": true, "limit": 10}))
            .await;
        assert_eq!(names(&first)[6..], ["r1", "r10", "r100", "r11"]);
        fill_memory(&h, "r10");
        let second = h
            .ok(
                "fleet.get_health",
                json!({"include_healthy": true, "limit": 10, "cursor": first["next_cursor"]}),
            )
            .await;
        assert_eq!(names(&second)[0], "r12", "{second}");
        assert_eq!(second["summary"]["attention"], 7);

        // Filters narrow by tag; a cursor only serves the query it came from.
        let none = h
            .ok("fleet.get_health", json!({"tags": ["profile=edge"]}))
            .await;
        assert_eq!(
            (&none["summary"]["total"], &none["total"]),
            (&json!(0), &json!(0))
        );
        let bad = h
            .call("fleet.get_health", json!({"tags": ["profile"]}))
            .await
            .unwrap_err();
        assert!(bad.to_string().contains("KEY=VALUE"), "{bad}");
        let foreign = h
            .call(
                "fleet.get_health",
                json!({"cursor": first["next_cursor"], "tags": ["profile=home"]}),
            )
            .await
            .unwrap_err();
        assert!(foreign.to_string().contains("different query"), "{foreign}");
        let forged = h
            .call("fleet.get_health", json!({"cursor": "eyJhZnRlciI6MX0"}))
            .await
            .unwrap_err();
        assert!(
            forged.to_string().contains("not one this server issued"),
            "{forged}"
        );
    }

    /// Thousands of routers, a few of them down: one call, the few listed first, every device
    /// counted, the answer within the warning threshold. `fleet.find_address` over the same
    /// fleet likewise.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn two_thousand_routers_a_few_down_answered_in_one_call() {
        const N: usize = 2_000;
        let set_up = Instant::now();
        let h = Harness::start_with(
            &[Profile::Home; N],
            Options {
                register_only: true,
                ..Options::default()
            },
        )
        .await;
        let ctx = Arc::new(ToolContext {
            fleet_concurrency: 64,
            ..(*h.ctx).clone()
        });
        let call = |tool: &'static str, args: Value| {
            let ctx = Arc::clone(&ctx);
            let catalog = &h.catalog;
            async move {
                catalog.validate_input(tool, &args).unwrap();
                let handler = crate::handlers()
                    .into_iter()
                    .find(|h| h.name == tool)
                    .unwrap();
                let out = (handler.run)(ctx, args, crate::Caller::new("test"))
                    .await
                    .unwrap();
                catalog.validate_output(tool, &out.structured).unwrap();
                let tokens = crate::budget::estimate_tokens(&out.structured);
                (out.structured, tokens)
            }
        };
        let down = ["r17", "r404", "r1001", "r1999"];
        for name in down {
            h.sim(name).reboot(Duration::from_secs(300));
        }
        h.sim("r777").set_faults(Faults {
            reject_auth: true,
            ..Faults::default()
        });

        let started = Instant::now();
        let (out, tokens) = call("fleet.get_health", json!({})).await;
        let elapsed = started.elapsed();
        assert_eq!(out["summary"]["total"], N);
        assert_eq!(out["summary"]["reachable"], N - 5);
        assert_eq!(out["summary"]["unreachable"], 5);
        assert_eq!(out["summary"]["attention"], 5);
        assert_eq!(out["summary"]["healthy"], N - 5);
        assert_eq!(out["summary"]["errors"]["auth_failed"], 1, "{out}");
        assert_eq!(
            names(&out),
            ["r1001", "r17", "r1999", "r404", "r777"],
            "{out}"
        );
        assert!(out["next_cursor"].is_null());
        assert!(tokens <= 5_000, "{tokens} tokens");
        eprintln!(
            "{N} routers started and registered in {:?}; fleet.get_health over them: {elapsed:?}, {tokens} tokens",
            set_up.elapsed() - elapsed
        );

        // Asking for the healthy ones too: the few still first, the rest cut to the budget.
        let (all, tokens) = call("fleet.get_health", json!({"include_healthy": true})).await;
        assert!(tokens <= 5_000, "{tokens} tokens");
        let listed = names(&all);
        assert_eq!(listed[..5], ["r1001", "r17", "r1999", "r404", "r777"]);
        assert!(listed.len() > 10 && listed.len() < N, "{}", listed.len());
        assert_eq!(all["total"], N);
        assert!(all["next_cursor"].is_string());
        assert!(all["note"].as_str().unwrap().contains("next_cursor"));

        // Every home router has the default LAN address.
        let (found, tokens) = call("fleet.find_address", json!({"address": "192.168.88.1"})).await;
        assert!(tokens <= 5_000, "{tokens} tokens");
        assert_eq!(
            found["summary"],
            json!({"devices": N, "failed": 5, "errors": found["summary"]["errors"],
                   "devices_matched": N - 5, "matches": N - 5})
        );
        assert_eq!(names(&found)[..5], ["r1001", "r17", "r1999", "r404", "r777"]);
        assert!(found["items"][0]["error"]["kind"].is_string());
        assert_eq!(found["items"][5]["matches"][0]["table"], "ip/address");
        // The rest continues from the last router shown (paging itself: the 100-router test).
        assert_eq!(found["total"], N);
        assert!(found["next_cursor"].is_string());
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
        let out = (handler.run)(
            ctx,
            json!({"include_healthy": true}),
            crate::Caller::new("test"),
        )
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
