//! Parsing and validation: what a good runbook becomes, and every kind of mistake reported with
//! its file, line and a reason that says what is allowed.

use runbook::{Problem, Runbook, Section, StepKind, VarType, validate};
use serde_json::json;

use crate::{MINIMAL, catalog};

fn problems(text: &str) -> Vec<Problem> {
    match validate::check("t.md", text, &catalog()) {
        Ok(_) => Vec::new(),
        Err(p) => p,
    }
}

/// Asserts one problem mentions `reason` on `line`.
#[track_caller]
fn reported(text: &str, line: usize, reason: &str) {
    let p = problems(text);
    assert!(
        p.iter()
            .any(|p| p.line == line && p.reason.contains(reason) && p.file == "t.md"),
        "expected line {line}: {reason:?} in {p:#?}"
    );
}

#[test]
fn a_full_runbook_parses_into_meta_symptom_and_numbered_steps_with_lines() {
    let text = r#"---
name: dhcp-pool-exhausted
title: DHCP pool exhausted
description: Clients get no address.
version: 1.2.0-rc.1+build.5
status: published
tags: [dhcp, lan]
tier: basic
risk: low
variables:
  device: {type: device, description: The router, required: true}
  pool: {type: string, default: dhcp_pool1, description: The pool}
  count: {type: integer, default: 3, description: Pings}
  verbose:
    type: boolean
    description: Say more
last_reviewed: 2026-11-01
cooldown: 1h30m
---
# DHCP pool exhausted

## Symptom
Clients on the LAN get no address.
- Only new clients.

## Diagnosis
1. prose step without a tool.
2. List the leases.
```tool dhcp.list_leases
{"device_id": "{var.device}", "limit": "{var.count}"}
```
```expect
/total < 250
# a comment
/items contains {"status": "bound"}
```

## Remediation
Widen the pool {var.pool}:

```sh
/ip pool set dhcp_pool1 ranges=...
```

## Verify
```tool diagnostics.ping
{"device_id": "{var.device}", "address": "192.0.2.1", "count": "{var.count}"}
```
```expect
/summary/received > 0
```
"#;
    let r = validate::check("runbooks/x.md", text, &catalog()).unwrap();
    let m = &r.meta;
    assert_eq!(m.name, "dhcp-pool-exhausted");
    assert_eq!(m.version, "1.2.0-rc.1+build.5");
    assert_eq!(m.tags, ["dhcp", "lan"]);
    assert_eq!(m.cooldown.as_ref().unwrap().seconds, 5400);
    assert_eq!(m.variables.len(), 4);
    assert_eq!(m.variables[2].var_type, VarType::Integer);
    assert_eq!(m.variables[2].default, Some(json!(3)));
    assert_eq!(m.variables[3].line, 14);
    assert!(!m.variables[3].required);
    assert_eq!(r.heading.as_deref(), Some("DHCP pool exhausted"));
    assert_eq!(
        r.symptom,
        "Clients on the LAN get no address.\n- Only new clients."
    );
    let kinds: Vec<(usize, Section, usize)> = r
        .steps
        .iter()
        .map(|s| (s.number, s.section, s.line))
        .collect();
    assert_eq!(
        kinds,
        [
            (1, Section::Diagnosis, 27),
            (2, Section::Diagnosis, 28),
            (3, Section::Remediation, 39),
            (4, Section::Remediation, 41),
            (5, Section::Verify, 46),
        ]
    );
    let StepKind::Tool(t) = &r.steps[1].kind else {
        panic!()
    };
    assert_eq!(t.tool, "dhcp.list_leases");
    assert_eq!(t.line, 29);
    assert_eq!(t.description.as_deref(), Some("List the leases."));
    assert_eq!(t.expect.len(), 2);
    assert_eq!(t.expect[1].line, 35);
    assert!(t.is_gate());
    assert!(matches!(&r.steps[3].kind, StepKind::Prose { text } if text.starts_with("```sh")));
    assert_eq!(r.hash.len(), 64);
}

