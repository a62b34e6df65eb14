//! What a notification says: the events people are told about, and how each is rendered as a
//! Slack-compatible message.
//!
//! Every payload has three parts:
//! - `text`: one line a person can act on (Slack shows it in notifications and wherever blocks
//!   are not rendered);
//! - `blocks`: the same in a few Slack `section` blocks;
//! - `event`: the facts for machines (`kind`, ids, project, risk, devices, who decided and why).
//!   Slack ignores fields it does not know; other receivers (a chat bridge, a ticketing hook)
//!   read this one and need not parse prose.
//!
//! An event carries names, ids and reasons, never a secret: there is no field for an approval
//! token, a password or a credential, and plan events say how to approve
//! (`routeros-mcp plan approve ID`) rather than carrying the means to.
//!
//! Titles, names and reasons come from callers (an assistant writes a plan's title) and routers,
//! so the human-readable parts are escaped for Slack (`&`, `<`, `>`: a title cannot mention
//! `<!channel>` or draw a link) with control characters made visible, and bounded so a long
//! title cannot push the rest out of the message. The `event` object carries the values as they
//! are (JSON-escaped), bounded the same way.

use serde_json::{Value, json};

/// Longest title, name or reason carried, in characters (longer ones are cut with `…`).
const MAX_TEXT: usize = 300;
/// Longest outcome message or review text carried.
const MAX_MESSAGE: usize = 1000;
/// Device names listed in the human-readable parts (the `event` object lists them all).
const DEVICES_SHOWN: usize = 10;
/// Longest device name in those lists (Slack cuts a field at 2,000 characters).
const MAX_NAME: usize = 64;

/// A plan, as a notification describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanSummary {
    pub id: String,
    pub title: String,
    /// `ORG/PROJECT`.
    pub project: String,
    /// `low`, `medium`, `high` or `critical`.
    pub risk: String,
    /// The routers it changes, in rollout order.
    pub devices: Vec<String>,
    /// How many changes it makes.
    pub changes: usize,
}

/// What a reviewer decided about a proposed runbook version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewDecision {
    Approved,
    Rejected,
}

impl ReviewDecision {
    pub fn as_str(self) -> &'static str {
        match self {
            ReviewDecision::Approved => "approved",
            ReviewDecision::Rejected => "rejected",
        }
    }
}

/// Something people are told about.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Event {
    /// `plan.awaiting_approval`: a plan waits for a person to approve or reject it.
    PlanAwaitingApproval(PlanSummary),
    /// `plan.approved`: by a person (`cli:alice`, an admin API principal, a client's user
    /// through elicitation) or by policy; `reason` is the approver's comment.
    PlanApproved {
        plan: PlanSummary,
        by: String,
        reason: Option<String>,
    },
    /// `plan.rejected`, with the reason the person gave.
    PlanRejected {
        plan: PlanSummary,
        by: String,
        reason: String,
    },
    /// `plan.applied`: every change written, verified and confirmed.
    PlanApplied { plan: PlanSummary, message: String },
    /// `plan.rolled_back`: the apply failed and every router is as before the plan.
    PlanRolledBack { plan: PlanSummary, message: String },
    /// `plan.failed`: the apply failed and a router could not be restored or checked; a person
    /// must look.
    PlanFailed { plan: PlanSummary, message: String },
    /// `runbook.awaiting_review`: a proposed runbook version waits for a reviewer.
    RunbookAwaitingReview {
        runbook: String,
        version_id: String,
        /// As the review queue ranks it (`low`, `normal`, `high`, …).
        priority: String,
        /// Why it was proposed (the failure it answers, say).
        why: String,
    },
    /// `runbook.review_decided`: a reviewer approved or rejected a proposed version.
    RunbookReviewDecided {
        runbook: String,
        version_id: String,
        decision: ReviewDecision,
        reviewer: String,
        notes: Option<String>,
    },
}

