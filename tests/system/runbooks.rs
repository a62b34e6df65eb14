//! Runbooks through a real MCP client: the operator's folder beside the built-ins (a broken file
//! reported with its line, the others served), published runbooks as prompts with their
//! variables as arguments, device completion for a device variable, a file added while the
//! server runs, and `env.yaml` secrets never shown.

use std::time::{Duration, Instant};

use rmcp::model::{
    ArgumentInfo, CompleteRequestParams, GetPromptRequestParams, ReadResourceRequestParams,
    Reference, ResourceContents,
};
use routeros_sim::profiles::Profile;
use serde_json::json;

use crate::support::{STEP, World};

const OPERATORS: &str = r#"---
name: guest-wifi-check
title: Guest Wi-Fi check
description: Guests cannot reach the internet; checks the guest DNS settings.
version: 1.0.0
status: published
tags: [wifi, guest, dns]
tier: free
risk: low
variables:
  device: {type: device, description: The guest router, required: true}
last_reviewed: 2026-12-01
---
# Guest Wi-Fi check

## Symptom
Guests are connected but cannot open web pages.

## Diagnosis
1. Read the DNS settings, with the guest portal's upstream {env[guest_dns]}.
```tool dns.get_config
{"device_id": "{var.device}"}
```

## Remediation
Ask the network owner before changing the guest portal.

