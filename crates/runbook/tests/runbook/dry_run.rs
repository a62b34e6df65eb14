//! The dry run of a runbook that mixes reads and writes: every step in order, read or write,
//! approval, gates, and which writes can be planned up front.

use std::collections::BTreeMap;

use runbook::plan::Planned;
use runbook::{Access, Env, Inputs, PlanError, SubstituteError, dry_run, validate};
use serde_json::json;

use crate::catalog;

const MIXED: &str = r#"---
name: move-dns-name
title: Move a DNS name to a new address
description: Points a local name at a new address and checks it resolves.
version: 2.0.0
status: published
tags: [dns]
tier: basic
risk: low
variables:
  device: {type: device, description: The router, required: true}
  host: {type: string, description: The name, required: true}
  address: {type: address, description: The new address, required: true}
  ttl: {type: string, description: Optional TTL}
last_reviewed: 2026-12-06
---
# Move a DNS name

## Symptom
The name {var.host} points to the old address.

## Diagnosis
1. Find the entry.
```tool dns.list_static
{"device_id": "{var.device}", "name_contains": "{var.host}"}
```
2. Check the resolver, with the API token {env[api_token]} at hand.
```tool dns.get_config
{"device_id": "{var.device}"}
```

## Remediation
1. Add the new entry.
```tool dns.add_static_entry
{"device_id": "{var.device}", "name": "{var.host}", "address": "{var.address}", "comment": "moved by {env[operator]}"}
```
2. Remove the old entry found in step 1.
```tool dns.remove_static_entry
{"device_id": "{var.device}", "entry_id": "{step.1./items/0/id}"}
```
3. Add an alias with the chosen TTL.
```tool dns.add_static_entry
{"device_id": "{var.device}", "name": "www.{var.host}", "cname": "{var.host}", "ttl": "{var.ttl}"}
```
4. Ask the owner to confirm.

## Verify
```tool diagnostics.ping
{"device_id": "{var.device}", "address": "{var.host}", "count": 2}
```
```expect
/summary/received > 0
/device/name == "{var.device}"
```
"#;

fn inputs(r: &runbook::Runbook) -> Inputs {
    let given: BTreeMap<String, serde_json::Value> = [
        ("device", json!("core-1")),
        ("host", json!("nas.lan")),
        ("address", json!("192.0.2.7")),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v))
    .collect();
    Inputs::resolve(r, &given).unwrap()
}