impl Event {
    /// The event's kind, as the payload's `event.kind` and the metric's `event` label name it.
    pub fn kind(&self) -> &'static str {
        match self {
            Event::PlanAwaitingApproval(_) => "plan.awaiting_approval",
            Event::PlanApproved { .. } => "plan.approved",
            Event::PlanRejected { .. } => "plan.rejected",
            Event::PlanApplied { .. } => "plan.applied",
            Event::PlanRolledBack { .. } => "plan.rolled_back",
            Event::PlanFailed { .. } => "plan.failed",
            Event::RunbookAwaitingReview { .. } => "runbook.awaiting_review",
            Event::RunbookReviewDecided { .. } => "runbook.review_decided",
        }
    }

    /// Every kind, for documentation and tests.
    pub const KINDS: [&'static str; 8] = [
        "plan.awaiting_approval",
        "plan.approved",
        "plan.rejected",
        "plan.applied",
        "plan.rolled_back",
        "plan.failed",
        "runbook.awaiting_review",
        "runbook.review_decided",
    ];

    /// The JSON body sent to the webhook. `at` is when the event happened (RFC 3339).
    pub fn payload(&self, at: &str) -> Value {
        let (text, blocks, mut facts) = match self {
            Event::PlanAwaitingApproval(plan) => {
                let approve = approve_command(&plan.id);
                (
                    format!(
                        "Plan {} waits for approval: {} ({} risk, {}). Approve with `{approve}`.",
                        plan.id,
                        slack(&plan.title, MAX_TEXT),
                        plan.risk,
                        scope(plan)
                    ),
                    vec![
                        headline("Plan waits for approval", &plan.title),
                        plan_fields(plan),
                        section(&format!(
                            "Review it with `routeros-mcp plan show {}`, then approve with `{approve}` or reject with `routeros-mcp plan reject {} --reason …`",
                            plan.id, plan.id
                        )),
                    ],
                    with(plan_facts(plan), &[("approve_command", json!(approve))]),
                )
            }
            Event::PlanApproved { plan, by, reason } => {
                decision("approved", plan, by, reason.as_deref())
            }
            Event::PlanRejected { plan, by, reason } => {
                decision("rejected", plan, by, Some(reason))
            }
            Event::PlanApplied { plan, message } => outcome("was applied", plan, message),
            Event::PlanRolledBack { plan, message } => {
                outcome("failed and was rolled back", plan, message)
            }
            Event::PlanFailed { plan, message } => outcome(
                "failed and a router could not be restored: a person must look",
                plan,
                message,
            ),
            Event::RunbookAwaitingReview {
                runbook,
                version_id,
                priority,
                why,
            } => (
                format!(
                    "Runbook {} version {} waits for review ({priority} priority): {}",
                    slack(runbook, MAX_TEXT),
                    slack(version_id, MAX_TEXT),
                    slack(why, MAX_MESSAGE)
                ),
                vec![
                    headline("Runbook version waits for review", runbook),
                    fields(&[
                        ("Version", slack(version_id, MAX_TEXT)),
                        ("Priority", slack(priority, MAX_TEXT)),
                    ]),
                    section(&format!("*Why*\n{}", slack(why, MAX_MESSAGE))),
                ],
                json!({
                    "runbook": cut(runbook, MAX_TEXT),
                    "version_id": cut(version_id, MAX_TEXT),
                    "priority": cut(priority, MAX_TEXT),
                    "reason": cut(why, MAX_MESSAGE),
                }),
            ),
            Event::RunbookReviewDecided {
                runbook,
                version_id,
                decision,
                reviewer,
                notes,
            } => {
                let mut blocks = vec![
                    headline(&format!("Runbook version {}", decision.as_str()), runbook),
                    fields(&[
                        ("Version", slack(version_id, MAX_TEXT)),
                        ("Reviewer", slack(reviewer, MAX_TEXT)),
                    ]),
                ];
                if let Some(notes) = notes {
                    blocks.push(section(&format!("*Notes*\n{}", slack(notes, MAX_MESSAGE))));
                }
                (
                    format!(
                        "Runbook {} version {} was {} by {}{}",
                        slack(runbook, MAX_TEXT),
                        slack(version_id, MAX_TEXT),
                        decision.as_str(),
                        slack(reviewer, MAX_TEXT),
                        notes
                            .as_deref()
                            .map(|n| format!(": {}", slack(n, MAX_MESSAGE)))
                            .unwrap_or_default()
                    ),
                    blocks,
                    json!({
                        "runbook": cut(runbook, MAX_TEXT),
                        "version_id": cut(version_id, MAX_TEXT),
                        "decision": decision.as_str(),
                        "decided_by": cut(reviewer, MAX_TEXT),
                        "reason": notes.as_deref().map(|n| cut(n, MAX_MESSAGE)),
                    }),
                )
            }
        };
        if let Value::Object(map) = &mut facts {
            map.insert("kind".into(), json!(self.kind()));
            map.insert("at".into(), json!(at));
        }
        json!({"text": text, "blocks": blocks, "event": facts})
    }
}

/// The command that approves a plan (the means to approve stays with the person who runs it).
fn approve_command(plan_id: &str) -> String {
    format!("routeros-mcp plan approve {plan_id}")
}