## Verify
```tool dns.get_config
{"device_id": "{var.device}"}
```
```expect
/allow_remote_requests == true
```
"#;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_operators_runbooks_are_served_beside_the_built_ins() {
    let world = World::start(&[Profile::Home]).await;
    let device = world.names[0].clone();
    let dir = world.dir.path().join("runbooks");
    std::fs::create_dir(&dir).unwrap();
    std::fs::write(dir.join("guest-wifi-check.md"), OPERATORS).unwrap();
    std::fs::write(
        dir.join("broken.md"),
        OPERATORS
            .replace("guest-wifi-check", "broken-one")
            .replace("dns.get_config", "dns.no_such_tool"),
    )
    .unwrap();
    let draft = OPERATORS
        .replace("guest-wifi-check", "draft-one")
        .replace("status: published", "status: draft");
    std::fs::write(dir.join("draft-one.md"), draft).unwrap();
    let env_file = world.dir.path().join("env.yaml");
    std::fs::write(
        &env_file,
        "guest_dns: {value: Sekret-Upstream-9, secret: true}\n",
    )
    .unwrap();
    let dir_name = dir.display().to_string();
    let env_name = env_file.display().to_string();
    let client = world
        .stdio(&[
            ("ROUTEROS_MCP_RUNBOOK_DIR", dir_name.as_str()),
            ("ROUTEROS_MCP_RUNBOOK_ENV", env_name.as_str()),
        ])
        .await;
    let log = client.log.text();
    assert!(
        log.contains("runbook not loaded") && log.contains("broken.md"),
        "the broken file is reported at start:\n{log}"
    );

    let list = client.ok("runbook.list", json!({})).await;
    let names: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"guest-wifi-check") && names.contains(&"interface-down"));
    assert!(!names.contains(&"broken-one"));
    let problem = &list["not_loaded"][0];
    assert!(
        problem["file"].as_str().unwrap().ends_with("broken.md")
            && problem["line"].as_u64().unwrap() > 0
            && problem["reason"]
                .as_str()
                .unwrap()
                .contains("dns.no_such_tool"),
        "{list}"
    );

    // Published runbooks are prompts; a draft is not.
    let prompts = client.service.list_all_prompts().await.unwrap();
    let guest = prompts
        .iter()
        .find(|p| p.name == "guest-wifi-check")
        .expect("the operator's runbook is a prompt");
    assert_eq!(guest.arguments.as_ref().unwrap()[0].name, "device");
    assert!(!prompts.iter().any(|p| p.name == "draft-one"));
    let mut args = serde_json::Map::new();
    args.insert("device".into(), json!(device));
    let prompt = client
        .service
        .get_prompt(GetPromptRequestParams::new("guest-wifi-check").with_arguments(args))
        .await
        .unwrap();
    let said = serde_json::to_string(&prompt.messages).unwrap();
    assert!(
        said.contains(&device) && said.contains("dns.get_config") && said.contains("gate"),
        "{said}"
    );
    assert!(
        !said.contains("Sekret-Upstream-9"),
        "a secret env value is never shown"
    );
    let missing = client
        .service
        .get_prompt(GetPromptRequestParams::new("guest-wifi-check"))
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("device"), "{missing}");
    let completed = client
        .service
        .complete(CompleteRequestParams::new(
            Reference::for_prompt("interface-down"),
            ArgumentInfo::new("device", "sim-"),
        ))
        .await
        .unwrap();
    assert_eq!(completed.completion.values, world.names);

    // Runbooks as resources, with their names completed.
    let resources = client.service.list_all_resources().await.unwrap();
    assert!(
        resources
            .iter()
            .any(|r| r.uri == "runbook://routeros-mcp/guest-wifi-check"),
        "{resources:?}"
    );
    let read = client
        .service
        .read_resource(ReadResourceRequestParams::new(
            "runbook://routeros-mcp/interface-down",
        ))
        .await
        .unwrap();
    let ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else {
        panic!("a runbook is text");
    };
    assert!(
        text.contains("## Symptom") && text.starts_with("---"),
        "{text}"
    );
    let unknown = client
        .service
        .read_resource(ReadResourceRequestParams::new(
            "runbook://routeros-mcp/nope",
        ))
        .await
        .unwrap_err();
    assert!(unknown.to_string().contains("runbook.list"), "{unknown}");
    let completed = client
        .service
        .complete(CompleteRequestParams::new(
            Reference::for_resource("runbook://{host}/{runbook_id}"),
            ArgumentInfo::new("runbook_id", "dhcp"),
        ))
        .await
        .unwrap();
    assert_eq!(completed.completion.values, ["dhcp-pool-exhausted"]);

    let dry = client
        .ok(
            "runbook.dry_run",
            json!({"runbook": "guest-wifi-check", "variables": {"device": device}}),
        )
        .await;
    assert!(!dry.to_string().contains("Sekret-Upstream-9"), "{dry}");

    // A runbook added while the server runs is on offer within seconds.
    std::fs::write(
        dir.join("later.md"),
        OPERATORS.replace("guest-wifi-check", "added-later"),
    )
    .unwrap();
    let started = Instant::now();
    loop {
        let found = client
            .ok("runbook.search", json!({"query": "added later guest"}))
            .await;
        if found["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|i| i["name"] == "added-later")
        {
            break;
        }
        assert!(started.elapsed() < STEP, "the new file was never picked up");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    client.close().await;
    world.stop().await;
}

/// `execute-runbook` (any runbook by name), a run's log as a resource, and logs older than
/// `ROUTEROS_MCP_RUNBOOK_LOG_RETENTION_DAYS` deleted when the server starts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn runs_leave_logs_read_as_resources_and_kept_for_their_retention() {
    let world = World::start(&[Profile::Home]).await;
    let device = world.names[0].clone();
    let client = world.stdio(&[]).await;

    let mut prompt = GetPromptRequestParams::new("execute-runbook");
    prompt.arguments = Some(
        json!({"runbookName": "high-cpu", "device": device})
            .as_object()
            .unwrap()
            .clone(),
    );
    let got = client.service.get_prompt(prompt).await.unwrap();
    let said = serde_json::to_string(&got.messages).unwrap();
    assert!(
        said.contains("high-cpu") && said.contains(&device),
        "{said}"
    );
    let missing = client
        .service
        .get_prompt(GetPromptRequestParams::new("execute-runbook"))
        .await
        .unwrap_err();
    assert!(missing.to_string().contains("runbookName"), "{missing}");
    let completed = client
        .service
        .complete(CompleteRequestParams::new(
            Reference::for_prompt("execute-runbook"),
            ArgumentInfo::new("runbookName", "dns"),
        ))
        .await
        .unwrap();
    assert_eq!(completed.completion.values, ["dns-not-resolving"]);

    let run = client
        .ok(
            "runbook.run",
            json!({"runbook": "high-cpu", "variables": {"device": device}, "incident": "INC-7"}),
        )
        .await;
    let run_id = run["run_id"].as_str().unwrap().to_owned();
    let ended = client
        .ok(
            "runbook.record_outcome",
            json!({"run_id": run_id, "outcome": "abandoned", "notes": "looked fine"}),
        )
        .await;
    assert_eq!(ended["status"], "abandoned");
    let uri = format!("runbook-execution-log://high-cpu/logs/{run_id}");
    let read = client
        .service
        .read_resource(ReadResourceRequestParams::new(uri.clone()))
        .await
        .unwrap();
    let ResourceContents::TextResourceContents { text, .. } = &read.contents[0] else {
        panic!("a log is text");
    };
    let log: serde_json::Value = serde_json::from_str(text).unwrap();
    assert_eq!(log["incident"], "INC-7");
    assert_eq!(log["status"], "abandoned");
    assert!(!log["steps"].as_array().unwrap().is_empty(), "{log}");
    let wrong = client
        .service
        .read_resource(ReadResourceRequestParams::new(format!(
            "runbook-execution-log://dns-not-resolving/logs/{run_id}"
        )))
        .await
        .unwrap_err();
    assert!(
        wrong.to_string().contains("not of dns-not-resolving"),
        "{wrong}"
    );
    client.close().await;

    // A second run, so one log can be older than the retention and one younger.
    let client = world.stdio(&[]).await;
    let recent = client
        .ok(
            "runbook.run",
            json!({"runbook": "high-cpu", "variables": {"device": device}}),
        )
        .await["run_id"]
        .as_str()
        .unwrap()
        .to_owned();
    client
        .ok(
            "runbook.record_outcome",
            json!({"run_id": recent, "outcome": "abandoned"}),
        )
        .await;
    client.close().await;
    let store = store::Store::open(
        &store::Target::Sqlite(world.dir.path().join("data/routeros-mcp.sqlite")),
        1,
    )
    .await
    .unwrap();
    for (id, days) in [(&run_id, 400), (&recent, 10)] {
        sqlx::query("UPDATE runbook_runs SET finished_at = $1 WHERE id = $2")
            .bind(store::time::ago(Duration::from_secs(days * 86_400)))
            .bind(id)
            .execute(store.pool())
            .await
            .unwrap();
    }
    let client = world
        .stdio(&[("ROUTEROS_MCP_RUNBOOK_LOG_RETENTION_DAYS", "30")])
        .await;
    let gone = tokio::time::timeout(STEP, async {
        while store.runbook_run(&run_id).await.unwrap().is_some() {
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await;
    assert!(gone.is_ok(), "the 400-day-old log is deleted at start");
    assert!(
        store.runbook_run(&recent).await.unwrap().is_some(),
        "the 10-day-old log is kept"
    );
    let unknown = client
        .service
        .read_resource(ReadResourceRequestParams::new(uri))
        .await
        .unwrap_err();
    assert!(unknown.to_string().contains("no runbook run"), "{unknown}");
    client.close().await;
    store.close().await;
    world.stop().await;
}

/// A client whose model drafts the runbook it is given, fixed (MCP sampling).
#[derive(Clone, Default)]
struct Sampler {
    asked: std::sync::Arc<std::sync::Mutex<Vec<String>>>,
}

#[allow(deprecated)] // sampling, as a 2025-11-25 client offers it
impl rmcp::ClientHandler for Sampler {
    async fn create_message(
        &self,
        params: rmcp::model::CreateMessageRequestParams,
        _context: rmcp::service::RequestContext<rmcp::RoleClient>,
    ) -> Result<rmcp::model::CreateMessageResult, rmcp::ErrorData> {
        let asked: String = params
            .messages
            .iter()
            .flat_map(|m| m.content.iter())
            .filter_map(|b| b.as_text().map(|t| t.text.clone()))
            .collect();
        self.asked.lock().unwrap().push(asked);
        let fixed = GAP
            .replace("version: 1.0.0", "version: 1.0.1")
            .replace("{step.1./no_such_field}", "{step.1./device/name}");
        Ok(rmcp::model::CreateMessageResult::new(
            rmcp::model::SamplingMessage::new(
                rmcp::model::Role::Assistant,
                rmcp::model::SamplingMessageContentBlock::text(format!(
                    "The second step pointed at nothing.\n```markdown\n{fixed}```\n"
                )),
            ),
            "client-model".into(),
        ))
    }

    fn get_info(&self) -> rmcp::model::InitializeRequestParams {
        let mut capabilities = rmcp::model::ClientCapabilities::default();
        capabilities.sampling = Some(rmcp::model::SamplingCapability::default());
        rmcp::model::InitializeRequestParams::new(
            capabilities,
            rmcp::model::Implementation::new("sampling-client", "1"),
        )
    }
}

/// A published runbook whose second step points at a field the first step's result lacks.
const GAP: &str = "---\nname: sampled-gap\ntitle: Sampled gap\ndescription: Reads the overview twice.\nversion: 1.0.0\nstatus: published\ntags: [sample]\ntier: free\nrisk: low\nvariables:\n  device: {type: device, description: The router, required: true}\nlast_reviewed: 2026-12-01\n---\n## Symptom\nSomething looks wrong.\n\n## Diagnosis\n1. Read the overview.\n```tool system.get_overview\n{\"device_id\": \"{var.device}\"}\n```\n2. Read it again by its name.\n```tool system.get_overview\n{\"device_id\": \"{step.1./no_such_field}\"}\n```\n\n## Remediation\nAsk the owner.\n\n## Verify\nCheck again.\n";

/// After an improvable failure, a client that samples is asked for the next version; what its
/// model writes waits for review and is not served.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sampling_clients_model_drafts_the_revision() {
    let world = World::start(&[Profile::Home]).await;
    let dir = world.dir.path().join("runbooks");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("sampled-gap.md"), GAP).unwrap();
    let sampler = Sampler::default();
    let client = world
        .stdio_with(
            sampler.clone(),
            &["serve", "--transport", "stdio"],
            &[("ROUTEROS_MCP_RUNBOOK_DIR", dir.to_str().unwrap())],
        )
        .await;
    let failed = client
        .ok(
            "runbook.run",
            json!({"runbook": "sampled-gap", "variables": {"device": world.names[0]}}),
        )
        .await;
    assert_eq!(failed["failure"]["improvable"], true, "{failed}");
    let store = store::Store::open(
        &store::Target::Sqlite(world.dir.path().join("data/routeros-mcp.sqlite")),
        1,
    )
    .await
    .unwrap();
    let queued = tokio::time::timeout(STEP, async {
        loop {
            let q = store
                .runbook_versions_in(&["pending_review"])
                .await
                .unwrap();
            if let Some(v) = q.into_iter().next() {
                break v;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    })
    .await
    .expect("the client's draft is queued for review");
    assert_eq!(queued.version, "1.0.1");
    assert_eq!(
        queued.proposed_by.as_deref(),
        Some("sampling:sampling-client")
    );
    let asked = sampler.asked.lock().unwrap().join("\n");
    assert!(
        asked.contains("name: sampled-gap") && asked.contains("no_such_field"),
        "{asked}"
    );
    let got = client
        .ok("runbook.get", json!({"runbook": "sampled-gap"}))
        .await;
    assert_eq!(got["version"], "1.0.0", "not served before review");
    let mut prompt = GetPromptRequestParams::new("sampled-gap");
    prompt.arguments = Some(
        json!({"device": world.names[0]})
            .as_object()
            .unwrap()
            .clone(),
    );
    let prompt = client.service.get_prompt(prompt).await.unwrap();
    assert_eq!(
        prompt.description.as_deref(),
        Some("Runbook sampled-gap 1.0.0"),
        "the prompt is the version served, not the proposal"
    );
    client.close().await;
    store.close().await;
    world.stop().await;
}
