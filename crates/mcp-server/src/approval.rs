//! Approval of a plan by the MCP client's user, where the policy of the plan's environment allows
//! it (`MCP_PLAN_ELICITATION_*`) and the plan's risk is low or medium.
//!
//! `plan.apply` without an approval token asks the user, in the way the client's protocol
//! revision provides:
//! - up to 2025-11-25, the server sends an `elicitation/create` request on the open session and
//!   waits for the answer ([`elicit`]);
//! - from 2026-07-28, which has no session to send on, the call answers `input_required` with the
//!   same elicitation and a sealed `requestState`; the client asks its user and calls again with
//!   the answer and the state ([`round`]). The state names the plan and the content hash the user
//!   is shown, is signed with a key derived from the master key (so any instance sharing the
//!   database can open it), and expires after [`ANSWER_WITHIN`]. A state that was altered, sealed
//!   by another key, expired, or issued for another plan is refused with a JSON-RPC error and
//!   changes nothing; an answer without a state is never taken as an approval.
//!
//! Either way the approval is recorded as `mcp-elicitation-unverified:<principal>:<client>`:
//! whatever the client answers cannot be shown to be a person's, which is why high and critical
//! plans are never offered this way. The caller must be able to apply the plan (operator in its
//! project); over HTTP it must also hold `approver` there, and a sealed state names the principal
//! it was issued to, so another caller cannot answer it.

use std::time::Duration;

use rmcp::model::RequestStateError;
use rmcp::model::{
    CallToolRequestParams, ClientCapabilities, ElicitRequest, ElicitRequestParams, ElicitResult,
    ElicitationAction, ElicitationSchema, InputRequest, InputRequests, InputRequiredResult,
    RequestStateCodec, SealOptions,
};
use rmcp::service::RequestContext;
use rmcp::{ErrorData as McpError, RoleServer};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::App;

/// How long the user has to answer.
pub const ANSWER_WITHIN: Duration = Duration::from_secs(600);

/// The key of the approval question in `inputRequests` / `inputResponses`.
pub const INPUT_KEY: &str = "approval";

/// Label of the key that seals request states (see [`vault::MasterKey::derived_key`]).
pub(crate) const STATE_KEY_PURPOSE: &str = "mcp request state v1";

/// Associated data of every sealed approval state: a state sealed for anything else does not open.
const STATE_CONTEXT: &[u8] = b"routeros-mcp plan.apply approval";

/// What asking the client's user gave.
#[derive(Debug)]
pub(crate) enum Approval {
    /// Approved: the token to apply with.
    Token(String),
    /// Not approved, or refused before asking; nothing was changed (the text says why).
    Declined(String),
    /// The client must ask its user and call again (2026-07-28).
    Ask(InputRequiredResult),
    /// Nobody is asked: `plan.apply` goes on without a token and says what it needs.
    NotAsked,
}

/// What a sealed state vouches for.
#[derive(Debug, Serialize, Deserialize)]
struct State {
    plan_id: String,
    content_hash: String,
    /// The principal asked (`kind:subject`).
    principal: String,
}

/// Who is asking for an approval, and where.
pub(crate) struct Asker<'a> {
    pub app: &'a App,
    /// The call's tool context: whom it acts for.
    pub ctx: &'a tools::Ctx,
    /// Over HTTP the principal must also hold `approver` in the plan's project.
    pub over_http: bool,
}

impl Asker<'_> {
    fn principal(&self) -> String {
        crate::access::actor_name(&self.ctx.access.principal)
    }
}

/// The plan a `plan.apply` call names, if the client's user may be asked to approve it, or why
/// not (`Err(Declined)`).
async fn askable(
    asker: &Asker<'_>,
    arguments: &Value,
    client_can_answer: bool,
) -> Result<Option<workflow::Plan>, Approval> {
    let wf = &asker.ctx.workflow;
    let Some(plan_id) = arguments.get("plan_id").and_then(Value::as_str) else {
        return Ok(None);
    };
    // A plan the caller may not see or apply: nobody is asked, and the tool says why.
    let Ok(plan) = tools::resolve_plan(asker.ctx, plan_id).await else {
        return Ok(None);
    };
    let allowed = wf.config().policy(plan.environment).elicitation
        && matches!(
            plan.status,
            workflow::PlanStatus::Pending | workflow::PlanStatus::Approved
        )
        && client_can_answer;
    if !allowed {
        return Ok(None);
    }
    if !plan.risk.may_be_approved_without_a_person() {
        // Whatever the client answers cannot be verified to be a person's: a model that can
        // run an HTTP client can declare elicitation and say yes to itself.
        return Err(Approval::Declined(format!(
            "plan {} is {} risk: it can only be approved by an operator (`routeros-mcp plan approve {}`), not through the MCP client; nothing was changed",
            plan.id, plan.risk, plan.id
        )));
    }
    if asker.over_http {
        let project = asker
            .ctx
            .fleet
            .store()
            .project_ref(&plan.project_id)
            .await
            .map_err(|e| Approval::Declined(format!("plan {}: {e}", plan.id)))?;
        if !asker
            .ctx
            .access
            .principal
            .has(auth::Role::Approver, &project)
        {
            return Err(Approval::Declined(format!(
                "approving plan {} through the MCP client needs the approver role in project {project}, \
                 which {} does not hold; an approver approves it through the admin API or \
                 `routeros-mcp plan approve {}`; nothing was changed",
                plan.id,
                domain::text::escape(&asker.ctx.access.principal.display),
                plan.id
            )));
        }
    }
    Ok(Some(plan))
}

