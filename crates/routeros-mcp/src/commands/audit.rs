//! `routeros-mcp audit list|verify`.

use anyhow::Result;
use serde_json::json;
use store::AuditFilter;

use crate::VerificationFailed;
use crate::cli::{AuditCommand, Output};
use crate::context::Context;
use crate::output;

pub async fn run(ctx: &Context, cmd: AuditCommand) -> Result<()> {
    let store = ctx.store().await?;
    let result = match cmd {
        AuditCommand::List(args) => {
            let target = match &args.device {
                Some(name) => Some(store.find_device(None, name).await?.audit_target()),
                None => None,
            };
            let events = store
                .audit_events(&AuditFilter {
                    target,
                    action: args.action,
                    correlation_id: args.correlation_id,
                    before_seq: None,
                    limit: args.limit,
                })
                .await?;
            let rows = events
                .iter()
                .map(|e| {
                    vec![
                        e.seq.to_string(),
                        e.occurred_at.clone(),
                        e.actor.clone(),
                        e.action.clone(),
                        e.target.clone(),
                        e.details.to_string(),
                    ]
                })
                .collect();
            output::print(
                args.output.output,
                &["SEQ", "TIME", "ACTOR", "ACTION", "TARGET", "DETAILS"],
                rows,
                &json!(events),
            )
        }
        AuditCommand::Verify(args) => {
            let report = store.verify_audit_chain().await?;
            if matches!(args.output, Output::Json) {
                output::print_record(Output::Json, vec![], &json!(report))?;
            }
            match &report.first_break {
                None => {
                    if matches!(args.output, Output::Table) {
                        println!(
                            "audit chain intact: {} events; head {}",
                            report.events_checked,
                            report.head_hash.as_deref().unwrap_or("(empty)")
                        );
                    }
                    Ok(())
                }
                Some(b) => Err(VerificationFailed(format!(
                    "audit chain broken at event #{}: {} ({} events before it verified)",
                    b.seq, b.reason, report.events_checked
                ))
                .into()),
            }
        }
    };
    store.close().await;
    result
}
