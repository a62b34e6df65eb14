//! Standing security suite of the tools: no secret leaves the server through a read.
//!
//! Against routeros-sim: filters that would turn a read into an oracle for a secret (`<password`
//! comparisons, equality on a password, query words) are refused; no result — `routeros.print`
//! of every menu that holds one, `fields` naming one, the typed tools, the configuration export
//! and the export the `device://{id}/config` resource serves — carries a secret's value; script
//! bodies are withheld unless a professional-tier caller asks for them.

use domain::Tier;
use routeros::ExportOptions;
use routeros_sim::profiles::Profile;
use serde_json::{Value, json};

use crate::redact::{self, Scripts};
use crate::testing::Harness;
use crate::{Caller, ToolError};

const PPP_PASSWORD: &str = "Ppp-S3cret-oracle";
const PEER_PSK: &str = "UGVlci1Qc2stUzNjcmV0LWZvci10aGUtc3VpdGUhIQ=";
const SNMP_AUTH: &str = "Snmp-Auth-S3cret";
const SNMP_ENC: &str = "Snmp-Enc-S3cret";
const SCRIPT_SECRET: &str = "Scr1pt-S3cret";
const SCHEDULER_SECRET: &str = "Sched-S3cret";
const LEASE_SECRET: &str = "Lease-S3cret";

/// A home router with a secret in every menu the simulator has that can hold one.
async fn seeded() -> Harness {
    let h = Harness::start(&[Profile::Home]).await;
    h.sim("r1").write_state(|s| {
        s.insert_raw(
            "/ppp/secret",
            &[
                ("name", "pppoe-oracle"),
                ("password", PPP_PASSWORD),
                ("service", "pppoe"),
            ],
        )
        .unwrap();
        s.insert_raw(
            "/interface/wireguard/peers",
            &[
                ("name", "suite-peer"),
                ("interface", "wg0"),
                ("public-key", "c3VpdGUtcGVlci1wdWJsaWMta2V5LWZvci10ZXN0cyE="),
                ("preshared-key", PEER_PSK),
                ("allowed-address", "10.100.0.200/32"),
            ],
        )
        .unwrap();
        s.insert_raw(
            "/snmp/community",
            &[
                ("name", "monitoring"),
                ("security", "private"),
                ("authentication-password", SNMP_AUTH),
                ("encryption-password", SNMP_ENC),
            ],
        )
        .unwrap();
        let source = format!(
            "/tool fetch url=\"https://backup.example/up\" user=backup password={SCRIPT_SECRET}"
        );
        s.insert_raw("/system/script", &[("name", "backup"), ("source", &source)])
            .unwrap();
        let on_event = format!("/tool fetch user=x password={SCHEDULER_SECRET}");
        s.insert_raw(
            "/system/scheduler",
            &[
                ("name", "nightly"),
                ("interval", "1d"),
                ("on-event", &on_event),
            ],
        )
        .unwrap();
        let dhcp = routeros_sim::model::menu("/ip/dhcp-server").unwrap();
        let id = s.items_of("/ip/dhcp-server").next().unwrap().id();
        s.set_raw(
            dhcp,
            Some(id),
            "lease-script",
            &format!(":log info {LEASE_SECRET}"),
        )
        .unwrap();
    });
    h
}

/// Every secret value the seeded router holds.
fn secrets(h: &Harness) -> Vec<String> {
    let wg_key = h.sim("r1").read_state(|s| {
        s.items_of("/interface/wireguard")
            .find_map(|i| i.get("private-key").map(str::to_owned))
            .unwrap()
    });
    vec![
        PPP_PASSWORD.into(),
        PEER_PSK.into(),
        SNMP_AUTH.into(),
        SNMP_ENC.into(),
        SCRIPT_SECRET.into(),
        SCHEDULER_SECRET.into(),
        LEASE_SECRET.into(),
        h.sims.manifest().devices[0].password.clone(),
        wg_key,
    ]
}

