//! Every tool in the catalog, end to end over both transports: valid arguments (the result
//! checked against the tool's `outputSchema`), invalid arguments (refused before any device is
//! contacted, naming the violation), and its device down (`isError: true`, naming the device and
//! the cause — never an empty success).

use std::collections::BTreeSet;
use std::time::Duration;

use routeros_sim::profiles::Profile;
use serde_json::{Value, json};

use crate::support::{Client, World, text};

/// How one tool is exercised. `D` in arguments stands for the device under test.
struct Sample {
    tool: &'static str,
    valid: Value,
    invalid: Value,
    /// A fragment the invalid-arguments message must contain (the JSON pointer or the rule).
    invalid_says: &'static str,
    /// Whether the tool talks to the device named by `device_id` (so a down device fails it).
    device_scoped: bool,
}

/// The operator's runbook folder (`runbook.create` writes there), holding [`GAP`].
fn runbook_dir(world: &World) -> String {
    let dir = world.dir.path().join("runbooks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("sampled-gap.md"), GAP).unwrap();
    dir.display().to_string()
}

/// A published runbook whose second step points into a field the first step's result does not
/// have: its runs fail as `runbook_insufficient`, so a revision can be proposed.
const GAP: &str = "---\nname: sampled-gap\ntitle: Sampled gap\ndescription: Reads the overview twice.\nversion: 1.0.0\nstatus: published\ntags: [sample]\ntier: free\nrisk: low\nvariables:\n  device: {type: device, description: The router, required: true}\nlast_reviewed: 2026-12-01\n---\n## Symptom\nSomething looks wrong.\n\n## Diagnosis\n1. Read the overview.\n```tool system.get_overview\n{\"device_id\": \"{var.device}\"}\n```\n2. Read it again by its name.\n```tool system.get_overview\n{\"device_id\": \"{step.1./no_such_field}\"}\n```\n\n## Remediation\nAsk the owner.\n\n## Verify\nCheck again.\n";

/// A draft runbook `runbook.create` accepts.
const DRAFT: &str = "---\nname: sampled-draft\ntitle: Sampled draft\ndescription: A procedure kept from a conversation.\nversion: 0.1.0\nstatus: draft\ntags: [sample]\ntier: free\nrisk: low\nvariables:\n  device: {type: device, description: The router, required: true}\nlast_reviewed: 2026-12-01\n---\n## Symptom\nSomething looks wrong.\n\n## Diagnosis\n1. Read the overview.\n```tool system.get_overview\n{\"device_id\": \"{var.device}\"}\n```\n\n## Remediation\nAsk the owner.\n\n## Verify\nCheck again.\n";

fn samples() -> Vec<Sample> {
    let d = "D";
    vec![
        Sample {
            tool: "device.list",
            valid: json!({"environment": "lab", "limit": 5}),
            invalid: json!({"environment": "moon"}),
            invalid_says: "/environment",
            device_scoped: false,
        },
        Sample {
            tool: "device.get",
            valid: json!({"device_id": d}),
            invalid: json!({}),
            invalid_says: "device_id",
            device_scoped: false,
        },
        Sample {
            tool: "system.get_overview",
            valid: json!({"device_id": d}),
            invalid: json!({"device_id": d, "verbose": true}),
            invalid_says: "verbose",
            device_scoped: true,
        },
        Sample {
            tool: "system.get_health",
            valid: json!({"device_id": d}),
            invalid: json!({"device_id": 42}),
            invalid_says: "/device_id",
            device_scoped: true,
        },
        Sample {
            tool: "system.get_clock",
            valid: json!({"device_id": d}),
            invalid: json!({"device": d}),
            invalid_says: "device_id",
            device_scoped: true,
        },
        Sample {
            tool: "system.list_packages",
            valid: json!({"device_id": d, "fields": ["version"]}),
            invalid: json!({"device_id": d, "fields": "version"}),
            invalid_says: "/fields",
            device_scoped: true,
        },
        Sample {
            tool: "interface.list",
            valid: json!({"device_id": d, "type": "ether", "limit": 10}),
            invalid: json!({"device_id": d, "running": "yes"}),
            invalid_says: "/running",
            device_scoped: true,
        },
        Sample {
            tool: "interface.get",
            valid: json!({"device_id": d, "interface": "bridge"}),
            invalid: json!({"device_id": d}),
            invalid_says: "interface",
            device_scoped: true,
        },
        Sample {
            tool: "interface.get_traffic",
            valid: json!({"device_id": d, "interfaces": ["ether1"]}),
            invalid: json!({"device_id": d, "interfaces": "ether1"}),
            invalid_says: "/interfaces",
            device_scoped: true,
        },
        Sample {
            tool: "ip.list_addresses",
            valid: json!({"device_id": d}),
            invalid: json!({"device_id": d, "limit": 1001}),
            invalid_says: "/limit",
            device_scoped: true,
        },
        Sample {
            tool: "ip.list_arp",
            valid: json!({"device_id": d, "interface": "bridge"}),
            invalid: json!({"device_id": d, "cursor": 5}),
            invalid_says: "/cursor",
            device_scoped: true,
        },
        Sample {
            tool: "ip.list_neighbors",
            valid: json!({"device_id": d}),
            invalid: json!({"device_id": d, "identity_contains": ["x"]}),
            invalid_says: "/identity_contains",
            device_scoped: true,
        },
        Sample {
            tool: "routing.list_routes",
            valid: json!({"device_id": d, "active": true, "limit": 20}),
            invalid: json!({"device_id": d, "active": "true"}),
            invalid_says: "/active",
            device_scoped: true,
        },
        Sample {
            tool: "dns.get_config",
            valid: json!({"device_id": d}),
            invalid: json!({"device_id": d, "servers": "1.1.1.1"}),
            invalid_says: "servers",
            device_scoped: true,
        },
        Sample {
            tool: "dns.list_static",
            valid: json!({"device_id": d}),
            invalid: json!({"device_id": d, "type": "PTR"}),
            invalid_says: "/type",
            device_scoped: true,
        },
        Sample {
            tool: "dhcp.list_servers",
            valid: json!({"device_id": d}),
            invalid: json!({"device_id": d, "limit": -1}),
            invalid_says: "/limit",
            device_scoped: true,
        },
        Sample {
            tool: "dhcp.list_leases",
            valid: json!({"device_id": d, "limit": 5}),
            invalid: json!({"device_id": d, "server": 1}),
            invalid_says: "/server",
            device_scoped: true,
        },
        Sample {
            tool: "firewall.list_nat_rules",
            valid: json!({"device_id": d, "chain": "srcnat"}),
            invalid: json!({"device_id": d, "disabled": "no"}),
            invalid_says: "/disabled",
            device_scoped: true,
        },
        Sample {
            tool: "firewall.list_address_lists",
            valid: json!({"device_id": d}),
            invalid: json!({"device_id": d, "list": ["a"]}),
            invalid_says: "/list",
            device_scoped: true,
        },
        Sample {
            tool: "wireguard.list_peers",
            valid: json!({"device_id": d, "interface": "wg0"}),
            invalid: json!({"device_id": d, "private_key": true}),
            invalid_says: "private_key",
            device_scoped: true,
        },
        Sample {
            tool: "log.get_recent",
            valid: json!({"device_id": d, "limit": 10, "newest_first": true}),
            invalid: json!({"device_id": d, "limit": 0}),
            invalid_says: "/limit",
            device_scoped: true,
        },
        Sample {
            tool: "diagnostics.ping",
            valid: json!({"device_id": d, "address": "192.168.88.1", "count": 2}),
            invalid: json!({"device_id": d}),
            invalid_says: "address",
            device_scoped: true,
        },
        Sample {
            tool: "diagnostics.traceroute",
            valid: json!({"device_id": d, "address": "192.168.88.1", "count": 1}),
            invalid: json!({"device_id": d, "address": "192.168.88.1", "count": 0}),
            invalid_says: "/count",
            device_scoped: true,
        },
        Sample {
            tool: "config.export",
            valid: json!({"device_id": d, "section": "/ip dns", "limit": 50}),
            invalid: json!({"device_id": d, "show_sensitive": true}),
            invalid_says: "show_sensitive",
            device_scoped: true,
        },
        Sample {
            tool: "config.list_snapshots",
            valid: json!({"device_id": d, "limit": 5}),
            invalid: json!({"device_id": d, "since": "yesterday"}),
            invalid_says: "since",
            device_scoped: false,
        },
        Sample {
            tool: "config.get_snapshot",
            valid: json!({"snapshot_id": "S", "section": "/ip"}),
            invalid: json!({"snapshot": "S"}),
            invalid_says: "snapshot_id",
            device_scoped: false,
        },
        Sample {
            tool: "config.diff",
            valid: json!({"device_id": d, "against_device_id": d}),
            invalid: json!({"snapshot_id": 7}),
            invalid_says: "/snapshot_id",
            device_scoped: true,
        },
        Sample {
            tool: "config.plan_restore",
            valid: json!({"snapshot_id": "S"}),
            invalid: json!({"snapshot_id": "S", "menus": ["ip/dns"]}),
            invalid_says: "menus",
            device_scoped: false,
        },
        Sample {
            tool: "fleet.get_drift",
            valid: json!({"environment": "lab"}),
            invalid: json!({"tags": "site=x"}),
            invalid_says: "/tags",
            device_scoped: false,
        },
        Sample {
            tool: "fleet.get_health",
            valid: json!({"environment": "lab"}),
            invalid: json!({"tags": "site=x"}),
            invalid_says: "/tags",
            device_scoped: false,
        },
        Sample {
            tool: "fleet.find_address",
            valid: json!({"address": "192.168.88.1"}),
            invalid: json!({}),
            invalid_says: "address",
            device_scoped: false,
        },
        Sample {
            tool: "dns.add_static_entry",
            valid: json!({"device_id": d, "name": "nas.lan", "address": "192.168.88.20"}),
            invalid: json!({"device_id": d, "name": ""}),
            invalid_says: "/name",
            device_scoped: true,
        },
        Sample {
            tool: "dns.remove_static_entry",
            valid: json!({"device_id": d, "name": "router.lan"}),
            invalid: json!({"device_id": d, "name": ""}),
            invalid_says: "/name",
            device_scoped: true,
        },
        Sample {
            tool: "firewall.add_address_list_entry",
            valid: json!({"device_id": d, "list": "blocklist", "address": "203.0.113.9", "timeout": "1d"}),
            invalid: json!({"device_id": d, "list": "blocklist"}),
            invalid_says: "address",
            device_scoped: true,
        },
        Sample {
            tool: "firewall.remove_address_list_entry",
            valid: json!({"device_id": d, "list": "blocklist", "address": "198.51.100.23"}),
            invalid: json!({"device_id": d, "entry": "*1"}),
            invalid_says: "entry",
            device_scoped: true,
        },
        Sample {
            tool: "dhcp.make_lease_static",
            valid: json!({"device_id": d, "address": "192.168.88.252"}),
            invalid: json!({"device_id": d, "lease_id": 5}),
            invalid_says: "/lease_id",
            device_scoped: true,
        },
        Sample {
            tool: "interface.set_comment",
            valid: json!({"device_id": d, "interface": "ether4", "comment": "printer"}),
            invalid: json!({"device_id": d, "interface": "ether4"}),
            invalid_says: "comment",
            device_scoped: true,
        },
        Sample {
            tool: "system.set_identity",
            valid: json!({"device_id": d, "name": "core-1"}),
            invalid: json!({"device_id": d, "name": ""}),
            invalid_says: "/name",
            device_scoped: true,
        },
        Sample {
            tool: "firewall.plan_filter_rule",
            valid: json!({"device_id": d, "action": "add", "rule": {"chain": "forward", "action": "drop", "comment": "sample"}}),
            invalid: json!({"device_id": d, "action": "delete"}),
            invalid_says: "/action",
            device_scoped: true,
        },
        Sample {
            tool: "firewall.plan_nat_rule",
            valid: json!({"device_id": d, "action": "add", "rule": {"chain": "dstnat", "action": "dst-nat",
                "protocol": "tcp", "dst-port": "8443", "to-addresses": "192.168.88.20", "to-ports": "443"}}),
            invalid: json!({"device_id": d}),
            invalid_says: "action",
            device_scoped: true,
        },
        Sample {
            tool: "ip.plan_address",
            valid: json!({"device_id": d, "action": "add", "address": "10.20.0.1/24", "interface": "ether4"}),
            invalid: json!({"device_id": d, "action": "add", "address": 5}),
            invalid_says: "/address",
            device_scoped: true,
        },
        Sample {
            tool: "routing.plan_route",
            valid: json!({"device_id": d, "action": "add", "dst_address": "10.50.0.0/16", "gateway": "192.168.88.2"}),
            invalid: json!({"device_id": d, "action": "add", "distance": 0}),
            invalid_says: "/distance",
            device_scoped: true,
        },
        Sample {
            tool: "interface.plan_state",
            valid: json!({"device_id": d, "interface": "ether5", "state": "disabled"}),
            invalid: json!({"device_id": d, "interface": "ether5", "state": "down"}),
            invalid_says: "/state",
            device_scoped: true,
        },
        Sample {
            tool: "plan.get",
            valid: json!({"plan_id": "P"}),
            invalid: json!({"plan": "P"}),
            invalid_says: "plan_id",
            device_scoped: false,
        },
        Sample {
            tool: "runbook.create",
            valid: json!({"name": "sampled-draft", "content": DRAFT}),
            invalid: json!({"name": "Sampled Draft", "content": DRAFT}),
            invalid_says: "/name",
            device_scoped: false,
        },
        Sample {
            tool: "runbook.from_transcript",
            valid: json!({"name": "sampled-transcript", "title": "Sampled transcript",
                "symptom": "Something looked wrong.",
                "calls": [{"tool": "system.get_overview", "arguments": {"device_id": d}}]}),
            invalid: json!({"name": "sampled-transcript", "title": "Sampled transcript",
                "symptom": "Something looked wrong.", "calls": []}),
            invalid_says: "/calls",
            device_scoped: false,
        },
        Sample {
            tool: "runbook.list",
            valid: json!({"status": "published", "limit": 5}),
            invalid: json!({"status": "approved"}),
            invalid_says: "/status",
            device_scoped: false,
        },
        Sample {
            tool: "runbook.search",
            valid: json!({"query": "an interface is down"}),
            invalid: json!({"query": ""}),
            invalid_says: "/query",
            device_scoped: false,
        },
        Sample {
            tool: "runbook.get",
            valid: json!({"runbook": "high-cpu"}),
            invalid: json!({"name": "high-cpu"}),
            invalid_says: "runbook",
            device_scoped: false,
        },
        Sample {
            tool: "runbook.dry_run",
            valid: json!({"runbook": "interface-down", "variables": {"device": d, "interface": "ether2"}}),
            invalid: json!({"runbook": "interface-down", "variables": "ether2"}),
            invalid_says: "/variables",
            device_scoped: false,
        },
        Sample {
            tool: "runbook.run",
            valid: json!({"run_id": "R"}),
            invalid: json!({"run_id": ""}),
            invalid_says: "/run_id",
            device_scoped: false,
        },
        Sample {
            tool: "runbook.record_outcome",
            valid: json!({"run_id": "R", "outcome": "abandoned", "notes": "sampled"}),
            invalid: json!({"run_id": "R", "outcome": "finished"}),
            invalid_says: "/outcome",
            device_scoped: false,
        },
        Sample {
            tool: "runbook.diff",
            valid: json!({"runbook": "sampled-gap", "from": "last_run"}),
            invalid: json!({"runbook": "sampled-gap", "since": "yesterday"}),
            invalid_says: "since",
            device_scoped: false,
        },
        Sample {
            tool: "runbook.propose_revision",
            valid: json!({"run_id": "F", "content": "GAP-FIXED"}),
            invalid: json!({"run_id": "F"}),
            invalid_says: "content",
            device_scoped: false,
        },
        Sample {
            tool: "plan.list",
            valid: json!({"status": "approved"}),
            invalid: json!({"status": "done"}),
            invalid_says: "/status",
            device_scoped: false,
        },
        Sample {
            tool: "plan.apply",
            valid: json!({"plan_id": "P", "approval_token": "T"}),
            invalid: json!({"plan_id": 1}),
            invalid_says: "/plan_id",
            device_scoped: false,
        },
        Sample {
            tool: "plan.rollback",
            valid: json!({"plan_id": "P"}),
            invalid: json!({}),
            invalid_says: "plan_id",
            device_scoped: false,
        },
        Sample {
            tool: "plan.cancel",
            valid: json!({"plan_id": "Q"}),
            invalid: json!({"plan_id": "Q", "reason": "x"}),
            invalid_says: "reason",
            device_scoped: false,
        },
        Sample {
            tool: "plan.pause",
            valid: json!({"plan_id": "Q"}),
            invalid: json!({"plan_id": "Q", "until": "x"}),
            invalid_says: "until",
            device_scoped: false,
        },
        Sample {
            tool: "plan.resume",
            valid: json!({"plan_id": "Q"}),
            invalid: json!({}),
            invalid_says: "plan_id",
            device_scoped: false,
        },
        Sample {
            tool: "plan.abort",
            valid: json!({"plan_id": "Q"}),
            invalid: json!({"plan_id": 7}),
            invalid_says: "/plan_id",
            device_scoped: false,
        },
        Sample {
            tool: "plan.create",
            valid: json!({"title": "name a port", "changes": [{"device_id": d, "menu": "interface",
                "action": "set", "where": {"name": "ether4"}, "properties": {"comment": "printer"}}]}),
            invalid: json!({"title": "x", "changes": []}),
            invalid_says: "/changes",
            device_scoped: true,
        },
        Sample {
            tool: "config.plan_desired_state",
            valid: json!({"device_id": d, "menu": "ip/firewall/address-list", "items": [
                {"list": "sampled", "address": "192.0.2.77", "comment": "desired"}]}),
            invalid: json!({"device_id": d, "menu": "ip/dns/static", "items": "nas.lan"}),
            invalid_says: "/items",
            device_scoped: true,
        },
        Sample {
            tool: "firewall.list_filter_rules",
            valid: json!({"device_id": d, "chain": "input", "limit": 20}),
            invalid: json!({"device_id": d, "limit": 0}),
            invalid_says: "/limit",
            device_scoped: true,
        },
        Sample {
            tool: "routeros.print",
            valid: json!({"device_id": d, "menu": "interface/bridge", "limit": 10}),
            invalid: json!({"device_id": d}),
            invalid_says: "menu",
            device_scoped: true,
        },
    ]
}

/// Replaces the `"D"` placeholder with a device name.
/// Replaces the placeholders: `D` the device under test, `P` a plan applied during the run,
/// `T` its approval token, `Q` a plan left pending, `R` a runbook run in progress, `F` a run
/// that failed in a way a revision can fix, `GAP-FIXED` that revision, `S` a configuration
/// snapshot of the device under test.
fn on(args: &Value, device: &str, plans: &Plans) -> Value {
    match args {
        Value::String(s) if s == "D" => json!(device),
        Value::String(s) if s == "P" => json!(plans.applied),
        Value::String(s) if s == "T" => json!(plans.token),
        Value::String(s) if s == "Q" => json!(plans.pending),
        Value::String(s) if s == "R" => json!(plans.run),
        Value::String(s) if s == "F" => json!(plans.failed_run),
        Value::String(s) if s == "S" => json!(plans.snapshot),
        Value::String(s) if s == "GAP-FIXED" => json!(
            GAP.replace("version: 1.0.0", "version: 1.0.1")
                .replace("{step.1./no_such_field}", "{step.1./device/name}")
        ),
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), on(v, device, plans)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| on(v, device, plans)).collect()),
        other => other.clone(),
    }
}

