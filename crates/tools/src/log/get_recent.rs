//! `log.get_recent`: the tail of a router's memory log, read when the tool is called (never
//! cached: the point is what just happened). RouterOS keeps the log oldest first; this tool
//! takes the newest `limit` matching entries and returns them newest last (reading order) or,
//! on request, newest first — and says which in `order`.

use routeros::PrintQuery;
use serde::Deserialize;
use serde_json::{Map, Value, json};

use crate::{Ctx, ToolError, ToolOutput, contains};

/// Entries when the caller does not say.
const DEFAULT_LIMIT: usize = 100;
/// RouterOS's memory log holds 1,000 lines by default; more is never there to return.
const MAX_LIMIT: usize = 1000;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    topics: Option<String>,
    message_contains: Option<String>,
    limit: Option<u32>,
    newest_first: Option<bool>,
}

/// The topics an entry must carry (`"dhcp,info"` → `["dhcp", "info"]`), lowercased.
fn wanted_topics(text: Option<&str>) -> Vec<String> {
    text.unwrap_or("")
        .split(',')
        .map(|t| t.trim().to_ascii_lowercase())
        .filter(|t| !t.is_empty())
        .collect()
}

/// Whether an entry carries every wanted topic (whole topic words: `info` does not match
/// `information`).
fn has_topics(entry: &Map<String, Value>, wanted: &[String]) -> bool {
    let have: Vec<String> = entry
        .get("topics")
        .and_then(Value::as_str)
        .unwrap_or("")
        .split(',')
        .map(|t| t.trim().to_ascii_lowercase())
        .collect();
    wanted.iter().all(|w| have.contains(w))
}

/// A log entry as returned: typed like every record, except `time`, which here is a
/// timestamp (`2025-07-30 09:10:00`, or `14:27:01` / `jul/19 14:27:01` on older versions for
/// recent entries) and must never be read as a duration.
fn entry(r: &routeros::Record) -> Map<String, Value> {
    let mut e = crate::normalize::record(r);
    if let Some(time) = r.get("time") {
        e.insert("time".into(), json!(time));
    }
    e
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("log.get_recent", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let limit = p
        .limit
        .map_or(DEFAULT_LIMIT, |l| usize::try_from(l).unwrap_or(MAX_LIMIT))
        .clamp(1, MAX_LIMIT);
    let topics = wanted_topics(p.topics.as_deref());
    let newest_first = p.newest_first.unwrap_or(false);
    let (dev, client) = crate::device(&ctx, &p.device_id).await?;
    let records = client
        .print(&crate::menu("log"), &PrintQuery::all())
        .await?;
    let matching: Vec<Map<String, Value>> = records
        .iter()
        .map(entry)
        .filter(|e| {
            has_topics(e, &topics)
                && p.message_contains
                    .as_ref()
                    .is_none_or(|m| contains(e.get("message"), m))
        })
        .collect();
    let matched = matching.len();
    let mut entries: Vec<Value> = matching
        .into_iter()
        .skip(matched.saturating_sub(limit))
        .map(Value::Object)
        .collect();
    if newest_first {
        entries.reverse();
    }
    let mut out = crate::device_ref(&dev);
    out.insert(
        "order".into(),
        json!(if newest_first {
            "newest_first"
        } else {
            "newest_last"
        }),
    );
    out.insert("matched".into(), json!(matched));
    out.insert("returned".into(), json!(entries.len()));
    out.insert("entries".into(), Value::Array(entries));
    Ok(ToolOutput::new(Value::Object(out)))
}

#[cfg(test)]
mod tests {
    use routeros_sim::profiles::Profile;
    use serde_json::{Value, json};

    use crate::testing::Harness;

    fn messages(v: &Value) -> Vec<String> {
        v["entries"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["message"].as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn times_stay_timestamps() {
        for time in ["14:27:01", "jul/19 14:27:01", "2025-07-30 09:10:00"] {
            let r = routeros::Record::from([
                ("time".to_owned(), time.to_owned()),
                ("topics".to_owned(), "system,info".to_owned()),
            ]);
            assert_eq!(super::entry(&r)["time"], json!(time));
        }
        let e = super::entry(&routeros::Record::from([(
            "topics".to_owned(),
            "dhcp,info".to_owned(),
        )]));
        assert!(super::has_topics(&e, &super::wanted_topics(Some(" INFO"))));
        assert!(!super::has_topics(&e, &super::wanted_topics(Some("inf"))));
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_newest_entries_read_at_call_time() {
        let h = Harness::start(&[Profile::Home]).await;
        let boot = h.ok("log.get_recent", json!({"device_id": "r1"})).await;
        assert_eq!(boot["order"], "newest_last");
        assert!(
            messages(&boot).iter().any(|m| m == "router rebooted"),
            "{boot}"
        );

        h.sim("r1").write_state(|s| {
            for i in 0..150 {
                s.log("dhcp,info", &format!("defconf assigned 192.168.88.{i}"));
            }
            s.log(
                "system,error,critical",
                "login failure for user root via ssh",
            );
        });
        let recent = h
            .ok("log.get_recent", json!({"device_id": "r1", "limit": 3}))
            .await;
        let m = messages(&recent);
        assert_eq!(
            m[..2],
            [
                "defconf assigned 192.168.88.149",
                "login failure for user root via ssh"
            ]
        );
        // RouterOS logs every REST login, this call's own included: the log really is read now.
        assert!(
            m[2].starts_with("user admin logged in from") && m[2].ends_with("via rest-api"),
            "{m:?}"
        );
        assert_eq!(recent["returned"], 3);

        let newest_first = h
            .ok(
                "log.get_recent",
                json!({"device_id": "r1", "topics": "dhcp", "limit": 2, "newest_first": true}),
            )
            .await;
        assert_eq!(newest_first["order"], "newest_first");
        assert_eq!(
            messages(&newest_first),
            [
                "defconf assigned 192.168.88.149",
                "defconf assigned 192.168.88.148"
            ]
        );

        let dhcp = h
            .ok(
                "log.get_recent",
                json!({"device_id": "r1", "topics": "DHCP, info"}),
            )
            .await;
        assert_eq!(dhcp["matched"], 150);
        assert_eq!(dhcp["returned"], 100, "default limit");
        assert_eq!(
            dhcp["entries"][99]["message"],
            "defconf assigned 192.168.88.149"
        );
        assert!(dhcp["entries"][0]["time"].is_string());
        let errors = h
            .ok(
                "log.get_recent",
                json!({"device_id": "r1", "topics": "error"}),
            )
            .await;
        assert_eq!(messages(&errors), ["login failure for user root via ssh"]);
        let text = h
            .ok(
                "log.get_recent",
                json!({"device_id": "r1", "message_contains": "192.168.88.7", "topics": "dhcp"}),
            )
            .await;
        assert_eq!(
            messages(&text),
            [
                "defconf assigned 192.168.88.7",
                "defconf assigned 192.168.88.70",
                "defconf assigned 192.168.88.71",
                "defconf assigned 192.168.88.72",
                "defconf assigned 192.168.88.73",
                "defconf assigned 192.168.88.74",
                "defconf assigned 192.168.88.75",
                "defconf assigned 192.168.88.76",
                "defconf assigned 192.168.88.77",
                "defconf assigned 192.168.88.78",
                "defconf assigned 192.168.88.79",
            ]
        );
        let bad = h
            .call("log.get_recent", json!({"device_id": "r1", "limit": 0}))
            .await
            .unwrap_err();
        assert!(bad.to_string().contains("invalid arguments"), "{bad}");
    }
}
