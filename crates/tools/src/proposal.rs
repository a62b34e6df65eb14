//! What every write tool shares after checking its arguments: turning a change request into a
//! stored plan ([`propose`], [`propose_on`]) and showing a plan ([`view`], [`resource`]) the same
//! way everywhere.

use serde_json::{Value, json};
use workflow::{
    ChangeRequest, DeviceRequest, IssuedToken, Plan, PlanRequest, PlanStatus, Proposal,
};

use crate::{Caller, Ctx, ToolError, ToolOutput};

/// A plan as the `plan://{plan_id}` resource shows it (what `plan.get` returns).
pub async fn resource(ctx: &Ctx, plan_id: &str) -> Result<Value, ToolError> {
    let plan = crate::plan(ctx, plan_id).await?;
    let mut v = view(ctx, &plan, None);
    v["decisions"] = Value::Array(ctx.workflow.decisions(&plan.id).await?);
    v["drift"] = Value::Array(drift(ctx, &plan).await?);
    // A staged rollout's per-device progress (wave, state, gate results).
    if let Some(rollout) = ctx.workflow.rollout_of(&plan.id).await? {
        v["rollout"] = serde_json::to_value(rollout).unwrap_or(Value::Null);
    }
    Ok(v)
}

/// The plan's devices whose configuration changed outside the product since it last applied one
/// (as the last backup saw it): a change planned against such a device may meet surprises.
async fn drift(ctx: &Ctx, plan: &Plan) -> Result<Vec<Value>, ToolError> {
    let mut out = Vec::new();
    for d in &plan.devices {
        if let Some(row) = ctx
            .fleet
            .store()
            .drift_get(&d.device_id.to_string())
            .await?
        {
            let menus: Value = serde_json::from_str(&row.menus).unwrap_or(Value::Null);
            out.push(json!({"device": d.name, "menus": menus, "since": row.since}));
        }
    }
    Ok(out)
}

/// Plans a request for a write tool and returns the plan as the tool's result.
pub(crate) async fn propose(
    ctx: &Ctx,
    caller: &Caller,
    request: PlanRequest,
) -> Result<ToolOutput, ToolError> {
    propose_with(ctx, caller, request, None).await
}

/// Plans a request over many devices as a staged rollout (`plan.create` with `rollout`).
pub(crate) async fn propose_rollout(
    ctx: &Ctx,
    caller: &Caller,
    request: PlanRequest,
    spec: workflow::RolloutSpec,
) -> Result<ToolOutput, ToolError> {
    propose_with(ctx, caller, request, Some(spec)).await
}

async fn propose_with(
    ctx: &Ctx,
    caller: &Caller,
    mut request: PlanRequest,
    rollout: Option<workflow::RolloutSpec>,
) -> Result<ToolOutput, ToolError> {
    // Every device is resolved as the caller may see it and checked for the role to change it;
    // the workflow then gets ids, never a name it would resolve across every project.
    for d in &mut request.devices {
        let (device, _) = crate::device(ctx, &d.device).await?;
        d.device = device.id.to_string();
    }
    if caller.gather.is_some() && rollout.is_some() {
        return Err(ToolError::InvalidArguments(
            "rollout: a staged rollout cannot be a runbook step; propose it with plan.create on its own"
                .into(),
        ));
    }
    if let Some(gather) = &caller.gather {
        gather
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(request);
        return Ok(ToolOutput::new(json!({"gathered": true})));
    }
    let Proposal {
        plan,
        auto_approval,
    } = match rollout {
        Some(spec) => {
            ctx.workflow
                .propose_rollout(&request, spec, &caller.audit)
                .await?
        }
        None => ctx.workflow.propose(&request, &caller.audit).await?,
    };
    Ok(ToolOutput::new(view(ctx, &plan, auto_approval.as_ref())))
}

/// A plan as tools show it: what will change where, in RouterOS terms, how risky it is, what
/// is undone on failure, and what to do next.
pub(crate) fn view(ctx: &Ctx, plan: &Plan, token: Option<&IssuedToken>) -> Value {
    let changes: Vec<Value> = plan
        .changes
        .iter()
        .map(|c| {
            json!({
                "seq": c.seq,
                "device": plan.device_name(&c.device_id),
                "action": c.action,
                "menu": format!("/{}", c.menu),
                "description": c.description,
                "undo": c.inverse.iter().map(workflow::model::Inverse::describe).collect::<Vec<_>>(),
            })
        })
        .collect();
    let config = ctx.workflow.config();
    let protection = if plan.arms_auto_revert() {
        format!(
            "Risk {}: before writing, each device gets a scheduler entry that undoes the changes unless the server confirms them within {} s (like commit confirmed). Any failure also undoes every change already written, in reverse order.",
            plan.risk,
            config.confirm_timeout.as_secs()
        )
    } else {
        format!(
            "Risk {}: every change is one that cannot affect how the server reaches the router (comments, identity, static DNS entries, DHCP leases, address-list entries not covering the server), so no scheduler entry is armed; any failure undoes every change already written, in reverse order, on every device already changed.",
            plan.risk
        )
    };
    let (approval, next) = match (plan.status, token) {
        (PlanStatus::Approved, Some(t)) => (
            json!({"status": "approved", "approved_by": t.approver, "approval_token": t.approval_token, "expires_at": t.expires_at}),
            format!(
                "Approved by policy ({}). Apply with plan.apply plan_id={} and this approval_token.",
                t.approver, plan.id
            ),
        ),
        (PlanStatus::Pending, _) => {
            let policy = config.policy(plan.environment);
            let mut how = format!(
                "A person reviews and approves it: `routeros-mcp plan approve {}` prints the approval token to pass to plan.apply.",
                plan.id
            );
            if policy.elicitation {
                how.push_str(
                    " Or call plan.apply without a token: the server asks the client's user to approve.",
                );
            }
            (
                json!({"status": "required", "how": how}),
                "Show the changes and the risk to the user and wait for their approval; do not apply it without one."
                    .to_owned(),
            )
        }
        (status, _) => (
            json!({"status": status}),
            match status {
                PlanStatus::Approved => format!(
                    "Approved; apply with plan.apply plan_id={} and the approval token the approver gave.",
                    plan.id
                ),
                PlanStatus::Applied => format!(
                    "Applied. plan.rollback plan_id={} proposes undoing it.",
                    plan.id
                ),
                _ => "Nothing more can be done with this plan.".to_owned(),
            },
        ),
    };
    json!({
        "plan_id": plan.id,
        "title": plan.title,
        "kind": plan.kind,
        "rollback_of": plan.rollback_of,
        "status": plan.status,
        "risk": plan.risk,
        "risk_reasons": plan.risk_reasons,
        "environment": plan.environment,
        "devices": plan.devices.iter().map(|d| d.name.clone()).collect::<Vec<_>>(),
        "changes": changes,
        "on_failure": protection,
        "approval": approval,
        "next_step": next,
        "created_by": plan.created_by,
        "created_at": plan.created_at,
        "outcome": plan.outcome,
    })
}

/// Proposes `changes` on one device as the plan of `tool`.
pub(crate) async fn propose_on(
    ctx: &Ctx,
    caller: &Caller,
    tool: &str,
    title: String,
    device: String,
    changes: Vec<ChangeRequest>,
) -> Result<ToolOutput, ToolError> {
    propose(
        ctx,
        caller,
        PlanRequest {
            title,
            tool: tool.into(),
            devices: vec![DeviceRequest { device, changes }],
        },
    )
    .await
}
