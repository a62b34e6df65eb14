//! `routeros-mcp runbook review list|show|approve|reject|stats`: the person in the runbook review
//! queue. The same checks, store calls and JSON as the admin API's `/api/review/…`; the reviewer
//! recorded is the local user (`cli:<user>`). Running servers serve an approved version within
//! 2 s (they re-read approved versions from the database).

use anyhow::Result;
use tools::runbook::review::{self, Decision, Priority, ReviewError};

use crate::UsageError;
use crate::cli::{Output, ReviewCommand};
use crate::context::Context;
use crate::output;
use admin_api::review::{ProposalList, ProposalSummary, ProposalView, ReviewStats};

/// A refusal as the binary reports it: a bad value is a usage error (exit 2), the rest fail
/// (exit 1).
fn refusal(e: ReviewError) -> anyhow::Error {
    match e {
        ReviewError::Invalid(message) => UsageError(message).into(),
        other => other.into(),
    }
}

fn id(text: &str) -> Result<String> {
    review::version_id(text).map_err(|e| UsageError(format!("ID: {e}")).into())
}

/// Prints a proposal for a person; every text that came from a proposer or a run goes through
/// `e` (control characters made visible).
fn show(view: &ProposalView) {
    use domain::text::escape as e;
    let s = &view.summary;
    let o = |v: &Option<String>| v.as_deref().map_or("-".to_owned(), |t| e(t).into_owned());
    println!(
        "proposal {}  {} {}  ({})",
        s.id,
        e(&s.runbook),
        e(&s.version),
        s.status
    );
    println!(
        "  priority {}  failure {}  proposed by {} at {}",
        o(&s.priority),
        o(&s.failure_type),
        o(&s.proposed_by),
        s.created_at
    );
    if let Some(why) = &s.rationale {
        println!("  why: {}", e(why));
    }
    match &view.parent {
        Some(p) => println!("  replaces {} {} ({})", p.id, e(&p.version), p.status),
        None => println!("  replaces nothing (a first version)"),
    }
    if let Some(reviewer) = &s.reviewer {
        println!(
            "  decided by {} at {}{}",
            e(reviewer),
            o(&s.reviewed_at),
            s.review_notes
                .as_deref()
                .map(|n| format!(": {}", e(n)))
                .unwrap_or_default()
        );
    }
    match &view.source_run {
        Some(run) => {
            println!(
                "\n  from run {} ({}) on {} in {}, started {} by {}",
                run.id,
                run.status,
                o(&run.device_id),
                o(&run.project),
                run.started_at,
                e(&run.started_by)
            );
            if let Some(step) = run.failed_step {
                println!(
                    "  failed at step {step}: {} — {}",
                    o(&run.failure_type),
                    o(&run.failure_reason)
                );
            }
            for step in run.steps.as_array().into_iter().flatten() {
                println!("    {}", e(&step.to_string()));
            }
        }
        None => println!("\n  generated from no recorded run"),
    }
    println!(
        "\n  changes: +{} -{} lines",
        view.diff.added, view.diff.removed
    );
    // The diff's control characters are escaped already.
    for line in view.diff.unified.lines() {
        println!("  {line}");
    }
}

pub async fn run(ctx: &Context, cmd: ReviewCommand) -> Result<()> {
    match cmd {
        ReviewCommand::List(args) => {
            let priority = args
                .priority
                .as_deref()
                .map(str::parse::<Priority>)
                .transpose()
                .map_err(|e| UsageError(format!("--priority: {e}")))?;
            let store = ctx.store().await?;
            let limit = usize::try_from(args.limit).unwrap_or(review::MAX_LIMIT);
            let waiting = review::pending(&store, priority, limit).await?;
            let list = ProposalList {
                items: waiting.iter().map(ProposalSummary::from).collect(),
            };
            let rows = list
                .items
                .iter()
                .map(|p| {
                    vec![
                        p.id.clone(),
                        p.runbook.clone(),
                        p.version.clone(),
                        output::or_dash(p.priority.as_deref()),
                        p.status.clone(),
                        output::or_dash(p.failure_type.as_deref()),
                        p.created_at.clone(),
                    ]
                })
                .collect();
            output::print(
                args.output.output,
                &[
                    "PROPOSAL", "RUNBOOK", "VERSION", "PRIORITY", "STATUS", "FAILURE", "PROPOSED",
                ],
                rows,
                &serde_json::to_value(&list)?,
            )
        }
        ReviewCommand::Show(args) => {
            let id = id(&args.id)?;
            let store = ctx.store().await?;
            let proposal = review::proposal(&store, &id).await.map_err(refusal)?;
            let project =
                admin_api::review::run_project(&store, proposal.source_run.as_ref()).await?;
            let view = ProposalView::new(&proposal, project);
            match args.output.output {
                Output::Json => println!("{}", serde_json::to_string_pretty(&view)?),
                Output::Table => show(&view),
            }
            Ok(())
        }
        ReviewCommand::Approve(args) => {
            let decision = Decision::Approve { notes: args.notes };
            decide(ctx, &args.id, &decision, args.output.output).await
        }
        ReviewCommand::Reject(args) => {
            let decision = Decision::Reject {
                reason: args.reason,
            };
            decide(ctx, &args.id, &decision, args.output.output).await
        }
        ReviewCommand::Stats(args) => {
            let store = ctx.store().await?;
            let stats = ReviewStats::from(&review::stats(&store).await?);
            output::print_record(
                args.output,
                vec![
                    ("pending review", stats.pending_review.to_string()),
                    ("in review", stats.in_review.to_string()),
                    ("approved", stats.approved.to_string()),
                    ("rejected", stats.rejected.to_string()),
                    ("approval ratio", format!("{:.2}", stats.approval_ratio)),
                    (
                        "oldest high priority",
                        stats.oldest_high_priority_at.as_deref().map_or_else(
                            || "-".to_owned(),
                            |at| format!("{at} ({} s ago)", stats.oldest_high_priority_age_seconds),
                        ),
                    ),
                ],
                &serde_json::to_value(&stats)?,
            )
        }
    }
}

async fn decide(ctx: &Context, given: &str, decision: &Decision, format: Output) -> Result<()> {
    let id = id(given)?;
    let store = ctx.store().await?;
    let catalog = catalog::Catalog::embedded()?;
    let decided = review::decide(&store, &catalog, &id, decision, &ctx.actor, &ctx.audit())
        .await
        .map_err(refusal)?;
    // Announced like a decision taken through the server, delivered before the command exits.
    if let Some((notifier, delivery)) = ctx.webhook()? {
        if let Some(event) = server::review_decided(&decided) {
            notifier.send(event);
        }
        delivery.finish(server::WEBHOOK_FLUSH).await;
    }
    let summary = ProposalSummary::from(&decided);
    output::print_record(
        format,
        vec![
            ("proposal", summary.id.clone()),
            (
                "runbook",
                format!("{} {}", summary.runbook, summary.version),
            ),
            ("status", summary.status.clone()),
            ("reviewer", summary.reviewer.clone().unwrap_or_default()),
        ],
        &serde_json::to_value(&summary)?,
    )
}