fn assert_no_secret(what: &str, text: &str, secrets: &[String]) {
    for s in secrets {
        assert!(
            !text.contains(s.as_str()),
            "{what} carries a secret: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn print_refuses_every_filter_that_could_reveal_a_secret() {
    let h = seeded().await;
    let password = h.sims.manifest().devices[0].password.clone();
    let print = |menu: &str, filter: Value| {
        h.call(
            "routeros.print",
            json!({"device_id": "r1", "menu": menu, "where": filter}),
        )
    };

    // A binary search for a secret starts with `<password`: refused as not a name.
    let e = print("ppp/secret", json!({"<password": "m"}))
        .await
        .unwrap_err();
    assert!(matches!(e, ToolError::InvalidArguments(_)), "{e}");
    assert!(e.to_string().contains("where.<password"), "{e}");
    assert!(e.to_string().contains("expected a property name"), "{e}");

    // Equality on a secret is an oracle too: refused by name, whatever the value.
    for (menu, key, value) in [
        ("ppp/secret", "password", PPP_PASSWORD.to_owned()),
        ("ppp/secret", "password", "x".to_owned()),
        ("user", "password", password.clone()),
        ("interface/wireguard", "private-key", "x".to_owned()),
        (
            "interface/wireguard/peers",
            "preshared-key",
            PEER_PSK.to_owned(),
        ),
        (
            "snmp/community",
            "authentication-password",
            SNMP_AUTH.to_owned(),
        ),
        ("snmp/community", "encryption-password", SNMP_ENC.to_owned()),
        ("tool/romon", "secrets", "x".to_owned()),
        ("interface/wifi", "security.passphrase", "x".to_owned()),
        ("routing/bgp/connection", "tcp-md5-key", "x".to_owned()),
        ("ip/ipsec/peer", "secret", "x".to_owned()),
    ] {
        let e = print(menu, json!({ key: value })).await.unwrap_err();
        assert!(matches!(e, ToolError::Refused(_)), "{menu} {key}: {e}");
        assert!(
            e.to_string().starts_with(&format!(
                "where.{key}: filtering on a secret property is refused"
            )),
            "{menu} {key}: {e}"
        );
        assert_no_secret("a refusal", &e.to_string(), &secrets(&h));
    }
    // Script bodies are no filter either.
    for (menu, key) in [
        ("system/script", "source"),
        ("system/scheduler", "on-event"),
    ] {
        let e = print(menu, json!({ key: "x" })).await.unwrap_err();
        assert!(
            e.to_string().starts_with(&format!(
                "where.{key}: filtering on a script body is refused"
            )),
            "{e}"
        );
    }
    // Any other query word is not a property name.
    for key in [
        ">password",
        "-password",
        "#|",
        "#!",
        "name=pppoe-oracle",
        "",
        "Name",
        "pass word",
    ] {
        let e = print("ppp/secret", json!({ key: "" })).await.unwrap_err();
        assert!(matches!(e, ToolError::InvalidArguments(_)), "{key:?}: {e}");
        assert!(
            e.to_string().contains("expected a property name"),
            "{key:?}: {e}"
        );
    }

    // A plain filter still works, and the secret in its result is hidden.
    let found = h
        .ok(
            "routeros.print",
            json!({"device_id": "r1", "menu": "ppp/secret", "where": {"name": "pppoe-oracle"}}),
        )
        .await;
    assert_eq!(found["total"], 1);
    assert_eq!(found["items"][0]["password"], "(hidden)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_result_carries_a_secret_value() {
    let h = seeded().await;
    let secrets = secrets(&h);
    let mut results = Vec::new();
    for menu in [
        "ppp/secret",
        "user",
        "snmp/community",
        "interface/wireguard",
        "interface/wireguard/peers",
        "system/script",
        "system/scheduler",
        "ip/dhcp-server",
    ] {
        let out = h
            .ok("routeros.print", json!({"device_id": "r1", "menu": menu}))
            .await;
        assert!(out["total"].as_u64().unwrap() >= 1, "{menu}: {out}");
        results.push((format!("routeros.print {menu}"), out));
    }
    // `fields` naming a secret gets the placeholder, not the value.
    let asked = h
        .ok(
            "routeros.print",
            json!({"device_id": "r1", "menu": "ppp/secret", "fields": ["name", "password"]}),
        )
        .await;
    assert_eq!(asked["items"][0]["password"], "(hidden)", "{asked}");
    results.push(("routeros.print fields".into(), asked));
    let script = h
        .ok(
            "routeros.print",
            json!({"device_id": "r1", "menu": "system/script", "where": {"name": "backup"}}),
        )
        .await;
    assert_eq!(script["items"][0]["source"], "(withheld)", "{script}");
    for (tool, args) in [
        ("wireguard.list_peers", json!({"device_id": "r1"})),
        (
            "interface.get",
            json!({"device_id": "r1", "interface": "wg0"}),
        ),
        ("dhcp.list_servers", json!({"device_id": "r1"})),
    ] {
        results.push((tool.into(), h.ok(tool, args).await));
    }
    // The whole export, page by page.
    let mut cursor: Option<String> = None;
    for _ in 0..50 {
        let mut args = json!({"device_id": "r1", "limit": 400});
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        let page = h.ok("config.export", args).await;
        cursor = page["next_cursor"].as_str().map(str::to_owned);
        results.push(("config.export".into(), page));
        if cursor.is_none() {
            break;
        }
    }
    assert!(cursor.is_none(), "the export ends within 50 pages");
    let export = results
        .iter()
        .filter(|(t, _)| t == "config.export")
        .filter_map(|(_, p)| p["text"].as_str())
        .collect::<Vec<_>>()
        .join("\n");
    assert!(
        export.contains("name=backup"),
        "the script is exported: {export}"
    );
    assert!(export.contains("source=\"(withheld)\""), "{export}");
    for (what, out) in &results {
        assert_no_secret(what, &out.to_string(), &secrets);
    }

    // What `device://{id}/config` serves: the raw export, through the same hiding.
    let (_, client) = crate::device(&h.ctx, "r1").await.unwrap();
    let raw = client.export(&ExportOptions::default()).await.unwrap();
    assert!(
        raw.contains(SCRIPT_SECRET),
        "RouterOS exports script bodies, so hiding them is the server's job"
    );
    let served = crate::hide_in_export(&raw);
    assert!(served.contains("name=nightly"), "{served}");
    assert_no_secret("device://r1/config", &served, &secrets);
}

#[test]
fn menus_the_simulator_lacks_are_redacted_as_routeros_prints_them() {
    // `/tool/romon` and `/interface/wifi` as REST returns them on RouterOS 7.
    let romon = routeros::Record::from([
        ("enabled".into(), "true".into()),
        ("id".into(), "00:00:00:00:00:00".into()),
        ("secrets".into(), "r0mon-S3cret,0ld-r0mon".into()),
    ]);
    let wifi = routeros::Record::from([
        (".id".into(), "*1".into()),
        ("name".into(), "wifi1".into()),
        ("configuration.ssid".into(), "home".into()),
        (
            "security.authentication-types".into(),
            "wpa2-psk,wpa3-psk".into(),
        ),
        ("security.passphrase".into(), "W1fi-S3cret".into()),
        ("security.sae-password".into(), "Sae-S3cret".into()),
    ]);
    let security_profile = routeros::Record::from([
        ("name".into(), "default".into()),
        ("wpa2-pre-shared-key".into(), "Wpa2-S3cret".into()),
        ("static-key-0".into(), "Wep-S3cret".into()),
    ]);
    for (menu, record) in [
        ("tool/romon", romon),
        ("interface/wifi", wifi),
        ("interface/wireless/security-profiles", security_profile),
    ] {
        let mut item = crate::normalize::record(&record);
        redact::item(menu, &mut item, Scripts::Shown);
        let text = Value::Object(item.clone()).to_string();
        assert!(!text.contains("S3cret"), "{menu}: {text}");
        assert!(item.values().any(|v| v == "(hidden)"), "{menu}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn script_bodies_are_shown_only_to_a_professional_caller_who_asks() {
    let h = seeded().await;
    let ask = json!({"device_id": "r1", "menu": "system/script", "where": {"name": "backup"}, "include_scripts": true});

    // Not asked: withheld, whatever the tier.
    let professional = Caller::new("test:professional").with_tiers(vec![
        Tier::Free,
        Tier::Basic,
        Tier::Professional,
    ]);
    let quiet = h
        .call_as(
            "routeros.print",
            json!({"device_id": "r1", "menu": "system/scheduler", "where": {"name": "nightly"}}),
            professional.clone(),
        )
        .await
        .unwrap()
        .structured;
    assert_eq!(quiet["items"][0]["on-event"], "(withheld)", "{quiet}");

    // Asked by a caller without the professional tier: refused, saying why.
    for caller in [
        Caller::new("test:free"),
        Caller::new("test:basic").with_tiers(vec![Tier::Free, Tier::Basic]),
    ] {
        let e = h
            .call_as("routeros.print", ask.clone(), caller)
            .await
            .unwrap_err();
        assert!(matches!(e, ToolError::Refused(_)), "{e}");
        assert!(
            e.to_string().starts_with("include_scripts:") && e.to_string().contains("professional"),
            "{e}"
        );
    }

    // Asked with the professional tier: shown, while secrets stay hidden.
    let shown = h
        .call_as("routeros.print", ask, professional.clone())
        .await
        .unwrap()
        .structured;
    assert!(
        shown["items"][0]["source"]
            .as_str()
            .unwrap()
            .contains(SCRIPT_SECRET),
        "{shown}"
    );
    let ppp = h
        .call_as(
            "routeros.print",
            json!({"device_id": "r1", "menu": "ppp/secret", "include_scripts": true}),
            professional,
        )
        .await
        .unwrap()
        .structured;
    assert!(!ppp.to_string().contains(PPP_PASSWORD), "{ppp}");
}