#[test]
fn front_matter_mistakes_are_reported_with_their_lines() {
    let bad = MINIMAL
        .replace("name: minimal", "name: Minimal_Runbook")
        .replace("version: 1.0.0", "version: 1.0")
        .replace("status: draft", "status: live")
        .replace("tier: free", "tier: gold")
        .replace("risk: low", "risk: tiny\nowner: me")
        .replace(
            "last_reviewed: 2026-12-06",
            "last_reviewed: 2026-02-30\ncooldown: soon",
        );
    let p = problems(&bad);
    for (line, reason) in [
        (
            2,
            "name \"Minimal_Runbook\" is not allowed: 1-64 characters of lowercase letters",
        ),
        (5, "not a semantic version MAJOR.MINOR.PATCH"),
        (
            6,
            "\"live\" is not a status; allowed: draft | published | deprecated",
        ),
        (8, "allowed: free | basic | professional"),
        (
            9,
            "\"tiny\" is not a risk; allowed: low | medium | high | critical",
        ),
        (
            10,
            "unknown field \"owner\"; the front matter takes name, title",
        ),
        (13, "not a date YYYY-MM-DD"),
        (14, "cooldown must be a duration such as 30s"),
    ] {
        assert!(
            p.iter()
                .any(|x| x.line == line && x.reason.contains(reason)),
            "line {line}: {reason:?} not in {p:#?}"
        );
    }
}

#[test]
fn variable_mistakes_are_reported() {
    let with = |vars: &str| {
        MINIMAL.replace(
            "  device: {type: device, description: The router, required: true}",
            vars,
        )
    };
    reported(
        &with("  device: {type: router, description: The router, required: true}"),
        11,
        "\"router\" is not a variable type; allowed: string | integer | number | boolean | device | address | interface",
    );
    reported(
        &with(
            "  device: {type: device, description: The router, required: true}\n  count: {type: integer, default: many, description: Pings}",
        ),
        12,
        "variable count: default \"many\": expected a whole number",
    );
    reported(
        &with("  device: {type: device, description: The router, required: yes}"),
        11,
        "required must be true or false",
    );
    reported(
        &with("  device: {type: device, description: The router, required: true, default: r1}"),
        11,
        "is required and has a default",
    );
    reported(
        &with("  Device: {type: device, description: The router}"),
        11,
        "variable name \"Device\" is not allowed",
    );
    reported(
        &with("  device: {type: device, required: true}"),
        11,
        "needs a description",
    );
    reported(
        &with("  device: {type: device, description: The router, required: true, colour: red}"),
        11,
        "unknown field \"colour\"; a variable takes type, description",
    );
    reported(
        &with("  device: {type: address, description: The router, default: 10.0.0.300}"),
        11,
        "an IPv4 or IPv6 address",
    );
}

