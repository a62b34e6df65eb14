//! `firewall.list_nat_rules`: the IPv4 NAT rules in order, with their position, so a model can
//! tell which port forward or masquerade rule a connection meets first.

use super::list_rules::Params;
use crate::{Ctx, ToolError, ToolOutput};

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("firewall.list_nat_rules", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    super::list_rules::run("firewall.list_nat_rules", "ip/firewall/nat", ctx, p).await
}

#[cfg(test)]
mod tests {
    use routeros_sim::Faults;
    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn nat_rules_in_order_with_filters_and_paging() {
        let h = Harness::start(&[Profile::Edge, Profile::Home]).await;
        let all = h
            .ok("firewall.list_nat_rules", json!({"device_id": "r1"}))
            .await;
        assert_eq!(all["total"], 51);
        let first = &all["items"][0];
        assert_eq!(first["position"], 1);
        assert_eq!(first["chain"], "srcnat");
        assert_eq!(first["action"], "masquerade");
        assert_eq!(first["out-interface"], "sfp-sfpplus1");

        let forwards = h
            .ok(
                "firewall.list_nat_rules",
                json!({"device_id": "r1", "chain": "dstnat", "action": "dst-nat", "limit": 20}),
            )
            .await;
        assert_eq!(forwards["total"], 50);
        assert_eq!(forwards["returned"], 20);
        let f = &forwards["items"][0];
        assert_eq!(f["position"], 2, "position counts the whole table");
        assert_eq!(f["to-addresses"], "10.0.0.20");
        assert_eq!(f["dst-port"], "10000");
        let rest = h
            .ok(
                "firewall.list_nat_rules",
                json!({"device_id": "r1", "chain": "dstnat", "action": "dst-nat", "limit": 1000, "cursor": forwards["next_cursor"]}),
            )
            .await;
        assert_eq!(rest["returned"], 30);
        assert_eq!(rest["items"][0]["position"], 22);
        assert!(rest["next_cursor"].is_null());

        let by_comment = h
            .ok(
                "firewall.list_nat_rules",
                json!({"device_id": "r1", "comment_contains": "FORWARD 49", "fields": ["comment"]}),
            )
            .await;
        assert_eq!(by_comment["total"], 1);
        assert_eq!(by_comment["items"][0]["comment"], "port forward 49");
        assert!(by_comment["items"][0].get("chain").is_none());
        let disabled = h
            .ok(
                "firewall.list_nat_rules",
                json!({"device_id": "r1", "disabled": true}),
            )
            .await;
        assert_eq!(disabled["total"], 0);

        let home = h
            .ok("firewall.list_nat_rules", json!({"device_id": "r2"}))
            .await;
        assert_eq!(home["items"][0]["action"], "masquerade");

        h.sim("r2").set_faults(Faults {
            reject_auth: true,
            ..Faults::default()
        });
        let e = h
            .call("firewall.list_nat_rules", json!({"device_id": "r2"}))
            .await
            .unwrap_err();
        assert!(e.to_string().starts_with("device r2: "), "{e}");
        assert_eq!(e.kind(), "auth_failed");
    }
}
