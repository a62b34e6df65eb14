//! Token budgets on the `edge` profile's 5,000-rule firewall: a result over the error threshold
//! is cut to fit with a cursor and a note (never an error, never the whole rule set), and
//! following the cursors walks every rule exactly once, in order.

use routeros_sim::profiles::Profile;
use serde_json::json;

use crate::support::{World, meta};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_cursor_walks_a_cut_firewall_exactly_once() {
    let world = World::start(&[Profile::Edge]).await;
    let device = world.names[0].clone();
    let (warning, error) = (1_000u64, 4_000u64);
    let server = world
        .http_server(&[
            ("MCP_TOKEN_BUDGET_WARNING_THRESHOLD", &warning.to_string()),
            ("MCP_TOKEN_BUDGET_ERROR_THRESHOLD", &error.to_string()),
        ])
        .await;
    let client = server.client().await;

    let mut positions = Vec::new();
    let mut ids = std::collections::HashSet::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0u32;
    let mut total = None;
    loop {
        let mut args = json!({"device_id": device, "limit": 1000, "fields": ["position", "chain", "action", "comment"]});
        if let Some(c) = &cursor {
            args["cursor"] = json!(c);
        }
        // An oversized page is cut, not refused (`ok_result` fails the test on an error).
        let (page, r) = client.ok_result("firewall.list_filter_rules", args).await;
        let tokens = meta(&r, "estimated_tokens").as_u64().unwrap();
        assert!(tokens <= error, "page {pages}: {tokens} tokens > {error}");
        let items = page["items"].as_array().unwrap();
        assert!(!items.is_empty());
        assert_eq!(page["returned"].as_u64().unwrap() as usize, items.len());
        let t = page["total"].as_u64().unwrap();
        assert_eq!(
            *total.get_or_insert(t),
            t,
            "the total is stable across pages"
        );
        for item in items {
            positions.push(item["position"].as_u64().unwrap());
            assert!(
                ids.insert(item["id"].as_str().unwrap().to_owned()),
                "rule {} came twice",
                item["id"]
            );
        }
        pages += 1;
        if pages == 1 {
            assert!(
                items.len() < 1000,
                "the first 1,000-rule page does not fit and is cut"
            );
            assert_eq!(page["truncated"], true);
            let note = page["note"].as_str().unwrap();
            assert!(
                note.contains("next_cursor") && note.contains("fields"),
                "{note}"
            );
            assert_eq!(meta(&r, "token_budget")["cut"], true);
        }
        assert!(pages < 1_000, "the walk ends");
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    let total = total.unwrap();
    assert!(total >= 5_000, "{total}");
    assert_eq!(positions.len() as u64, total, "every rule exactly once");
    assert_eq!(
        positions,
        (1..=total).collect::<Vec<_>>(),
        "in evaluation order"
    );
    eprintln!("walked {total} rules in {pages} budget-cut pages");

    let (_, metrics) = server.get("/metrics").await;
    let errors = metric(
        &metrics,
        "mcp_tool_token_budget_errors_total{tool_name=\"firewall.list_filter_rules\"}",
    );
    assert!(
        errors >= f64::from(pages - 1),
        "{errors} cut results counted\n{metrics}"
    );
    let warnings = metric(
        &metrics,
        "mcp_tool_token_budget_warnings_total{tool_name=\"firewall.list_filter_rules\"}",
    );
    assert!(warnings >= errors, "{metrics}");
    client.close().await;
    server.stop().await;

    // Default thresholds: a whole-firewall request is still bounded and continues by cursor.
    let client = world.stdio(&[]).await;
    let r = client
        .call(
            "firewall.list_filter_rules",
            json!({"device_id": device, "limit": 1000}),
        )
        .await;
    let page = r.structured_content.clone().unwrap();
    assert!(page["returned"].as_u64().unwrap() < total);
    assert!(page["next_cursor"].is_string());
    client.close().await;
    world.stop().await;
}

fn metric(text: &str, series: &str) -> f64 {
    text.lines()
        .find_map(|l| l.strip_prefix(series).map(|v| v.trim().parse().unwrap()))
        .unwrap_or(0.0)
}
