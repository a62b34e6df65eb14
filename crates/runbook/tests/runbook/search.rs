//! Ranked search over the built-ins for symptom sentences, as an engineer or an assistant would
//! type them.

use runbook::{Field, Index};

use crate::catalog;

fn top(query: &str) -> Vec<String> {
    Index::load(catalog(), None)
        .search(query, 3)
        .into_iter()
        .map(|h| h.name)
        .collect()
}

#[test]
fn symptom_sentences_find_the_right_runbook_first() {
    for (query, expected) in [
        (
            "clients on the LAN get no IP address",
            "dhcp-pool-exhausted",
        ),
        (
            "new phones cannot join the wifi, no DHCP lease",
            "dhcp-pool-exhausted",
        ),
        (
            "names do not resolve but ping to 1.1.1.1 works",
            "dns-not-resolving",
        ),
        ("ether2 link down, port flapping", "interface-down"),
        ("router is slow, cpu at 100%", "high-cpu"),
        ("internet down, backup uplink not used", "wan-failover"),
        ("OSPF adjacency stuck in ExStart", "routing-neighbor-down"),
        ("BGP session not established", "routing-neighbor-down"),
        (
            "someone changed the firewall outside of a plan",
            "configuration-drift",
        ),
        (
            "tool calls fail: device unreachable, timed out",
            "device-unreachable",
        ),
        (
            "password rotation failed, authentication failed",
            "credential-rotation-failure",
        ),
        (
            "clients reconnect after restart and get 429 on initialize",
            "session-storm",
        ),
        (
            "many tokens expired at once, identity provider rate limiting",
            "token-refresh-cascade",
        ),
        (
            "timeouts and retries make the slow router slower",
            "tool-timeout-spiral",
        ),
        (
            "results cut to fit, over the token budget",
            "token-budget-violations",
        ),
        (
            "unsupported protocol version, JSON-RPC errors",
            "mcp-protocol-errors",
        ),
        (
            "mcp_tool_requests_total errors spiking for one tool",
            "tool-execution-failures",
        ),
    ] {
        let found = top(query);
        assert_eq!(
            found.first().map(String::as_str),
            Some(expected),
            "{query:?} → {found:?}"
        );
    }
}

#[test]
fn a_hit_says_which_fields_and_words_matched() {
    let index = Index::load(catalog(), None);
    let hits = index.search("Clients on the LAN get NO IP addresses", 5);
    let hit = &hits[0];
    assert_eq!(hit.name, "dhcp-pool-exhausted");
    assert!(hit.score > hits[1].score);
    assert_eq!(hit.words(), ["clients", "lan", "ip", "addresses"]);
    let lan: Vec<Field> = hit
        .matched
        .iter()
        .filter(|m| m.query == "lan")
        .map(|m| m.field)
        .collect();
    assert!(
        lan.contains(&Field::Tags) && lan.contains(&Field::Symptom),
        "{lan:?}"
    );
    assert!(
        hit.matched
            .iter()
            .any(|m| m.query == "addresses" && m.word == "address" && m.exact)
    );
    // A prefix matches, less strongly than a whole word.
    let prefix = index.search("exhaust", 1);
    assert_eq!(prefix[0].name, "dhcp-pool-exhausted");
    let m = &prefix[0].matched[0];
    assert_eq!(
        (m.query.as_str(), m.word.as_str(), m.exact),
        ("exhaust", "exhausted", true)
    );
    let partial = index.search("exha", 1);
    assert_eq!(partial[0].name, "dhcp-pool-exhausted");
    assert!(!partial[0].matched[0].exact);
}

#[test]
fn search_is_deterministic_bounded_and_quiet_on_noise() {
    let index = Index::load(catalog(), None);
    let a = index.search("slow router timeouts", 15);
    let b = index.search("slow router timeouts", 15);
    assert_eq!(a, b);
    assert!(a.windows(2).all(|w| w[0].score >= w[1].score));
    assert!(index.search("the of and no", 5).is_empty());
    assert!(index.search("", 5).is_empty());
    assert!(index.search("zzzqqq xylophone", 5).is_empty());
    assert_eq!(index.search("router", 2).len(), 2);
    let long = "dhcp ".repeat(10_000);
    assert_eq!(index.search(&long, 1)[0].name, "dhcp-pool-exhausted");
}
