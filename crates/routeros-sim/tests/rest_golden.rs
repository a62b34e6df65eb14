//! Golden tests: the simulator's REST answers compared with answers recorded from RouterOS
//! (MikroTik's REST API documentation and CHR 7.23 transcripts; the fixtures are quoted inline
//! with their source, from the shared `routeros-fixtures/rest/` collection).
//!
//! Ids differ between the recording's router and the simulator, so `.id` values are compared as
//! "present and shaped like `*HEX`"; every other key and value must match.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;

use reqwest::{Method, StatusCode};
use rest_support::{all_strings, home, ordered_keys, start};
use routeros_sim::FleetOptions;
use serde_json::{Value, json};

// rest/doc-ip-address-put-response.json — PUT /rest/ip/address
// {"address": "192.168.111.111", "interface": "dummy"}
const PUT_RESPONSE: &str = r#"{".id":"*A","actual-interface":"dummy","address":"192.168.111.111/32","disabled":"false",
"dynamic":"false","interface":"dummy","invalid":"false","network":"192.168.111.111"}"#;
// rest/doc-ip-address-patch-response.json — PATCH /rest/ip/address/*3 {"comment": "test"}
const PATCH_RESPONSE: &str = r#"{".id":"*3","actual-interface":"dummy","address":"192.168.99.2/24","comment":"test",
"disabled":"false","dynamic":"false","interface":"dummy","invalid":"false","network":"192.168.99.0"}"#;
// rest/doc-ip-address-get-proplist.json — GET /rest/ip/address?.proplist=address,disabled
const GET_PROPLIST: &str = r#"[{"address":"10.0.0.111/24","disabled":"false"},{"address":"10.0.0.109/24","disabled":"true"}]"#;
// rest/doc-error-404-delete-twice.json — second DELETE of the same item
const ERROR_404: &str = r#"{"error":404,"message":"Not Found"}"#;
// rest/doc-error-406-delete-interface.json (doc prints keys unsorted; real bodies sort them)
const ERROR_406: &str =
    r#"{"error":406,"message":"Not Acceptable","detail":"no such command or directory (remove)"}"#;
// rest/doc-error-400-session-closed-timeout.json — ping without count killed at 60 s
const SESSION_CLOSED: &str = r#"{"detail":"Session closed","error":400,"message":"Bad Request"}"#;
// rest/doc-ping-count-4.json (first record) — POST /rest/ping {"address":…,"count":"4"}
const PING_RECORD: &str = r#"{"avg-rtt":"453us","host":"10.155.101.1","max-rtt":"453us","min-rtt":"453us","packet-loss":"0","received":"1","sent":"1","seq":"0","size":"56","time":"453us","ttl":"64"}"#;
// rest/doc-system-resource-7.1beta4.json (element of the 7.1beta4 array; 7.19+ returns the bare
// object)
const RESOURCE: &str = r#"{"architecture-name":"tile","board-name":"CCR1016-12S-1S+",
"build-time":"Dec/04/2020 14:19:51","cpu":"tilegx","cpu-count":"16",
"cpu-frequency":"1200","cpu-load":"1","free-hdd-space":"83439616",
"free-memory":"1503133696","platform":"MikroTik",
"total-hdd-space":"134217728","total-memory":"2046820352",
"uptime":"2d20h12m20s","version":"7.1beta4 (development)"}"#;
// rest/interface-print-post-query-proplist.chr-7.23.1.json — POST /rest/interface/print
// {".query":["type=ether"],".proplist":"name,type"}
const IFACE_PRINT: &str = r#"[{"name":"ether1","type":"ether"}]"#;

fn parse(s: &str) -> Value {
    serde_json::from_str(s).unwrap()
}