type Rendered = (String, Vec<Value>, Value);

fn decision(verb: &str, plan: &PlanSummary, by: &str, reason: Option<&str>) -> Rendered {
    let mut blocks = vec![
        headline(&format!("Plan {verb}"), &plan.title),
        plan_fields(plan),
        fields(&[("Decided by", slack(by, MAX_TEXT))]),
    ];
    if let Some(reason) = reason {
        blocks.push(section(&format!(
            "*Reason*\n{}",
            slack(reason, MAX_MESSAGE)
        )));
    }
    (
        format!(
            "Plan {} was {verb} by {}: {} ({} risk, {}){}",
            plan.id,
            slack(by, MAX_TEXT),
            slack(&plan.title, MAX_TEXT),
            plan.risk,
            scope(plan),
            reason
                .map(|r| format!(". Reason: {}", slack(r, MAX_MESSAGE)))
                .unwrap_or_default()
        ),
        blocks,
        with(
            plan_facts(plan),
            &[
                ("decided_by", json!(cut(by, MAX_TEXT))),
                ("reason", json!(reason.map(|r| cut(r, MAX_MESSAGE)))),
            ],
        ),
    )
}

fn outcome(what: &str, plan: &PlanSummary, message: &str) -> Rendered {
    (
        format!(
            "Plan {} {what}: {} ({}). {}",
            plan.id,
            slack(&plan.title, MAX_TEXT),
            scope(plan),
            slack(message, MAX_MESSAGE)
        ),
        vec![
            headline(&format!("Plan {what}"), &plan.title),
            plan_fields(plan),
            section(&slack(message, MAX_MESSAGE)),
        ],
        with(
            plan_facts(plan),
            &[("message", json!(cut(message, MAX_MESSAGE)))],
        ),
    )
}

fn plan_facts(plan: &PlanSummary) -> Value {
    json!({
        "plan_id": plan.id,
        "title": cut(&plan.title, MAX_TEXT),
        "project": plan.project,
        "risk": plan.risk,
        "devices": plan.devices.iter().map(|d| cut(d, MAX_TEXT)).collect::<Vec<_>>(),
        "changes": plan.changes,
    })
}

fn with(mut facts: Value, more: &[(&str, Value)]) -> Value {
    if let Value::Object(map) = &mut facts {
        for (k, v) in more {
            map.insert((*k).to_owned(), v.clone());
        }
    }
    facts
}

/// "3 changes on r1, r2" (the first few routers by name).
fn scope(plan: &PlanSummary) -> String {
    format!(
        "{} change{} on {}",
        plan.changes,
        if plan.changes == 1 { "" } else { "s" },
        device_list(&plan.devices)
    )
}

fn device_list(devices: &[String]) -> String {
    if devices.is_empty() {
        return "no router".to_owned();
    }
    let mut shown: Vec<String> = devices
        .iter()
        .take(DEVICES_SHOWN)
        .map(|d| slack(d, MAX_NAME))
        .collect();
    if devices.len() > DEVICES_SHOWN {
        shown.push(format!("and {} more", devices.len() - DEVICES_SHOWN));
    }
    shown.join(", ")
}

fn plan_fields(plan: &PlanSummary) -> Value {
    fields(&[
        ("Plan", format!("`{}`", slack(&plan.id, MAX_TEXT))),
        ("Risk", plan.risk.clone()),
        ("Project", slack(&plan.project, MAX_TEXT)),
        ("Changes", plan.changes.to_string()),
        ("Routers", device_list(&plan.devices)),
    ])
}

/// `*What*: title` as the first block.
fn headline(what: &str, subject: &str) -> Value {
    section(&format!("*{what}*: {}", slack(subject, MAX_TEXT)))
}