#[test]
fn body_mistakes_are_reported_with_their_lines() {
    // Missing sections, in the wrong order, unknown.
    let no_verify = MINIMAL.split("## Verify").next().unwrap().to_owned();
    reported(&no_verify, 0, "section ## Verify is missing");
    let swapped = MINIMAL
        .replace("## Remediation\nFix it by hand.\n", "")
        .replace(
            "## Symptom",
            "## Remediation\nFix it by hand.\n\n## Symptom",
        );
    reported(
        &swapped,
        19,
        "comes after ## Remediation; the order is Symptom, Diagnosis, Remediation, Verify",
    );
    reported(
        &MINIMAL.replace("## Remediation", "## Fix"),
        25,
        "unknown section \"Fix\"; a runbook has ## Symptom, ## Diagnosis, ## Remediation and ## Verify",
    );
    reported(
        &MINIMAL.replace("Something is wrong.", ""),
        16,
        "## Symptom is empty",
    );
    // Front matter fences.
    reported(
        &MINIMAL.replacen("---\n", "", 1),
        1,
        "starts with YAML front matter",
    );
    // An expect block with nothing before it, and a bad expect line.
    reported(
        &MINIMAL.replace("Fix it by hand.", "```expect\n/x == 1\n```"),
        26,
        "an expect block must directly follow a ```tool block",
    );
    reported(
        &MINIMAL.replace(
            "/cpu/load_percent < 80",
            "/cpu/load_percent about 80\ncpu < 80\n/x < \"high\"\n/x == up",
        ),
        33,
        "unknown operator \"about\"",
    );
    let p = problems(&MINIMAL.replace(
        "/cpu/load_percent < 80",
        "/cpu/load_percent about 80\ncpu < 80\n/x < \"high\"\n/x == up",
    ));
    assert!(
        p.iter()
            .any(|x| x.line == 34 && x.reason.contains("does not start with a JSON pointer"))
    );
    assert!(
        p.iter()
            .any(|x| x.line == 35 && x.reason.contains("< compares numbers"))
    );
    assert!(
        p.iter()
            .any(|x| x.line == 36 && x.reason.contains("strings need double quotes"))
    );
    // Tool blocks: bad JSON, not an object, bad name, in the Symptom, unclosed.
    reported(
        &MINIMAL.replace(
            "{\"device_id\": \"{var.device}\"}\n```\n\n## Remediation",
            "{\"device_id\": \n  oops}\n```\n\n## Remediation",
        ),
        23,
        "the arguments of system.get_overview are not valid JSON",
    );
    reported(
        &MINIMAL.replacen("{\"device_id\": \"{var.device}\"}", "[1, 2]", 1),
        22,
        "must be a JSON object",
    );
    reported(
        &MINIMAL.replacen("```tool system.get_overview", "```tool System Overview", 1),
        21,
        "needs a tool name category.action",
    );
    reported(
        &MINIMAL.replace(
            "Something is wrong.",
            "```tool system.get_overview\n{}\n```",
        ),
        17,
        "tool steps belong under ## Diagnosis, ## Remediation or ## Verify",
    );
    reported(
        &format!("{}```tool system.get_overview\n{{}}\n", MINIMAL),
        35,
        "not closed",
    );
    // No steps at all.
    let empty = "---\nname: x\ntitle: X\ndescription: X.\nversion: 1.0.0\nstatus: draft\ntags: []\ntier: free\nrisk: low\nlast_reviewed: 2026-12-06\n---\n## Symptom\nBad.\n## Diagnosis\n## Remediation\n## Verify\n";
    reported(empty, 0, "the runbook has no steps");
    // Text before the first section.
    reported(
        &MINIMAL.replace("# Minimal runbook", "Intro text."),
        14,
        "text before the first section",
    );
}

#[test]
fn catalog_problems_unknown_tools_schemas_tiers_and_sections() {
    reported(
        &MINIMAL.replacen("system.get_overview", "system.get_everything", 1),
        21,
        "unknown tool \"system.get_everything\"; the system tools are system.get_clock, system.get_health, system.get_overview",
    );
    reported(
        &MINIMAL.replacen("system.get_overview", "vpn.list_tunnels", 1),
        21,
        "unknown tool \"vpn.list_tunnels\"; tool categories are config, device, dhcp",
    );
    reported(
        &MINIMAL.replacen(
            "{\"device_id\": \"{var.device}\"}",
            "{\"device_id\": \"{var.device}\", \"colour\": \"red\"}",
            1,
        ),
        21,
        "the arguments of system.get_overview do not fit its input schema (with the example values device=r1): /: Additional properties are not allowed ('colour' was unexpected)",
    );
    let ping = MINIMAL.replace(
        "Fix it by hand.",
        "```tool diagnostics.ping\n{\"device_id\": \"{var.device}\", \"address\": \"192.0.2.1\", \"count\": 99}\n```",
    );
    reported(&ping, 26, "/count: 99 is greater than the maximum of 10");
    let write = MINIMAL.replace(
        "Fix it by hand.",
        "```tool interface.plan_state\n{\"device_id\": \"{var.device}\", \"interface\": \"ether1\", \"state\": \"enabled\"}\n```",
    );
    reported(
        &write,
        26,
        "interface.plan_state is a professional tool, above the runbook's tier free; set tier: professional",
    );
    let in_diagnosis = MINIMAL.replace("tier: free", "tier: basic").replacen(
        "```tool system.get_overview\n{\"device_id\": \"{var.device}\"}",
        "```tool dns.add_static_entry\n{\"device_id\": \"{var.device}\", \"name\": \"nas.lan\", \"address\": \"192.0.2.9\"}",
        1,
    );
    reported(
        &in_diagnosis,
        21,
        "dns.add_static_entry changes configuration; write steps belong under ## Remediation (## Diagnosis only reads)",
    );
    for tool in ["plan.apply", "runbook.dry_run"] {
        let step = MINIMAL.replace("tier: free", "tier: basic").replace(
            "Fix it by hand.",
            &format!("```tool {tool}\n{{\"plan_id\": \"x\"}}\n```"),
        );
        reported(
            &step,
            26,
            &format!(
                "{tool} cannot be a runbook step: a run's writes are approved and applied through the run's own plan"
            ),
        );
    }
}

