//! Revisions drafted by the client's own model: after a runbook run fails in a way a better
//! runbook would avoid, a session client that declared `sampling` (up to 2025-11-25; the
//! stateless revision has no server-to-client requests) is asked — `sampling/createMessage`,
//! in the background — for the next version. What its model writes is queued for a person's
//! review like every proposal, checked first; it is never served before approval. This comes
//! before the operator's model endpoint (`RUNBOOK_LLM_*`), which is used when the client cannot
//! sample.
//!
//! The 2026-07-28 revision deprecates sampling (SEP-2577); rmcp marks its types so. It stays the
//! way an older session client lends its model, hence the `allow` below.

#![allow(deprecated)]

use std::time::Duration;

use rmcp::RoleServer;
use rmcp::model::{CreateMessageRequestParams, Role, SamplingMessage, SamplingMessageContentBlock};
use rmcp::service::{Peer, RequestContext};
use serde_json::Value;

/// How long the client's model may take.
const ANSWER_WITHIN: Duration = Duration::from_secs(180);
/// The most tokens asked for (a runbook is a page or two).
const MAX_TOKENS: u32 = 8000;

/// Whether the client of `context` can be asked to sample.
pub(crate) fn can_sample(context: &RequestContext<RoleServer>) -> bool {
    context
        .peer
        .peer_info()
        .is_some_and(|info| info.capabilities.sampling.is_some())
}

/// The run a tool result reports as failed in a way a revision could fix, if any.
pub(crate) fn improvable_run(tool: &str, structured: &Value) -> Option<String> {
    let runbook_tool = matches!(tool, "runbook.run" | "runbook.record_outcome");
    (runbook_tool && structured["failure"]["improvable"] == Value::Bool(true))
        .then(|| structured["run_id"].as_str().map(str::to_owned))
        .flatten()
}

/// Asks the client's model for the next version after run `run_id`, in the background.
pub(crate) fn draft_revision(
    ctx: tools::Ctx,
    peer: Peer<RoleServer>,
    run_id: String,
    client: String,
) {
    tokio::spawn(async move {
        let (system, user) = match tools::runbook::revision_request(&ctx, &run_id).await {
            Ok(asked) => asked,
            Err(e) => {
                tracing::warn!(run = %run_id, error = %e, "no revision asked of the client's model");
                return;
            }
        };
        let mut params = CreateMessageRequestParams::new(
            vec![SamplingMessage::new(
                Role::User,
                SamplingMessageContentBlock::text(user),
            )],
            MAX_TOKENS,
        );
        params.system_prompt = Some(system);
        params.temperature = Some(0.2);
        let answer = match tokio::time::timeout(ANSWER_WITHIN, peer.create_message(params)).await {
            Ok(Ok(result)) => result
                .message
                .content
                .iter()
                .filter_map(|block| block.as_text().map(|t| t.text.clone()))
                .collect::<Vec<_>>()
                .join("\n"),
            Ok(Err(e)) => {
                tracing::warn!(run = %run_id, error = %e, "the client's model drafted no revision");
                return;
            }
            Err(_) => {
                tracing::warn!(run = %run_id, "the client's model did not answer within {} s", ANSWER_WITHIN.as_secs());
                return;
            }
        };
        let by = format!("sampling:{client}");
        match tools::runbook::propose_drafted(&ctx, &run_id, &answer, &by).await {
            Ok(v) => {
                tracing::info!(runbook = %v.name, version = %v.version, version_id = %v.id, "a revision drafted by the client's model waits for review")
            }
            Err(e) => {
                tracing::warn!(run = %run_id, error = %e, "the client's draft was not queued")
            }
        }
    });
}
