//! `system.get_overview`: identity, RouterOS version, board, uptime, CPU, memory and storage of
//! one device in a single call.

use routeros::{ErrorKind, PrintQuery};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::normalize::duration_value;
use crate::{Ctx, ToolError, ToolOutput, device, device_ref, menu};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
}

fn num(v: Option<&String>) -> Value {
    v.and_then(|s| s.trim_end_matches('%').parse::<i64>().ok())
        .map_or(Value::Null, Value::from)
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("system.get_overview", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let (dev, client) = device(&ctx, &p.device_id).await?;
    // Independent reads, made at once (one console command over SSH).
    let [resource, identity, routerboard] = client
        .print_each([
            (menu("system/resource"), PrintQuery::all()),
            (menu("system/identity"), PrintQuery::all()),
            (menu("system/routerboard"), PrintQuery::all()),
        ])
        .await;
    let (resource, identity) = (resource?, identity?);
    // Not every platform has a RouterBOARD menu (CHR, x86).
    let routerboard = match routerboard {
        Ok(r) => r.into_iter().next(),
        Err(e) if matches!(e.kind, ErrorKind::NotFound(_)) => None,
        Err(e) => return Err(e.into()),
    };
    let r = resource.into_iter().next().unwrap_or_default();
    let get = |k: &str| r.get(k);
    let total = get("total-memory").and_then(|v| v.parse::<f64>().ok());
    let free = get("free-memory").and_then(|v| v.parse::<f64>().ok());
    let used_percent = match (total, free) {
        (Some(t), Some(f)) if t > 0.0 => json!(((t - f) / t * 1000.0).round() / 10.0),
        _ => Value::Null,
    };
    let mut out = device_ref(&dev);
    out.insert(
        "identity".into(),
        json!(identity.first().and_then(|i| i.get("name"))),
    );
    out.insert("version".into(), json!(get("version")));
    out.insert("board".into(), json!(get("board-name")));
    out.insert("architecture".into(), json!(get("architecture-name")));
    out.insert("platform".into(), json!(get("platform")));
    out.insert(
        "uptime".into(),
        get("uptime").map_or(Value::Null, |u| duration_value(u)),
    );
    out.insert(
        "cpu".into(),
        json!({
            "model": get("cpu"),
            "count": num(get("cpu-count")),
            "frequency_mhz": num(get("cpu-frequency")),
            "load_percent": num(get("cpu-load")),
        }),
    );
    out.insert(
        "memory".into(),
        json!({ "total_bytes": num(get("total-memory")), "free_bytes": num(get("free-memory")), "used_percent": used_percent }),
    );
    out.insert(
        "storage".into(),
        json!({ "total_bytes": num(get("total-hdd-space")), "free_bytes": num(get("free-hdd-space")) }),
    );
    out.insert(
        "routerboard".into(),
        routerboard.map_or(Value::Null, |rb| {
            json!({
                "model": rb.get("model"),
                "serial_number": rb.get("serial-number"),
                "firmware": rb.get("current-firmware"),
                "upgrade_firmware": rb.get("upgrade-firmware"),
            })
        }),
    );
    Ok(ToolOutput::new(Value::Object(out)))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn typed_overview_and_a_clear_error_when_the_device_is_down() {
        let h = Harness::start(&[Profile::Home]).await;
        let o = h
            .ok("system.get_overview", json!({"device_id": "r1"}))
            .await;
        assert!(o["version"].as_str().unwrap().starts_with("7."));
        assert!(o["uptime"]["seconds"].is_number(), "{o}");
        assert!(o["memory"]["total_bytes"].as_i64().unwrap() > 0);
        assert!(o["memory"]["used_percent"].as_f64().unwrap() >= 0.0);
        assert!(o["cpu"]["load_percent"].is_number());
        assert_eq!(o["device"]["name"], "r1");
        h.sim("r1").reboot(Duration::from_secs(30));
        let e = h
            .call("system.get_overview", json!({"device_id": "r1"}))
            .await
            .unwrap_err();
        let text = e.to_string();
        assert!(text.starts_with("device r1: "), "{text}");
        assert!(matches!(e.kind(), "unreachable" | "timeout"), "{text}");
    }
}
