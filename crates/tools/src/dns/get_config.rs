//! `dns.get_config`: the router's resolver settings (`/ip/dns`) — configured and dynamic
//! (DHCP/PPP-learned) upstream servers, whether it answers clients (`allow-remote-requests`),
//! DNS-over-HTTPS, timeouts, and how full the cache is.
//!
//! RouterOS gives cache sizes in KiB (`cache-size: 2048` is 2 MiB; the console prints
//! `2048KiB`); both spellings are read, and the answer says `_kib`.

use routeros::PrintQuery;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::normalize::duration_value;
use crate::{Ctx, ToolError, ToolOutput, device, device_ref, menu};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
}

/// `2048`, `2048KiB` → 2048 (a bare number is KiB in this menu).
fn kib(v: Option<&str>) -> Option<u64> {
    routeros::value::parse_size(v?, 1024).ok().map(|b| b / 1024)
}

fn list(v: Option<&str>) -> Vec<&str> {
    v.unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("dns.get_config", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let (dev, client) = device(&ctx, &p.device_id).await?;
    let dns = client
        .print(&menu("ip/dns"), &PrintQuery::all())
        .await?
        .into_iter()
        .next()
        .unwrap_or_default();
    let get = |k: &str| dns.get(k).map(String::as_str);
    let flag = |k: &str| {
        get(k)
            .and_then(|v| routeros::value::parse_bool(v).ok())
            .map_or(Value::Null, Value::Bool)
    };
    let number = |k: &str| get(k).and_then(|v| v.parse::<u64>().ok());
    let duration = |k: &str| get(k).map_or(Value::Null, duration_value);
    let (size, used) = (kib(get("cache-size")), kib(get("cache-used")));
    let used_percent = match (size, used) {
        (Some(s), Some(u)) if s > 0 => json!((u as f64 / s as f64 * 1000.0).round() / 10.0),
        _ => Value::Null,
    };
    let mut out = device_ref(&dev);
    out.insert("servers".into(), json!(list(get("servers"))));
    out.insert(
        "dynamic_servers".into(),
        json!(list(get("dynamic-servers"))),
    );
    out.insert(
        "allow_remote_requests".into(),
        flag("allow-remote-requests"),
    );
    out.insert(
        "use_doh_server".into(),
        json!(get("use-doh-server").filter(|s| !s.is_empty())),
    );
    out.insert("verify_doh_cert".into(), flag("verify-doh-cert"));
    out.insert("cache_size_kib".into(), json!(size));
    out.insert("cache_used_kib".into(), json!(used));
    out.insert("cache_used_percent".into(), used_percent);
    out.insert("cache_max_ttl".into(), duration("cache-max-ttl"));
    out.insert(
        "max_udp_packet_size".into(),
        json!(number("max-udp-packet-size")),
    );
    out.insert(
        "query_server_timeout".into(),
        duration("query-server-timeout"),
    );
    out.insert(
        "query_total_timeout".into(),
        duration("query-total-timeout"),
    );
    out.insert(
        "max_concurrent_queries".into(),
        json!(number("max-concurrent-queries")),
    );
    Ok(ToolOutput::new(Value::Object(out)))
}

#[cfg(test)]
mod tests {
    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn resolver_settings_typed() {
        let h = Harness::start(&[Profile::Home, Profile::Switch48, Profile::Edge]).await;
        let home = h.ok("dns.get_config", json!({"device_id": "r1"})).await;
        assert_eq!(home["servers"], json!(["1.1.1.1", "9.9.9.9"]));
        assert_eq!(home["dynamic_servers"], json!([]));
        assert_eq!(home["allow_remote_requests"], true);
        assert_eq!(home["cache_size_kib"], 2048);
        let used = home["cache_used_kib"].as_u64().unwrap();
        assert!(used > 0 && used < 2048, "{used}");
        assert!(home["cache_used_percent"].as_f64().unwrap() > 0.0);
        assert_eq!(
            home["cache_max_ttl"],
            json!({"seconds": 604_800, "text": "1w"})
        );
        assert_eq!(home["query_server_timeout"]["seconds"], 2);
        assert_eq!(home["use_doh_server"], serde_json::Value::Null);

        let switch = h.ok("dns.get_config", json!({"device_id": "r2"})).await;
        assert_eq!(switch["servers"], json!(["10.99.0.1"]));
        assert_eq!(switch["allow_remote_requests"], false, "RouterOS's default");

        let edge = h.ok("dns.get_config", json!({"device_id": "r3"})).await;
        assert_eq!(edge["cache_size_kib"], 8192);
    }

    #[test]
    fn cache_sizes_in_either_spelling() {
        assert_eq!(super::kib(Some("2048KiB")), Some(2048));
        assert_eq!(super::kib(Some("2048")), Some(2048));
        assert_eq!(super::kib(Some("")), None);
        assert_eq!(
            super::list(Some("1.1.1.1, 9.9.9.9")),
            ["1.1.1.1", "9.9.9.9"]
        );
    }
}