/// The text of an approval prompt: every line a person reads, with whatever came from the
/// caller (the title) or a router (values in descriptions and risk reasons) escaped, so a title
/// cannot draw a fake plan over the real one.
pub(crate) fn prompt(plan: &workflow::Plan) -> String {
    use domain::text::escape;
    let mut message = format!(
        "Approve and apply plan {}: {}\nRisk: {}{}\n",
        plan.id,
        escape(&plan.title),
        plan.risk,
        if plan.risk_reasons.is_empty() {
            String::new()
        } else {
            format!(" ({})", escape(&plan.risk_reasons.join("; ")))
        }
    );
    for c in &plan.changes {
        message.push_str(&format!(
            "  {}: {}\n",
            escape(plan.device_name(&c.device_id)),
            escape(&c.description)
        ));
    }
    message
}

fn question(plan: &workflow::Plan) -> ElicitRequestParams {
    let schema: ElicitationSchema = rmcp::model::ElicitationSchemaBuilder::new()
        .required_bool_property("approve", |b| {
            b.title("Approve and apply these changes")
                .with_default(false)
        })
        .build_unchecked();
    ElicitRequestParams::FormElicitationParams {
        meta: None,
        message: prompt(plan),
        requested_schema: schema,
    }
}

fn approved(answer: &ElicitResult) -> bool {
    answer.action == ElicitationAction::Accept
        && answer
            .content
            .as_ref()
            .and_then(|c| c.get("approve"))
            .and_then(Value::as_bool)
            == Some(true)
}

/// Records the user's approval; the client's name is its own claim, recorded as such, escaped
/// and bounded.
async fn record(
    asker: &Asker<'_>,
    plan: &workflow::Plan,
    client: Option<String>,
    correlation: domain::CorrelationId,
) -> Approval {
    let client = client.unwrap_or_else(|| "unknown-client".into());
    let client: String = domain::text::escape(&client).chars().take(64).collect();
    let audit = store::AuditContext {
        actor: format!("mcp-elicitation-unverified:{}:{client}", asker.principal()),
        correlation_id: correlation,
    };
    match asker
        .ctx
        .workflow
        .approve(
            &plan.id,
            &audit.actor,
            workflow::ApprovalVia::Elicitation,
            &audit,
        )
        .await
    {
        Ok(issued) => Approval::Token(issued.approval_token),
        Err(e) => Approval::Declined(format!("plan {} could not be approved: {e}", plan.id)),
    }
}

fn not_approved(plan_id: &str) -> Approval {
    Approval::Declined(format!(
        "the user did not approve plan {plan_id}; nothing was changed"
    ))
}

/// Up to 2025-11-25: asks over the session with a server-sent `elicitation/create`.
pub(crate) async fn elicit(
    asker: &Asker<'_>,
    arguments: &Value,
    context: &RequestContext<RoleServer>,
    correlation: domain::CorrelationId,
) -> Approval {
    let can_answer = context
        .peer
        .supported_elicitation_modes()
        .contains(&rmcp::service::ElicitationMode::Form);
    let plan = match askable(asker, arguments, can_answer).await {
        Ok(Some(plan)) => plan,
        Ok(None) => return Approval::NotAsked,
        Err(refused) => return refused,
    };
    let asked = context
        .peer
        .create_elicitation_with_timeout(question(&plan), Some(ANSWER_WITHIN))
        .await;
    match asked {
        Ok(answer) if approved(&answer) => {
            record(asker, &plan, client_name(context), correlation).await
        }
        Ok(_) => not_approved(&plan.id),
        Err(rmcp::service::ServiceError::Timeout { .. }) => Approval::Declined(format!(
            "the user did not answer the approval request for plan {} within {} s; nothing was changed",
            plan.id,
            ANSWER_WITHIN.as_secs()
        )),
        Err(e) => {
            tracing::warn!(error = %e, "asking the client's user to approve a plan failed");
            Approval::NotAsked
        }
    }
}