#[test]
fn placeholder_problems() {
    reported(
        &MINIMAL.replacen("{var.device}", "{var.router}", 1),
        21,
        "unknown variable {var.router}; this runbook declares device",
    );
    reported(
        &MINIMAL.replacen("{var.device}", "{vars.device}", 1),
        21,
        "\"{vars.device}\" is not a placeholder; placeholders are {var.NAME}, {env[KEY]} and {step.N./JSON/POINTER}",
    );
    reported(
        &MINIMAL.replace("Look at the router.", "Look at {var.device"),
        20,
        "is not closed",
    );
    // A step may only use the result of an earlier tool step.
    reported(
        &MINIMAL.replacen("{var.device}", "{step.2./device/name}", 1),
        21,
        "{step.2./device/name} refers to step 2, which is not a tool step before this one (step 1)",
    );
    reported(
        &MINIMAL.replace("Fix it by hand.", "Fix {step.2./x} by hand."),
        26,
        "which is not a tool step before this one",
    );
    reported(
        &MINIMAL.replacen(
            "{\"device_id\": \"{var.device}\"}",
            "{\"{var.device}\": \"x\"}",
            1,
        ),
        21,
        "placeholders go in argument values, not in keys",
    );
    // Braces that are not placeholders are text.
    let promql = MINIMAL.replace(
        "Fix it by hand.",
        "Watch `mcp_tool_requests_total{status=\"error\"}` and {\"json\": 1}.",
    );
    assert!(problems(&promql).is_empty(), "{:?}", problems(&promql));
}

#[test]
fn whole_string_placeholders_of_numbers_are_checked_as_numbers() {
    let text = MINIMAL
        .replace(
            "  device: {type: device, description: The router, required: true}",
            "  device: {type: device, description: The router, required: true}\n  count: {type: integer, default: 3, description: Pings}\n  target: {type: address, description: Where, required: true}",
        )
        .replace(
            "Fix it by hand.",
            "```tool diagnostics.ping\n{\"device_id\": \"{var.device}\", \"address\": \"{var.target}\", \"count\": \"{var.count}\"}\n```",
        );
    assert!(problems(&text).is_empty(), "{:?}", problems(&text));
    // A number variable where an integer is needed fails with the example value.
    let wrong = text.replace(
        "count: {type: integer, default: 3",
        "count: {type: number, default: 2.5",
    );
    reported(&wrong, 28, "/count: 2.5 is not of type \"integer\"");
    // A string placeholder inside a longer string stays a string.
    let mixed = text.replace("\"{var.count}\"", "\"x{var.count}\"");
    reported(&mixed, 28, "/count: \"x3\" is not of type \"integer\"");
}