/// Compares two objects key by key; `.id` values only need the `*HEX` shape.
fn same_object(got: &Value, want: &Value) {
    let (g, w) = (got.as_object().unwrap(), want.as_object().unwrap());
    let mut gk: Vec<_> = g.keys().collect();
    let mut wk: Vec<_> = w.keys().collect();
    gk.sort();
    wk.sort();
    assert_eq!(gk, wk, "keys differ:\n got {got}\nwant {want}");
    for (k, wv) in w {
        if k == ".id" {
            let id = g[k].as_str().unwrap();
            assert!(
                id.starts_with('*') && u32::from_str_radix(&id[1..], 16).is_ok(),
                "{id}"
            );
        } else {
            assert_eq!(&g[k], wv, "value of {k}");
        }
    }
}

#[tokio::test]
async fn put_patch_and_get_match_the_documented_shapes() {
    let sim = home().await;
    // The documentation's router has an interface called "dummy".
    let (st, _) = sim.put("/interface/bridge", json!({"name": "dummy"})).await;
    assert_eq!(st, StatusCode::CREATED);

    let (st, created) = sim
        .put(
            "/ip/address",
            json!({"address": "192.168.111.111", "interface": "dummy"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    same_object(&created, &parse(PUT_RESPONSE));

    let (_, second) = sim
        .put(
            "/ip/address",
            json!({"address": "192.168.99.2/24", "interface": "dummy"}),
        )
        .await;
    let id = second[".id"].as_str().unwrap().to_string();
    let (st, patched) = sim
        .patch(&format!("/ip/address/{id}"), json!({"comment": "test"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    same_object(&patched, &parse(PATCH_RESPONSE));

    let (st, by_id) = sim.get(&format!("/ip/address/{id}")).await;
    assert_eq!(st, StatusCode::OK);
    assert_eq!(by_id, patched, "GET by id returns the single object");

    // GET ?comment=test&interface=dummy
    let (_, filtered) = sim.get("/ip/address?comment=test&interface=dummy").await;
    assert_eq!(filtered.as_array().unwrap().len(), 1);
    same_object(&filtered[0], &parse(PATCH_RESPONSE));
}

#[tokio::test]
async fn proplist_on_get_and_post_print() {
    let sim = home().await;
    for (addr, iface, disabled) in [
        ("10.0.0.111/24", "ether2", "false"),
        ("10.0.0.109/24", "ether3", "true"),
    ] {
        let (st, _) = sim
            .put(
                "/ip/address",
                json!({"address": addr, "interface": iface, "disabled": disabled}),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
    }
    let (_, got) = sim
        .get("/ip/address?.proplist=address,disabled&network=10.0.0.0")
        .await;
    assert_eq!(got, parse(GET_PROPLIST));

    // POST print with .proplist array and an OR query: the documented example.
    sim.put("/interface/bridge", json!({"name": "dummy"})).await;
    let (_, a) = sim
        .put(
            "/ip/address",
            json!({"address": "192.168.111.111", "interface": "dummy"}),
        )
        .await;
    let (st, got) = sim
        .post(
            "/ip/address/print",
            json!({".proplist": [".id", "address", "interface"], ".query": ["network=192.168.111.111", "network=10.0.0.0", "#|"]}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let got = got.as_array().unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(got[2][".id"], a[".id"]);
    assert_eq!(
        rest_support::keys(&got[2]),
        vec![".id", "address", "interface"]
    );
}

#[tokio::test]
async fn interface_print_query_matches_chr_transcript() {
    let sim = home().await;
    let (st, got) = sim
        .post(
            "/interface/print",
            json!({".query": ["type=ether"], ".proplist": "name,type"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK);
    let want = parse(IFACE_PRINT);
    assert_eq!(got[0], want[0]);
    assert_eq!(
        got.as_array().unwrap().len(),
        5,
        "five ethernet ports on a home router"
    );
}

#[tokio::test]
async fn error_bodies_are_byte_exact() {
    let sim = home().await;
    let (_, a) = sim
        .put(
            "/ip/address",
            json!({"address": "10.9.9.1/24", "interface": "ether2"}),
        )
        .await;
    let path = format!("/ip/address/{}", a[".id"].as_str().unwrap());
    let (st, body) = sim.call_text(Method::DELETE, &path, None).await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    assert_eq!(body, "");
    let (st, body) = sim.call_text(Method::DELETE, &path, None).await;
    assert_eq!(st, StatusCode::NOT_FOUND);
    assert_eq!(body, ERROR_404);

    let (st, body) = sim
        .call_text(Method::DELETE, "/interface/ether2", None)
        .await;
    assert_eq!(st, StatusCode::NOT_ACCEPTABLE);
    assert_eq!(parse(&body), parse(ERROR_406));
    assert_eq!(ordered_keys(&body)[0], vec!["detail", "error", "message"]);
}

#[tokio::test]
async fn unbounded_ping_ends_in_session_closed() {
    // 60 simulated seconds at time scale 600 take a tenth of a real second.
    let sim = start(FleetOptions {
        time_scale: 600.0,
        password: Some("secret".into()),
        ..FleetOptions::default()
    })
    .await;
    let (st, body) = sim
        .call_text(
            Method::POST,
            "/ping",
            Some(r#"{"address":"192.168.88.254"}"#),
        )
        .await;
    assert_eq!(st, StatusCode::BAD_REQUEST);
    assert_eq!(body, SESSION_CLOSED);
}

#[tokio::test]
async fn ping_with_count_returns_one_record_per_probe() {
    let sim = start(FleetOptions {
        time_scale: 100.0,
        password: Some("secret".into()),
        ..FleetOptions::default()
    })
    .await;
    let (st, got) = sim
        .post("/ping", json!({"address": "192.168.88.254", "count": "4"}))
        .await;
    assert_eq!(st, StatusCode::OK);
    let got = got.as_array().unwrap();
    assert_eq!(got.len(), 4);
    let want = parse(PING_RECORD);
    for (i, rec) in got.iter().enumerate() {
        all_strings(rec);
        let mut gk: Vec<_> = rec.as_object().unwrap().keys().collect();
        let mut wk: Vec<_> = want.as_object().unwrap().keys().collect();
        gk.sort();
        wk.sort();
        assert_eq!(gk, wk);
        assert_eq!(rec["seq"], json!(i.to_string()));
        assert_eq!(rec["sent"], json!((i + 1).to_string()));
        assert_eq!(rec["host"], json!("192.168.88.254"));
        assert!(rec["time"].as_str().unwrap().ends_with("us"));
    }
}

#[tokio::test]
async fn system_resource_is_a_bare_object_with_the_documented_fields() {
    let sim = home().await;
    let (st, got) = sim.get("/system/resource").await;
    assert_eq!(st, StatusCode::OK);
    assert!(got.is_object(), "7.19+ returns an object, not an array");
    all_strings(&got);
    for k in parse(RESOURCE).as_object().unwrap().keys() {
        assert!(got.get(k).is_some(), "missing {k}");
    }
    assert!(got["version"].as_str().unwrap().ends_with("(stable)"));
    assert!(got["free-memory"].as_str().unwrap().parse::<u64>().is_ok());
}

#[tokio::test]
async fn keys_are_alphabetical_with_id_first_and_values_are_strings() {
    let sim = home().await;
    for path in [
        "/interface",
        "/ip/address",
        "/ip/route",
        "/ip/firewall/filter",
        "/ip/service",
    ] {
        let (st, text) = sim.call_text(Method::GET, path, None).await;
        assert_eq!(st, StatusCode::OK);
        for keys in ordered_keys(&text) {
            assert_eq!(keys[0], ".id", "{path}: {keys:?}");
            let rest = &keys[1..];
            let mut sorted = rest.to_vec();
            sorted.sort();
            assert_eq!(rest, sorted.as_slice(), "{path}");
        }
        for item in parse(&text).as_array().unwrap() {
            all_strings(item);
        }
    }
}
