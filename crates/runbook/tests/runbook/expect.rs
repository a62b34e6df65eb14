//! Evaluating expect conditions on tool results.

use runbook::expect::{evaluate, parse_block, parse_line};
use runbook::{Op, Redactor};
use serde_json::json;

fn result() -> serde_json::Value {
    json!({
        "device": {"name": "r1"},
        "summary": {"sent": 4, "received": 3, "loss_percent": 25.0, "avg_ms": null},
        "interface": {"name": "ether2", "running": false, "comment": "uplink to core"},
        "items": [{"status": "bound", "address": "10.0.0.5"}, {"status": "waiting"}],
        "servers": ["1.1.1.1", "9.9.9.9"],
        "text": "password=hunter2 and more",
        "a/b": {"c~d": 1}
    })
}

fn conditions(text: &str) -> Vec<runbook::Condition> {
    parse_block(text, 10).unwrap()
}

#[test]
fn every_operator_evaluates() {
    let holds = [
        "/summary/received > 0",
        "/summary/received >= 3",
        "/summary/loss_percent < 50",
        "/summary/loss_percent <= 25",
        "/summary/sent == 4.0",
        "/summary/avg_ms == null",
        "/interface/running == false",
        "/interface/name != \"ether1\"",
        "/interface/comment contains \"core\"",
        "/servers contains \"9.9.9.9\"",
        "/items contains {\"status\": \"waiting\"}",
        "/device contains \"name\"",
        "/items/0/address == \"10.0.0.5\"",
        "/a~1b/c~0d == 1",
    ];
    for line in holds {
        let o = evaluate(&conditions(line), &result(), &Redactor::new());
        assert!(o.passed, "{line}: {o}");
    }
    let fails = [
        "/summary/received > 3",
        "/interface/running == true",
        "/servers contains \"8.8.8.8\"",
        "/interface/name < 5",
        "/summary/received contains 3",
        "/missing == null",
        "/items/7/status == \"bound\"",
    ];
    for line in fails {
        let o = evaluate(&conditions(line), &result(), &Redactor::new());
        assert!(!o.passed, "{line} should fail");
    }
}

#[test]
fn the_outcome_names_the_failed_line_and_the_value_found() {
    let c = conditions(
        "/summary/received > 0\n\n/interface/running == true\n/nothing == 1\n/interface/name < 3",
    );
    let o = evaluate(&c, &result(), &Redactor::new());
    assert!(!o.passed);
    let failed: Vec<(usize, &str, Option<&str>)> = o
        .failures()
        .map(|c| (c.line, c.actual.as_str(), c.note.as_deref()))
        .collect();
    assert_eq!(
        failed,
        [
            (12, "false", None),
            (13, "(nothing)", Some("nothing at /nothing")),
            (14, "\"ether2\"", Some("not a number")),
        ]
    );
    assert_eq!(o.checks.len(), 4);
    let text = o.to_string();
    assert!(
        text.starts_with("line 12: /interface/running == true does not hold (found false)"),
        "{text}"
    );
}

#[test]
fn found_values_are_redacted_escaped_and_cut_short() {
    let redactor = Redactor::with(["hunter2"]);
    let o = evaluate(&conditions("/text == \"x\""), &result(), &redactor);
    assert_eq!(o.checks[0].actual, "\"password=(hidden) and more\"");
    // A condition that quotes the secret does not print it either.
    let o = evaluate(
        &conditions("/text contains \"hunter2\""),
        &result(),
        &redactor,
    );
    assert!(o.passed);
    assert!(!o.to_string().contains("hunter2"));
    assert!(!o.checks[0].condition.contains("hunter2"));
    let long = json!({"v": "x".repeat(5000), "e": "a\u{1b}[2Jb"});
    let o = evaluate(&conditions("/v == 1\n/e == 1"), &long, &Redactor::new());
    assert_eq!(
        o.checks[0].actual.chars().count(),
        runbook::expect::MAX_ACTUAL + 1
    );
    assert!(o.checks[0].actual.ends_with('…'));
    assert_eq!(o.checks[1].actual, "\"a\\\\u001b[2Jb\"");
    assert!(domain::text::find_control(&o.to_string()).is_none());
}

#[test]
fn lines_are_parsed_strictly() {
    let c = parse_line("/summary/received   >=   2", 3).unwrap();
    assert_eq!(
        (c.pointer.as_str(), c.op, c.literal.clone(), c.line),
        ("/summary/received", Op::Ge, json!(2), 3)
    );
    assert_eq!(c.to_string(), "/summary/received >= 2");
    for (line, reason) in [
        ("summary/received > 0", "does not start with a JSON pointer"),
        ("/x ~= 1", "unknown operator \"~=\""),
        ("/x ==", "nothing to compare with"),
        ("/x == up", "strings need double quotes"),
        ("/x > \"3\"", "> compares numbers"),
        ("/a~2 == 1", "~0 for ~ and ~1 for /"),
    ] {
        let e = parse_line(line, 1).unwrap_err();
        assert!(e.contains(reason), "{line}: {e}");
    }
    // A whole placeholder may stand for a number; it is filled before evaluation.
    assert!(parse_line("/cpu/load_percent < \"{var.threshold}\"", 1).is_ok());
    let errors = parse_block("# only a comment\n", 5).unwrap_err();
    assert!(errors[0].1.contains("at least one condition"));
}
