//! `system.get_clock`: the router's date, time and time zone (`/system/clock`) with the state of
//! its NTP client (`/system/ntp/client`), so a model can tell whether log timestamps and
//! certificates can be trusted before reasoning about them.
//!
//! Dates come back as ISO `YYYY-MM-DD` whatever the RouterOS version printed (`jul/30/2025` up to
//! 7.9, ISO from 7.10), and `datetime` joins date, time and GMT offset into one RFC 3339 value.
//! The NTP part reads RouterOS 7 (`servers`, `synced-server`) and RouterOS 6 (`primary-ntp`,
//! `secondary-ntp`, `server-dns-names`, `last-update-from`) into the same fields; a device
//! without the NTP client menu gets `ntp: null`.

use routeros::{ErrorKind, PrintQuery, Record};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Ctx, ToolError, ToolOutput, device, device_ref, menu};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("system.get_clock", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let (dev, client) = device(&ctx, &p.device_id).await?;
    let [clock, ntp_client] = client
        .print_each([
            (menu("system/clock"), PrintQuery::all()),
            (menu("system/ntp/client"), PrintQuery::all()),
        ])
        .await;
    let clock = clock?.into_iter().next().unwrap_or_default();
    let ntp = match ntp_client {
        Ok(r) => r.into_iter().next().map_or(Value::Null, |r| ntp(&r)),
        Err(e) if matches!(e.kind, ErrorKind::NotFound(_)) => Value::Null,
        Err(e) => return Err(e.into()),
    };
    let get = |k: &str| clock.get(k).map(String::as_str);
    let date = get("date").map(iso_date);
    let time = get("time");
    let offset = get("gmt-offset");
    let datetime = match (&date, time, offset) {
        (Some(d), Some(t), Some(o)) if is_iso_date(d) && is_clock(t) && is_offset(o) => {
            json!(format!("{d}T{t}{o}"))
        }
        _ => Value::Null,
    };
    let mut out = device_ref(&dev);
    out.insert("date".into(), json!(date));
    out.insert("time".into(), json!(time));
    out.insert("datetime".into(), datetime);
    out.insert("time_zone".into(), json!(get("time-zone-name")));
    out.insert(
        "time_zone_autodetect".into(),
        boolean(get("time-zone-autodetect")),
    );
    out.insert("gmt_offset".into(), json!(offset));
    out.insert("dst_active".into(), boolean(get("dst-active")));
    out.insert("ntp".into(), ntp);
    Ok(ToolOutput::new(Value::Object(out)))
}

fn boolean(v: Option<&str>) -> Value {
    v.and_then(|v| routeros::value::parse_bool(v).ok())
        .map_or(Value::Null, Value::Bool)
}

/// The NTP client, RouterOS 7 or 6.
fn ntp(r: &Record) -> Value {
    let get = |k: &str| r.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let servers: Vec<&str> = match get("servers") {
        Some(list) => list.split(',').map(str::trim).collect(),
        None => ["primary-ntp", "secondary-ntp", "server-dns-names"]
            .iter()
            .filter_map(|k| get(k))
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|s| !s.is_empty() && *s != "0.0.0.0")
            .collect(),
    };
    json!({
        "enabled": boolean(get("enabled")),
        "mode": get("mode"),
        "servers": servers,
        "status": get("status"),
        "synced_server": get("synced-server").or_else(|| get("last-update-from")),
        "synced_stratum": get("synced-stratum").and_then(|s| s.parse::<i64>().ok()),
    })
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];

/// `jul/30/2025` (RouterOS up to 7.9) → `2025-07-30`; ISO dates and anything unknown unchanged.
fn iso_date(d: &str) -> String {
    let parts: Vec<&str> = d.split('/').collect();
    if let [mon, day, year] = parts.as_slice()
        && let Some(m) = MONTHS.iter().position(|x| x.eq_ignore_ascii_case(mon))
        && let (Ok(day), Ok(year)) = (day.parse::<u32>(), year.parse::<u32>())
    {
        return format!("{year:04}-{:02}-{day:02}", m + 1);
    }
    d.to_owned()
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && s.bytes().all(|b| b.is_ascii_digit())
}

fn is_iso_date(d: &str) -> bool {
    let p: Vec<&str> = d.split('-').collect();
    matches!(p.as_slice(), [y, m, dd] if digits(y, 4) && digits(m, 2) && digits(dd, 2))
}

fn is_clock(t: &str) -> bool {
    let p: Vec<&str> = t.split(':').collect();
    matches!(p.as_slice(), [h, m, s] if digits(h, 2) && digits(m, 2) && digits(s, 2))
}

fn is_offset(o: &str) -> bool {
    let Some(rest) = o.strip_prefix('+').or_else(|| o.strip_prefix('-')) else {
        return false;
    };
    matches!(rest.split_once(':'), Some((h, m)) if digits(h, 2) && digits(m, 2))
}

#[cfg(test)]
mod tests {
    use routeros::Record;
    use routeros_sim::Faults;
    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_simulated_wall_clock_and_ntp_client() {
        let h = Harness::start(&[Profile::Home]).await;
        h.sim("r1")
            .clock()
            .set_now("2025-03-24T14:13:48Z".parse().unwrap());
        let c = h.ok("system.get_clock", json!({"device_id": "r1"})).await;
        assert_eq!(c["date"], "2025-03-24", "{c}");
        assert!(c["time"].as_str().unwrap().starts_with("14:1"), "{c}");
        let datetime = c["datetime"].as_str().unwrap();
        assert!(datetime.starts_with("2025-03-24T14:1"), "{datetime}");
        assert!(datetime.ends_with("+00:00"), "{datetime}");
        assert_eq!(c["gmt_offset"], "+00:00");
        assert_eq!(c["dst_active"], false);
        assert_eq!(c["time_zone_autodetect"], true);
        assert_eq!(c["ntp"]["enabled"], true);
        assert_eq!(c["ntp"]["servers"], json!(["pool.ntp.org"]));
        assert_eq!(c["ntp"]["mode"], "unicast");

        h.sim("r1").set_faults(Faults {
            reject_auth: true,
            ..Faults::default()
        });
        let e = h
            .call("system.get_clock", json!({"device_id": "r1"}))
            .await
            .unwrap_err();
        assert!(e.to_string().starts_with("device r1: "), "{e}");
        assert_eq!(e.kind(), "auth_failed");
    }

    #[test]
    fn routeros_6_dates_and_ntp_fields() {
        assert_eq!(super::iso_date("jul/30/2025"), "2025-07-30");
        assert_eq!(super::iso_date("Jan/02/1970"), "1970-01-02");
        assert_eq!(super::iso_date("2025-03-24"), "2025-03-24");
        assert!(!super::is_offset("manual"));
        let v6 = Record::from([
            ("enabled".into(), "yes".into()),
            ("primary-ntp".into(), "192.0.2.1".into()),
            ("secondary-ntp".into(), "0.0.0.0".into()),
            ("server-dns-names".into(), "pool.ntp.org".into()),
            ("status".into(), "synchronized".into()),
            ("last-update-from".into(), "192.0.2.1".into()),
        ]);
        let n = super::ntp(&v6);
        assert_eq!(n["enabled"], true);
        assert_eq!(n["servers"], json!(["192.0.2.1", "pool.ntp.org"]));
        assert_eq!(n["synced_server"], "192.0.2.1");
        assert_eq!(n["synced_stratum"], serde_json::Value::Null);
    }
}
