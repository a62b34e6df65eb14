//! `routeros-mcp plan list|show|approve|reject|cancel|journal|pause|resume|abort`: the person in plan → approve →
//! apply. Approving prints the token an assistant needs for `plan.apply`; nothing here writes
//! to a router.

use anyhow::Result;
use serde_json::json;
use workflow::{ApprovalVia, Plan, PlanFilter, PlanStatus, Workflow};

use crate::UsageError;
use crate::cli::{Output, PlanCommand, PlanRef};
use crate::context::Context;
use crate::output;

/// Runs a plan command. An approval or rejection made here is announced on the webhook like
/// one made through the server; the command waits for that delivery (at most
/// [`server::WEBHOOK_FLUSH`]) before the process exits.
pub async fn run(ctx: &Context, cmd: PlanCommand) -> Result<()> {
    let webhook = ctx.webhook()?;
    let (notifier, delivery) = webhook.unzip();
    let fleet = ctx.fleet().await?;
    let wf = ctx.workflow(&fleet, None, notifier);
    let outcome = command(ctx, &wf, cmd).await;
    if let Some(delivery) = delivery {
        delivery.finish(server::WEBHOOK_FLUSH).await;
    }
    outcome
}

/// Prints a plan for a person. Every text that came from a caller (the title, the proposer) or a
/// router (values in descriptions, reasons, outcomes) goes through `e`, which makes control
/// characters visible: a title cannot draw a fake low-risk plan over the real one.
fn show_plan(plan: &Plan, decisions: &[serde_json::Value]) {
    use domain::text::escape as e;
    let s = |v: &serde_json::Value| e(v.as_str().unwrap_or_default()).into_owned();
    println!("plan {}  {}", plan.id, e(&plan.title));
    println!(
        "  status {}  risk {}  kind {}  environment {}",
        plan.status, plan.risk, plan.kind, plan.environment
    );
    println!(
        "  proposed by {} at {}",
        e(&plan.created_by),
        plan.created_at
    );
    if let Some(of) = &plan.rollback_of {
        println!("  undoes plan {of}");
    }
    for r in &plan.risk_reasons {
        println!("  why {}: {}", plan.risk, e(r));
    }
    for d in &plan.devices {
        println!("\n  on {} ({}):", e(&d.name), d.environment);
        for c in plan.changes_of(&d.device_id) {
            println!("    {:>3}. {}", c.seq, e(&c.description));
            for u in &c.inverse {
                println!("         undo: {}", e(&u.describe()));
            }
        }
    }
    if !decisions.is_empty() {
        println!();
        for d in decisions {
            println!(
                "  {} by {} via {} at {}{}",
                s(&d["decision"]),
                s(&d["by"]),
                s(&d["via"]),
                s(&d["at"]),
                d["reason"]
                    .as_str()
                    .map(|r| format!(": {}", e(r)))
                    .unwrap_or_default()
            );
        }
    }
    if let Some(outcome) = &plan.outcome {
        println!("\n  outcome: {}", s(&outcome["message"]));
        for d in outcome["devices"].as_array().into_iter().flatten() {
            println!(
                "    {}: {}{}",
                s(&d["device"]),
                s(&d["result"]),
                d["reason"]
                    .as_str()
                    .map(|r| format!(" — {}", e(r)))
                    .unwrap_or_default()
            );
        }
    }
}