#[test]
fn a_mixed_runbook_plans_reads_writes_gates_and_up_front_changes() {
    let catalog = catalog();
    let r = validate::check("t.md", MIXED, &catalog).unwrap();
    let mut env = Env::new();
    env.insert("api_token", "tok-SECRET-1", true);
    env.insert("operator", "alice", false);
    let plan = dry_run(&r, &catalog, &inputs(&r), Some(&env)).unwrap();
    assert_eq!(
        (plan.runbook.as_str(), plan.version.as_str()),
        ("move-dns-name", "2.0.0")
    );
    assert_eq!(plan.hash, r.hash);
    assert_eq!(plan.steps.len(), 7);
    let summary: Vec<(usize, Option<Access>, bool)> = plan
        .steps
        .iter()
        .map(|s| match &s.action {
            Planned::Prose { .. } => (s.number, None, false),
            Planned::Tool {
                access,
                needs_approval,
                ..
            } => (s.number, Some(*access), *needs_approval),
        })
        .collect();
    assert_eq!(
        summary,
        [
            (1, Some(Access::Read), false),
            (2, Some(Access::Read), false),
            (3, Some(Access::Write), true),
            (4, Some(Access::Write), true),
            (5, Some(Access::Write), true),
            (6, None, false),
            (7, Some(Access::Read), false),
        ]
    );
    assert_eq!(plan.up_front_writes, [3], "known from the variables alone");
    assert_eq!(
        plan.deferred_writes,
        [4, 5],
        "step 4 needs step 1's result, step 5 the TTL"
    );
    assert_eq!(plan.gates, [7]);
    let Planned::Tool {
        arguments,
        description,
        ..
    } = &plan.steps[2].action
    else {
        panic!()
    };
    assert_eq!(
        arguments,
        &json!({"device_id": "core-1", "name": "nas.lan", "address": "192.0.2.7", "comment": "moved by alice"})
    );
    assert_eq!(description.as_deref(), Some("Add the new entry."));
    let Planned::Tool {
        arguments,
        depends_on,
        tier,
        ..
    } = &plan.steps[3].action
    else {
        panic!()
    };
    assert_eq!(
        arguments["entry_id"], "{step.1./items/0/id}",
        "left as written until step 1 ran"
    );
    assert_eq!(depends_on, &[1]);
    assert_eq!(tier.as_str(), "basic");
    let Planned::Tool {
        needs_inputs,
        up_front,
        ..
    } = &plan.steps[4].action
    else {
        panic!()
    };
    assert_eq!(needs_inputs, &["ttl"]);
    assert!(!up_front);
    let Planned::Tool { gate, .. } = &plan.steps[6].action else {
        panic!()
    };
    assert_eq!(
        gate,
        &["/summary/received > 0", "/device/name == \"core-1\""]
    );

    // The secret never appears; the rendering says what needs approval and when.
    let text = plan.to_string();
    let json = serde_json::to_string(&plan).unwrap();
    assert!(!text.contains("tok-SECRET-1") && !json.contains("tok-SECRET-1"));
    assert!(
        text.contains("with the API token (hidden) at hand"),
        "{text}"
    );
    assert!(
        text.contains("WRITE (needs approval; planned up front) dns.add_static_entry"),
        "{text}"
    );
    assert!(text.contains("WRITE (needs approval; planned once it has the result of step 1) dns.remove_static_entry"), "{text}");
    assert!(
        text.contains("planned once it has a value for ttl"),
        "{text}"
    );
    assert!(
        text.contains("Writes gathered into one plan up front: step 3"),
        "{text}"
    );
    assert!(text.contains("expect /summary/received > 0"), "{text}");
    assert_eq!(json.matches("\"kind\":\"tool\"").count(), 6, "{json}");
}

#[test]
fn with_every_input_the_writes_without_step_results_are_up_front() {
    let catalog = catalog();
    let r = validate::check("t.md", MIXED, &catalog).unwrap();
    let mut given: BTreeMap<String, serde_json::Value> = BTreeMap::new();
    for (k, v) in [
        ("device", "core-1"),
        ("host", "nas.lan"),
        ("address", "192.0.2.7"),
        ("ttl", "1h"),
    ] {
        given.insert(k.into(), json!(v));
    }
    let inputs = Inputs::resolve(&r, &given).unwrap();
    let mut env = Env::new();
    env.insert("api_token", "t", true);
    env.insert("operator", "bob", false);
    let plan = dry_run(&r, &catalog, &inputs, Some(&env)).unwrap();
    assert_eq!(plan.up_front_writes, [3, 5]);
    assert_eq!(plan.deferred_writes, [4]);
    // Without env.yaml the env placeholders cannot be filled, and the error says which.
    let err = dry_run(&r, &catalog, &inputs, None).unwrap_err();
    assert_eq!(
        err,
        PlanError::Substitute {
            step: 2,
            source: SubstituteError::UnknownEnv {
                key: "api_token".into(),
                known: vec![]
            }
        }
    );
}

#[test]
fn a_built_in_dry_run_is_read_only_until_remediation() {
    let catalog = catalog();
    let index = runbook::Index::load(catalog.clone(), None);
    let r = &index.get("interface-down").unwrap().runbook;
    let given = BTreeMap::from([
        ("device".to_owned(), json!("edge-1")),
        ("interface".to_owned(), json!("ether5")),
    ]);
    let plan = dry_run(r, &catalog, &Inputs::resolve(r, &given).unwrap(), None).unwrap();
    for s in &plan.steps {
        if let Planned::Tool { access, tool, .. } = &s.action {
            assert_eq!(
                *access == Access::Write,
                s.section == runbook::Section::Remediation,
                "{tool} in {}",
                s.section
            );
        }
    }
    assert_eq!(plan.up_front_writes.len(), 1);
    assert!(plan.to_string().contains("\"interface\":\"ether5\""));
}