#[test]
fn adversarial_sizes_nesting_aliases_and_control_characters() {
    // A file over 256 KiB is refused before it is parsed.
    let huge = format!("{MINIMAL}\n{}", "x".repeat(runbook::MAX_FILE_BYTES));
    let p = Runbook::parse("t.md", &huge).unwrap_err();
    assert_eq!(p.len(), 1);
    assert_eq!(p[0].line, 0);
    assert!(p[0].reason.contains("at most 262144 (256 KiB)"), "{p:?}");
    // Deep YAML stops at the depth limit.
    let deep = MINIMAL.replace(
        "tags: [test]",
        &format!("tags: {}{}", "[".repeat(20), "]".repeat(20)),
    );
    reported(&deep, 7, "nested deeper than 16 levels");
    let deeper = MINIMAL.replace(
        "tags: [test]",
        &format!("tags: {}{}", "[".repeat(100_000), "]".repeat(100_000)),
    );
    reported(&deeper, 7, "front matter: ");
    let deep_block: String = (0..200)
        .map(|i| format!("{}k{i}:\n", "  ".repeat(i)))
        .collect();
    let p =
        problems(&MINIMAL.replace("tags: [test]\n", &format!("tags: [test]\nx:\n{deep_block}")));
    assert!(
        p.iter()
            .any(|x| x.line == 25 && x.reason.contains("nested deeper than 16 levels")),
        "{p:?}"
    );
    // Aliases (expansion bombs) and anchors are refused.
    let bomb = MINIMAL.replace(
        "tags: [test]",
        "tags: &a [test, test, test, test, test, test, test, test, test]\nb: [*a, *a, *a, *a, *a, *a, *a, *a, *a]",
    );
    reported(&bomb, 7, "YAML anchors (&name) are not allowed");
    // Control characters in a name, a title or the body: reported, and escaped in the reason.
    let p = problems(&MINIMAL.replace("name: minimal", "name: \"mini\\u001b[2Jmal\""));
    assert!(
        p.iter().any(|x| x.line == 2 && x.reason.contains("name contains the control character U+001B (ESC, a terminal escape) at position 4")),
        "{p:?}"
    );
    assert!(
        p.iter()
            .all(|x| domain::text::find_control(&x.reason).is_none())
    );
    let p = problems(&MINIMAL.replace(
        "Something is wrong.",
        "Something \u{1b}[2J\u{202e}is wrong.",
    ));
    assert!(
        p.iter()
            .any(|x| x.line == 17 && x.reason.contains("U+001B (ESC, a terminal escape)")),
        "{p:?}"
    );
    let p = problems(&MINIMAL.replace(
        "title: Minimal runbook",
        "title: \"Minimal\\r\\nstatus: published\"",
    ));
    assert!(
        p.iter().any(|x| x.line == 3
            && x.reason
                .contains("title contains the control character U+000D")),
        "{p:?}"
    );
    // Control characters written as JSON escapes in arguments are refused too.
    let escaped = MINIMAL.replacen(
        "\"{var.device}\"}",
        "\"{var.device}\", \"x\\u001b[2J\": 1}",
        1,
    );
    let p = problems(&escaped);
    assert!(
        p.iter().any(|x| x.line == 21 && x.reason.starts_with("the control character U+001B (ESC, a terminal escape) at position 1 in \"x\\e[2J\"")),
        "{p:?}"
    );
    // Tabs and CRLF line endings are fine.
    let crlf = MINIMAL
        .replace("Something is wrong.", "Something\tis wrong.")
        .replace('\n', "\r\n");
    assert!(problems(&crlf).is_empty(), "{:?}", problems(&crlf));
    // Not UTF-8 and unreadable files are reported by the index (see index.rs).
}

#[test]
fn every_problem_reports_all_at_once() {
    let bad = MINIMAL
        .replace("status: draft", "status: live")
        .replacen("system.get_overview", "system.nothing", 1)
        .replace("## Verify", "## Check");
    let p = problems(&bad);
    // Parse problems come first; the catalog is consulted only for a runbook that parses.
    assert!(p.len() >= 3, "{p:#?}");
    assert!(p.iter().all(|x| x.file == "t.md"));
    let text = p
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    assert!(text.contains("t.md:6: status:"), "{text}");
}