async fn command(ctx: &Context, wf: &Workflow, cmd: PlanCommand) -> Result<()> {
    match cmd {
        PlanCommand::List(args) => {
            let status = args
                .status
                .as_deref()
                .map(str::parse::<PlanStatus>)
                .transpose()
                .map_err(|e| UsageError(format!("--status: {}", e.allowed)))?;
            let device_id = match &args.device {
                Some(d) => Some(ctx.fleet().await?.store().find_device(None, d).await?.id),
                None => None,
            };
            let plans = wf
                .plans(&PlanFilter {
                    status,
                    device_id,
                    limit: args.limit,
                })
                .await?;
            let rows = plans
                .iter()
                .map(|p| {
                    vec![
                        p.id.clone(),
                        p.status.to_string(),
                        p.risk.to_string(),
                        p.title.clone(),
                        p.created_by.clone(),
                        p.created_at.clone(),
                    ]
                })
                .collect();
            let summaries: Vec<_> = plans
                .iter()
                .map(|p| json!({"plan_id": p.id, "status": p.status, "risk": p.risk, "title": p.title, "kind": p.kind, "created_by": p.created_by, "created_at": p.created_at}))
                .collect();
            output::print(
                args.output.output,
                &["PLAN", "STATUS", "RISK", "TITLE", "PROPOSED BY", "AT"],
                rows,
                &json!(summaries),
            )
        }
        PlanCommand::Show(args) => {
            let plan = wf.plan(args.plan_id.trim()).await?;
            let decisions = wf.decisions(&plan.id).await?;
            match args.output.output {
                Output::Json => {
                    let mut v = serde_json::to_value(&plan)?;
                    v["decisions"] = json!(decisions);
                    println!("{}", serde_json::to_string_pretty(&v)?);
                }
                Output::Table => show_plan(&plan, &decisions),
            }
            Ok(())
        }
        PlanCommand::Approve(args) => {
            let issued = wf
                .approve(
                    args.plan_id.trim(),
                    &ctx.actor,
                    ApprovalVia::Cli,
                    &ctx.audit(),
                )
                .await?;
            match args.output.output {
                Output::Json => println!(
                    "{}",
                    serde_json::to_string_pretty(&json!({
                        "approval_token": issued.approval_token,
                        "plan_id": issued.plan_id,
                        "approver": issued.approver,
                        "expires_at": issued.expires_at,
                    }))?
                ),
                Output::Table => {
                    eprintln!(
                        "approved plan {} as {}; the token below works once, until {}:",
                        issued.plan_id, issued.approver, issued.expires_at
                    );
                    println!("{}", issued.approval_token);
                }
            }
            Ok(())
        }
        PlanCommand::Reject(args) => {
            if args.reason.trim().is_empty() {
                return Err(UsageError("--reason must say why".into()).into());
            }
            wf.reject(
                args.plan_id.trim(),
                &ctx.actor,
                args.reason.trim(),
                &ctx.audit(),
            )
            .await?;
            let plan = wf.plan(args.plan_id.trim()).await?;
            output::print_record(
                args.output.output,
                vec![
                    ("plan", plan.id.clone()),
                    ("status", plan.status.to_string()),
                ],
                &json!({"plan_id": plan.id, "status": plan.status}),
            )
        }
        PlanCommand::Cancel(args) => {
            let plan = wf.cancel(args.plan_id.trim(), &ctx.audit()).await?;
            output::print_record(
                args.output.output,
                vec![
                    ("plan", plan.id.clone()),
                    ("status", plan.status.to_string()),
                ],
                &json!({"plan_id": plan.id, "status": plan.status}),
            )
        }
        PlanCommand::Pause(args) => {
            let rollout = wf.pause(args.plan_id.trim(), &ctx.audit()).await?;
            print_control(&args, &rollout)
        }
        PlanCommand::Resume(args) => {
            let rollout = wf.resume(args.plan_id.trim(), &ctx.audit()).await?;
            print_control(&args, &rollout)
        }
        PlanCommand::Abort(args) => {
            let rollout = wf.abort(args.plan_id.trim(), &ctx.audit()).await?;
            print_control(&args, &rollout)
        }
        PlanCommand::Journal(args) => {
            let plan = wf.plan(args.plan_id.trim()).await?;
            let entries = wf.journal(&plan.id).await?;
            let name = |id: &Option<String>| {
                id.as_ref()
                    .and_then(|i| plan.devices.iter().find(|d| d.device_id.to_string() == *i))
                    .map_or("-".to_owned(), |d| d.name.clone())
            };
            let rows = entries
                .iter()
                .map(|e| {
                    vec![
                        e.at.clone(),
                        name(&e.device_id),
                        e.seq.map_or("-".into(), |s| s.to_string()),
                        e.step.clone(),
                        e.detail.to_string(),
                    ]
                })
                .collect();
            output::print(
                args.output.output,
                &["TIME", "DEVICE", "CHANGE", "STEP", "DETAIL"],
                rows,
                &json!(entries),
            )
        }
    }
}

/// What `plan pause|resume|abort` says: the rollout's control now. Abort returns once it is
/// recorded; the process running the rollout reverts the changed devices and `plan show` tells
/// how that ended.
fn print_control(args: &PlanRef, rollout: &workflow::Rollout) -> Result<()> {
    let id = args.plan_id.trim();
    output::print_record(
        args.output.output,
        vec![
            ("plan", id.to_owned()),
            ("rollout", rollout.control.to_string()),
        ],
        &json!({"plan_id": id, "control": rollout.control}),
    )
}
