//! The `plan` tools — see a plan, list plans, apply one with its approval token, cancel one,
//! propose the undoing of an applied one, propose a raw change set (or a staged rollout of one),
//! pause, resume or abort a rollout. What every write tool shares — turning a change request into a
//! stored plan and showing it — is [`crate::proposal`].
//!
//! No tool approves: an approval token comes from a person (`routeros-mcp plan approve`, or the
//! client's user through elicitation where policy allows) or from policy for low risk in lab.

crate::toolkit::tools! {
    abort,
    apply,
    cancel,
    create,
    get,
    list,
    pause,
    resume,
    rollback,
}

pub use crate::proposal::resource;

#[cfg(test)]
mod rollout_tests;
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