/// Tools whose well-formed sample is refused by what the sampled plan is: controlling a staged
/// rollout needs one being applied, which no sample call can wait for (the rollout tools are
/// exercised end to end in the tools crate); the refusal must say why.
const ANSWERED_BY_A_REFUSAL: [(&str, &str); 3] = [
    ("plan.pause", "is not a staged rollout"),
    ("plan.resume", "is not a staged rollout"),
    ("plan.abort", "is not a staged rollout"),
];

/// Plans the plan tools' samples work on.
struct Plans {
    applied: String,
    token: String,
    pending: String,
    run: String,
    failed_run: String,
    snapshot: String,
}

/// The id of the device's first configuration snapshot, which the server's backup schedule
/// takes soon after it starts (every device is due then).
async fn first_snapshot(client: &Client, device: &str) -> String {
    for _ in 0..100 {
        let list = client
            .ok("config.list_snapshots", json!({"device_id": device}))
            .await;
        if let Some(id) = list["items"][0]["id"].as_str() {
            return id.to_owned();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no configuration snapshot of {device} within 10 s of starting");
}

/// Waits for the snapshot the server takes after applying `plan` on `device`, marked with it.
async fn snapshot_marked_with(client: &Client, device: &str, plan: &str) {
    for _ in 0..100 {
        let list = client
            .ok("config.list_snapshots", json!({"device_id": device}))
            .await;
        let items = list["items"].as_array().cloned().unwrap_or_default();
        if items
            .iter()
            .any(|i| i["cause"] == "plan" && i["plan_id"] == plan)
        {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("no snapshot of {device} marked with plan {plan} within 10 s of applying it");
}

async fn exercise(client: &Client, up: &str, down: Option<&str>) {
    let listed: BTreeSet<String> = client.tool_names().into_iter().collect();
    let sampled: BTreeSet<String> = samples().iter().map(|s| s.tool.to_owned()).collect();
    assert_eq!(
        listed, sampled,
        "every listed tool has a sample here, and every sample is listed"
    );
    let low = client
        .ok(
            "dns.add_static_entry",
            json!({"device_id": up, "name": "sampled.lan", "address": "10.0.0.7"}),
        )
        .await;
    let pending = client
        .ok(
            "plan.create",
            json!({"title": "a pending plan", "changes": [{"device_id": up, "menu": "ip/firewall/filter",
                "action": "add", "properties": {"chain": "forward", "action": "drop", "comment": "pending"}}]}),
        )
        .await;
    let plans = Plans {
        applied: low["plan_id"].as_str().unwrap().to_owned(),
        token: low["approval"]["approval_token"]
            .as_str()
            .unwrap()
            .to_owned(),
        pending: pending["plan_id"].as_str().unwrap().to_owned(),
        run: client
            .ok(
                "runbook.run",
                json!({"runbook": "high-cpu", "variables": {"device": up}}),
            )
            .await["run_id"]
            .as_str()
            .unwrap()
            .to_owned(),
        failed_run: {
            let failed = client
                .ok(
                    "runbook.run",
                    json!({"runbook": "sampled-gap", "variables": {"device": up}}),
                )
                .await;
            assert_eq!(
                failed["failure"]["type"], "runbook_insufficient",
                "{failed}"
            );
            failed["run_id"].as_str().unwrap().to_owned()
        },
        snapshot: first_snapshot(client, up).await,
    };
    for s in samples() {
        match ANSWERED_BY_A_REFUSAL.iter().find(|(t, _)| *t == s.tool) {
            Some((_, says)) => {
                let message = client.err(s.tool, on(&s.valid, up, &plans)).await;
                assert!(message.contains(says), "{}: {message}", s.tool);
            }
            None => {
                client.ok(s.tool, on(&s.valid, up, &plans)).await;
            }
        }
        let message = client.err(s.tool, on(&s.invalid, up, &plans)).await;
        assert!(
            message.starts_with(&format!("invalid arguments for {}", s.tool))
                && message.contains(s.invalid_says),
            "{}: {message}",
            s.tool
        );
        if let (true, Some(down)) = (s.device_scoped, down) {
            let message = client.err(s.tool, on(&s.valid, down, &plans)).await;
            assert!(
                message.starts_with(&format!("device {down}: ")),
                "{}: a device fault names the device: {message}",
                s.tool
            );
            assert!(
                [
                    "did not answer",
                    "unreachable",
                    "timed out",
                    "refused",
                    "circuit"
                ]
                .iter()
                .any(|cause| message.contains(cause)),
                "{}: a device fault names the cause: {message}",
                s.tool
            );
        }
    }
    snapshot_marked_with(client, up, &plans.applied).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_over_stdio_valid_invalid_and_device_down() {
    let world = World::start(&[Profile::Home, Profile::Home]).await;
    let (up, down) = (world.names[0].clone(), world.names[1].clone());
    world.sim(&down).reboot(Duration::from_secs(600));
    let runbooks = runbook_dir(&world);
    let client = world
        .stdio(&[
            ("ROUTEROS_REQUEST_TIMEOUT_SECONDS", "3"),
            ("ROUTEROS_MCP_RUNBOOK_DIR", runbooks.as_str()),
        ])
        .await;
    exercise(&client, &up, Some(&down)).await;
    let log = client.log.text();
    client.close().await;
    for password in &world.passwords {
        assert!(
            !log.contains(password.as_str()),
            "a password reached the log:\n{log}"
        );
    }
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_tool_over_http_valid_and_invalid() {
    let world = World::start(&[Profile::Home]).await;
    let runbooks = runbook_dir(&world);
    let server = world
        .http_server(&[("ROUTEROS_MCP_RUNBOOK_DIR", runbooks.as_str())])
        .await;
    let client = server.client().await;
    exercise(&client, &world.names[0], None).await;
    client.close().await;
    server.stop().await;
    world.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_devices_and_unknown_tools_say_where_to_look() {
    let world = World::start(&[Profile::Home]).await;
    let client = world.stdio(&[]).await;
    let message = client
        .err(
            "system.get_overview",
            json!({"device_id": "no-such-router"}),
        )
        .await;
    assert!(
        message.contains("no device \"no-such-router\"") && message.contains("device.list"),
        "{message}"
    );
    let e = client
        .service
        .call_tool(rmcp::model::CallToolRequestParams::new(
            "system.reboot_everything",
        ))
        .await
        .unwrap_err();
    assert!(e.to_string().contains("tools/list"), "{e}");
    // The registry id works wherever the name does.
    let device = client
        .ok("device.get", json!({"device_id": world.names[0]}))
        .await;
    let by_id = client
        .ok("system.get_overview", json!({"device_id": device["id"]}))
        .await;
    assert_eq!(by_id["device"]["name"], world.names[0].as_str());
    assert!(text(&client.call("device.list", json!({})).await).contains(&world.names[0]));
    // The usual slip with RouterOS menus gets a precise correction.
    let message = client
        .err(
            "routeros.print",
            json!({"device_id": world.names[0], "menu": "/ip/pool"}),
        )
        .await;
    assert!(
        message.contains(r#"/menu: "/ip/pool" is written without the leading slash: "ip/pool""#),
        "{message}"
    );
    client.close().await;
    world.stop().await;
}