/// Whether a client that declared `capabilities` can show a form.
fn can_show_a_form(capabilities: Option<&ClientCapabilities>) -> bool {
    capabilities
        .and_then(|c| c.elicitation.as_ref())
        .is_some_and(|e| e.form.is_some() || e.url.is_none())
}

/// From 2026-07-28: the first call gets `input_required`; the retry carries the answer.
pub(crate) async fn round(
    asker: &Asker<'_>,
    request: &CallToolRequestParams,
    arguments: &Value,
    context: &RequestContext<RoleServer>,
    correlation: domain::CorrelationId,
) -> Result<Approval, McpError> {
    let codec = &asker.app.request_states;
    let can_answer = can_show_a_form(context.client_capabilities().as_ref());
    let Some(sealed) = request.request_state.as_deref() else {
        // The first round (an answer sent without a state is ignored: it was never asked for).
        let plan = match askable(asker, arguments, can_answer).await {
            Ok(Some(plan)) => plan,
            Ok(None) => return Ok(Approval::NotAsked),
            Err(refused) => return Ok(refused),
        };
        return ask(codec, &plan, asker).map(Approval::Ask);
    };
    let state: State = codec
        .open_json_with(sealed, STATE_CONTEXT)
        .map_err(|e| match e {
            RequestStateError::Expired => McpError::invalid_params(
                format!(
                    "the approval request expired (the user has {} s to answer); nothing was changed: call plan.apply again to ask anew",
                    ANSWER_WITHIN.as_secs()
                ),
                None,
            ),
            _ => McpError::invalid_params(
                "requestState was not issued by this server for plan.apply, or was altered; nothing was changed",
                None,
            ),
        })?;
    let named = arguments
        .get("plan_id")
        .and_then(Value::as_str)
        .map(str::trim)
        .unwrap_or_default();
    if state.principal != asker.principal() {
        return Err(McpError::invalid_params(
            "requestState was issued to another caller; nothing was changed",
            None,
        ));
    }
    if named != state.plan_id {
        return Err(McpError::invalid_params(
            format!(
                "requestState was issued for plan {}, not plan {}; nothing was changed",
                state.plan_id,
                domain::text::escape(named)
            ),
            None,
        ));
    }
    // Policy, status and risk are checked again: they may have changed while the user read.
    let plan = match askable(asker, arguments, can_answer).await {
        Ok(Some(plan)) => plan,
        Ok(None) => return Ok(Approval::NotAsked),
        Err(refused) => return Ok(refused),
    };
    if plan.content_hash != state.content_hash {
        return Err(McpError::invalid_params(
            format!(
                "plan {} is not the plan the user was shown; nothing was changed",
                plan.id
            ),
            None,
        ));
    }
    let Some(answer) = request
        .input_responses
        .as_ref()
        .and_then(|r| r.get(INPUT_KEY))
    else {
        // The client retried without the answer: ask again.
        return ask(codec, &plan, asker).map(Approval::Ask);
    };
    let answer: ElicitResult = serde_json::from_value(answer.clone()).map_err(|e| {
        McpError::invalid_params(
            format!(
                "inputResponses.{INPUT_KEY} is not an elicitation result ({e}); nothing was changed"
            ),
            None,
        )
    })?;
    if !approved(&answer) {
        return Ok(not_approved(&plan.id));
    }
    Ok(record(
        asker,
        &plan,
        context.client_info().map(|i| i.name),
        correlation,
    )
    .await)
}

fn ask(
    codec: &RequestStateCodec,
    plan: &workflow::Plan,
    asker: &Asker<'_>,
) -> Result<InputRequiredResult, McpError> {
    let state = State {
        plan_id: plan.id.clone(),
        content_hash: plan.content_hash.clone(),
        principal: asker.principal(),
    };
    let sealed = codec
        .seal_json_with(
            &state,
            &SealOptions::new()
                .associated_data(STATE_CONTEXT)
                .ttl(ANSWER_WITHIN),
        )
        .map_err(|e| McpError::internal_error(format!("sealing the request state: {e}"), None))?;
    let mut requests = InputRequests::new();
    requests.insert(
        INPUT_KEY.to_owned(),
        InputRequest::Elicitation(ElicitRequest::new(question(plan))),
    );
    Ok(InputRequiredResult::new(Some(requests), Some(sealed)))
}

fn client_name(context: &RequestContext<RoleServer>) -> Option<String> {
    context.client_info().map(|i| i.name)
}
