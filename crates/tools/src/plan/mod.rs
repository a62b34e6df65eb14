//! The `plan` tools — see a plan, list plans, apply one with its approval token, cancel one,
//! propose the undoing of an applied one, propose a raw change set — and what every write tool
//! shares: turning a change request into a stored plan and showing it.
//!
//! No tool approves: an approval token comes from a person (`routeros-mcp plan approve`, or the
//! client's user through elicitation where policy allows) or from policy for low risk in lab.

mod apply;
mod cancel;
mod create;
mod get;
mod list;
mod rollback;

pub(crate) use create::text_props;
use serde_json::{Value, json};
use workflow::{IssuedToken, Plan, PlanRequest, PlanStatus, Proposal};

use crate::registry::{Caller, Handler, handler, handler_as_caller};
use crate::{Ctx, ToolError, ToolOutput};

pub(crate) fn register(all: &mut Vec<Handler>) {
    all.push(handler!("plan.get", get::run));
    all.push(handler!("plan.list", list::run));
    all.push(handler_as_caller!("plan.apply", apply::run));
    all.push(handler_as_caller!("plan.cancel", cancel::run));
    all.push(handler_as_caller!("plan.rollback", rollback::run));
    all.push(handler_as_caller!("plan.create", create::run));
}

/// A plan as the `plan://{plan_id}` resource shows it (what `plan.get` returns).
pub async fn resource(ctx: &Ctx, plan_id: &str) -> Result<Value, ToolError> {
    let plan = ctx.workflow.plan(plan_id.trim()).await?;
    let mut v = view(ctx, &plan, None);
    v["decisions"] = Value::Array(ctx.workflow.decisions(&plan.id).await?);
    Ok(v)
}

/// Plans a request for a write tool and returns the plan as the tool's result.
pub(crate) async fn propose(
    ctx: &Ctx,
    caller: &Caller,
    request: PlanRequest,
) -> Result<ToolOutput, ToolError> {
    let Proposal {
        plan,
        auto_approval,
    } = ctx.workflow.propose(&request, &caller.audit).await?;
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

#[cfg(test)]
mod write_tests;

#[cfg(test)]
mod tests {
    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn propose_apply_review_and_roll_back_through_the_tools() {
        let h = Harness::start(&[Profile::Home]).await;
        let plan = h
            .ok(
                "dns.add_static_entry",
                json!({"device_id": "r1", "name": "nas.lan", "address": "192.168.88.20"}),
            )
            .await;
        assert_eq!(plan["risk"], "low");
        assert_eq!(
            plan["status"], "approved",
            "low risk in lab: approved by policy"
        );
        assert_eq!(
            plan["changes"][0]["description"],
            "/ip/dns/static add address=192.168.88.20 name=nas.lan"
        );
        assert!(
            plan["changes"][0]["undo"][0]
                .as_str()
                .unwrap()
                .starts_with("/ip/dns/static remove the added item")
        );
        let token = plan["approval"]["approval_token"]
            .as_str()
            .unwrap()
            .to_owned();
        let id = plan["plan_id"].as_str().unwrap().to_owned();
        // Nothing on the router yet.
        let listed = h
            .ok(
                "dns.list_static",
                json!({"device_id": "r1", "name_contains": "nas"}),
            )
            .await;
        assert_eq!(listed["total"], 0);
        let applied = h
            .ok(
                "plan.apply",
                json!({"plan_id": id, "approval_token": token}),
            )
            .await;
        assert_eq!(applied["status"], "applied", "{applied}");
        let listed = h
            .ok(
                "dns.list_static",
                json!({"device_id": "r1", "name_contains": "nas"}),
            )
            .await;
        assert_eq!(listed["total"], 1);
        let again = h
            .call(
                "plan.apply",
                json!({"plan_id": id, "approval_token": token}),
            )
            .await
            .unwrap_err();
        assert!(again.to_string().contains("already used"), "{again}");
        let got = h.ok("plan.get", json!({"plan_id": id})).await;
        assert_eq!(got["status"], "applied");
        assert_eq!(got["decisions"][0]["via"], "policy");
        let undo = h.ok("plan.rollback", json!({"plan_id": id})).await;
        assert_eq!(undo["kind"], "rollback");
        assert_eq!(undo["rollback_of"], id.as_str());
        let undo_token = undo["approval"]["approval_token"]
            .as_str()
            .unwrap()
            .to_owned();
        h.ok(
            "plan.apply",
            json!({"plan_id": undo["plan_id"], "approval_token": undo_token}),
        )
        .await;
        let listed = h
            .ok(
                "dns.list_static",
                json!({"device_id": "r1", "name_contains": "nas"}),
            )
            .await;
        assert_eq!(listed["total"], 0);
        let plans = h.ok("plan.list", json!({"status": "applied"})).await;
        assert_eq!(plans["total"], 2);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn risky_plans_wait_for_a_person() {
        let h = Harness::start(&[Profile::Home]).await;
        let plan = h
            .ok(
                "plan.create",
                json!({"title": "take ether1 down", "changes": [
                    {"device_id": "r1", "menu": "interface", "action": "disable", "where": {"name": "ether1"}}
                ]}),
            )
            .await;
        assert_eq!(plan["risk"], "critical");
        assert_eq!(plan["status"], "pending");
        assert!(plan["approval"].get("approval_token").is_none());
        assert!(
            plan["approval"]["how"]
                .as_str()
                .unwrap()
                .contains("routeros-mcp plan approve")
        );
        let e = h
            .call("plan.apply", json!({"plan_id": plan["plan_id"]}))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("needs an approval token"), "{e}");
        let e = h
            .call(
                "plan.apply",
                json!({"plan_id": plan["plan_id"], "approval_token": "rmcp-approval-v1.x.y"}),
            )
            .await
            .unwrap_err();
        assert!(
            e.to_string().contains("signature is invalid")
                || e.to_string().contains("not an approval token"),
            "{e}"
        );
        let cancelled = h
            .ok("plan.cancel", json!({"plan_id": plan["plan_id"]}))
            .await;
        assert_eq!(cancelled["status"], "cancelled");
        let bad = h
            .call(
                "plan.create",
                json!({"title": "nope", "changes": [
                    {"device_id": "r1", "menu": "system/script", "action": "add", "properties": {"name": "x"}}
                ]}),
            )
            .await
            .unwrap_err();
        assert!(
            bad.to_string()
                .contains("plans do not change /system/script"),
            "{bad}"
        );
    }
}