fn section(mrkdwn: &str) -> Value {
    json!({"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn}})
}

fn fields(pairs: &[(&str, String)]) -> Value {
    json!({
        "type": "section",
        "fields": pairs
            .iter()
            .map(|(name, value)| json!({"type": "mrkdwn", "text": format!("*{name}*\n{value}")}))
            .collect::<Vec<_>>(),
    })
}

/// At most `max` characters, `…` marking a cut.
fn cut(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_owned();
    }
    let mut out: String = text.chars().take(max.saturating_sub(1)).collect();
    out.push('…');
    out
}

/// Text from a caller or a router, made safe to put in a Slack message: control characters
/// made visible, Slack's three control characters escaped (so `<!channel>`, `<@U123>` and
/// `<https://…|label>` stay text), bounded.
fn slack(text: &str, max: usize) -> String {
    let visible = domain::text::escape(text);
    cut(&visible, max)
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    const AT: &str = "2026-01-02T03:04:05Z";

    fn plan() -> PlanSummary {
        PlanSummary {
            id: "0190aaaa-bbbb-7ccc-8ddd-eeeeffff0000".into(),
            title: "block a test net".into(),
            project: "default/default".into(),
            risk: "medium".into(),
            devices: vec!["edge-1".into(), "edge-2".into()],
            changes: 3,
        }
    }

    /// Every event kind, with the values its rendering must show.
    fn every_event() -> Vec<Event> {
        vec![
            Event::PlanAwaitingApproval(plan()),
            Event::PlanApproved {
                plan: plan(),
                by: "cli:alice".into(),
                reason: Some("change window 42".into()),
            },
            Event::PlanRejected {
                plan: plan(),
                by: "cli:bob".into(),
                reason: "not in a change window".into(),
            },
            Event::PlanApplied {
                plan: plan(),
                message: "applied 3 change(s) on 2 device(s)".into(),
            },
            Event::PlanRolledBack {
                plan: plan(),
                message: "edge-2 did not answer; edge-1 was restored".into(),
            },
            Event::PlanFailed {
                plan: plan(),
                message: "edge-2 could not be restored".into(),
            },
            Event::RunbookAwaitingReview {
                runbook: "bgp-peer-down".into(),
                version_id: "v7".into(),
                priority: "high".into(),
                why: "failed twice on edge-1: step 3 times out".into(),
            },
            Event::RunbookReviewDecided {
                runbook: "bgp-peer-down".into(),
                version_id: "v7".into(),
                decision: ReviewDecision::Rejected,
                reviewer: "carol".into(),
                notes: Some("step 3 needs a longer timeout instead".into()),
            },
        ]
    }

    /// Every key anywhere in a JSON value.
    fn keys(v: &Value, out: &mut Vec<String>) {
        match v {
            Value::Object(m) => {
                for (k, v) in m {
                    out.push(k.clone());
                    keys(v, out);
                }
            }
            Value::Array(a) => a.iter().for_each(|v| keys(v, out)),
            _ => {}
        }
    }

    #[test]
    fn every_kind_renders_text_blocks_and_facts_and_carries_no_secret_field() {
        let kinds: Vec<&str> = every_event().iter().map(Event::kind).collect();
        assert_eq!(kinds, Event::KINDS);
        for event in every_event() {
            let p = event.payload(AT);
            let kind = event.kind();
            assert!(!p["text"].as_str().unwrap().is_empty(), "{kind}");
            let blocks = p["blocks"].as_array().unwrap();
            assert!(!blocks.is_empty() && blocks.len() <= 50, "{kind}");
            for b in blocks {
                assert_eq!(b["type"], "section", "{kind}");
                // Slack's limits: section text 3000 characters, at most 10 fields of 2000.
                if let Some(t) = b["text"]["text"].as_str() {
                    assert!(t.chars().count() <= 3000, "{kind}");
                }
                if let Some(f) = b["fields"].as_array() {
                    assert!(f.len() <= 10, "{kind}");
                }
            }
            assert_eq!(p["event"]["kind"], kind);
            assert_eq!(p["event"]["at"], AT);
            let mut all = Vec::new();
            keys(&p, &mut all);
            for k in all {
                let k = k.to_ascii_lowercase();
                assert!(
                    !["token", "password", "secret", "credential", "key"]
                        .iter()
                        .any(|s| k.contains(s)),
                    "{kind} has a field named {k}"
                );
            }
        }
    }

    #[test]
    fn a_plan_awaiting_approval_says_what_and_how_to_approve() {
        let p = Event::PlanAwaitingApproval(plan()).payload(AT);
        let id = plan().id;
        assert_eq!(
            p["event"],
            json!({
                "kind": "plan.awaiting_approval",
                "at": AT,
                "plan_id": id,
                "title": "block a test net",
                "project": "default/default",
                "risk": "medium",
                "devices": ["edge-1", "edge-2"],
                "changes": 3,
                "approve_command": format!("routeros-mcp plan approve {id}"),
            })
        );
        let text = p["text"].as_str().unwrap();
        assert_eq!(
            text,
            format!(
                "Plan {id} waits for approval: block a test net (medium risk, 3 changes on edge-1, edge-2). Approve with `routeros-mcp plan approve {id}`."
            )
        );
        let blocks = p["blocks"].to_string();
        assert!(blocks.contains("*Plan waits for approval*: block a test net"));
        assert!(blocks.contains(&format!("routeros-mcp plan approve {id}")));
    }

    #[test]
    fn decisions_say_who_and_why_and_outcomes_what_happened() {
        let approved = every_event()[1].payload(AT);
        assert_eq!(approved["event"]["decided_by"], "cli:alice");
        assert_eq!(approved["event"]["reason"], "change window 42");
        assert!(
            approved["text"]
                .as_str()
                .unwrap()
                .contains("was approved by cli:alice")
        );
        let by_policy = Event::PlanApproved {
            plan: plan(),
            by: "policy:auto-approve-low-lab".into(),
            reason: None,
        }
        .payload(AT);
        assert_eq!(by_policy["event"]["reason"], Value::Null);
        let rejected = every_event()[2].payload(AT);
        assert_eq!(rejected["event"]["decided_by"], "cli:bob");
        assert_eq!(rejected["event"]["reason"], "not in a change window");
        assert!(
            rejected["text"]
                .as_str()
                .unwrap()
                .ends_with("Reason: not in a change window")
        );
        let failed = every_event()[5].payload(AT);
        assert_eq!(failed["event"]["message"], "edge-2 could not be restored");
        assert!(
            failed["text"]
                .as_str()
                .unwrap()
                .contains("a person must look")
        );
    }

    #[test]
    fn runbook_events_render_for_the_review_queue() {
        let waiting = every_event()[6].payload(AT);
        assert_eq!(
            waiting["event"],
            json!({
                "kind": "runbook.awaiting_review",
                "at": AT,
                "runbook": "bgp-peer-down",
                "version_id": "v7",
                "priority": "high",
                "reason": "failed twice on edge-1: step 3 times out",
            })
        );
        assert_eq!(
            waiting["text"],
            "Runbook bgp-peer-down version v7 waits for review (high priority): failed twice on edge-1: step 3 times out"
        );
        let decided = every_event()[7].payload(AT);
        assert_eq!(
            decided["event"],
            json!({
                "kind": "runbook.review_decided",
                "at": AT,
                "runbook": "bgp-peer-down",
                "version_id": "v7",
                "decision": "rejected",
                "decided_by": "carol",
                "reason": "step 3 needs a longer timeout instead",
            })
        );
        assert_eq!(
            decided["text"],
            "Runbook bgp-peer-down version v7 was rejected by carol: step 3 needs a longer timeout instead"
        );
        let approved = Event::RunbookReviewDecided {
            runbook: "bgp-peer-down".into(),
            version_id: "v8".into(),
            decision: ReviewDecision::Approved,
            reviewer: "carol".into(),
            notes: None,
        }
        .payload(AT);
        assert_eq!(approved["event"]["decision"], "approved");
        assert_eq!(approved["event"]["reason"], Value::Null);
        assert_eq!(
            approved["text"],
            "Runbook bgp-peer-down version v8 was approved by carol"
        );
    }

    #[test]
    fn a_title_cannot_ping_a_channel_draw_a_link_or_redraw_a_line() {
        let mut p = plan();
        p.title = "<!channel> see <https://evil.example|the change window> & \u{1b}[2Jdone".into();
        let payload = Event::PlanAwaitingApproval(p.clone()).payload(AT);
        let human = format!("{}{}", payload["text"], payload["blocks"]);
        assert!(
            !human.contains("<!channel>") && !human.contains("<https://"),
            "{human}"
        );
        assert!(human.contains("&lt;!channel&gt;"), "{human}");
        assert!(human.contains("&amp;"), "{human}");
        assert!(!human.contains('\u{1b}'), "{human}");
        // The facts carry the title as it is: JSON escapes it, and receivers render it as text.
        assert_eq!(payload["event"]["title"], p.title);
    }

    #[test]
    fn long_texts_and_device_lists_are_bounded() {
        let mut p = plan();
        p.title = "x".repeat(5000);
        p.devices = (1..=40).map(|i| format!("r{i}")).collect();
        let payload = Event::PlanFailed {
            plan: p,
            message: "y".repeat(10_000),
        }
        .payload(AT);
        assert_eq!(
            payload["event"]["title"].as_str().unwrap().chars().count(),
            MAX_TEXT
        );
        assert_eq!(
            payload["event"]["message"]
                .as_str()
                .unwrap()
                .chars()
                .count(),
            MAX_MESSAGE
        );
        assert_eq!(payload["event"]["devices"].as_array().unwrap().len(), 40);
        let text = payload["text"].as_str().unwrap();
        assert!(text.contains("r10, and 30 more"), "{text}");
        assert!(text.chars().count() < 1600, "{}", text.chars().count());
    }
}
