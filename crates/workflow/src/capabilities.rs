//! Which plans a device allows: the per-device capability flags (`allow_basic_writes`,
//! `allow_professional_workflows`, set by admins on the device record, defaulting by
//! environment) checked when a plan is proposed — whichever tool, command or API route
//! proposes it — before anything is stored.
//!
//! A plan needs `professional` when the tool that proposed it is a professional tool or when
//! its risk is high or critical; otherwise `basic`. Plans proposed outside the tool catalog
//! (the admin API, the CLI) and raw change sets (`plan.create`, whose tier says who may write
//! raw changes at all, not how risky one is) are judged by their risk alone. Proposing the undoing
//! of an applied plan is not checked: it returns devices to a state a person approved before.

use std::collections::BTreeMap;

use domain::{CapabilityFlag, Tier};

use crate::Workflow;
use crate::error::WorkflowError;
use crate::model::{PlanDevice, Risk};

/// Tools whose plans are judged by their risk alone: raw change sets.
pub const JUDGED_BY_RISK: [&str; 1] = ["plan.create"];

/// The tier a plan needs on every one of its devices.
pub fn required_tier(tool_tiers: &BTreeMap<String, Tier>, tool: &str, risk: Risk) -> Tier {
    let tool_tier = if JUDGED_BY_RISK.contains(&tool) {
        None
    } else {
        tool_tiers.get(tool)
    };
    let by_risk = match risk {
        Risk::Low | Risk::Medium => Tier::Basic,
        Risk::High | Risk::Critical => Tier::Professional,
    };
    let by_tool = match tool_tier {
        Some(Tier::Professional) => Tier::Professional,
        // Every plan writes: a plan is at least basic.
        Some(Tier::Basic | Tier::Free) | None => Tier::Basic,
    };
    by_risk.max(by_tool)
}

fn why(tool_tiers: &BTreeMap<String, Tier>, tool: &str, risk: Risk, tier: Tier) -> String {
    let tool_tier = if JUDGED_BY_RISK.contains(&tool) {
        None
    } else {
        tool_tiers.get(tool)
    };
    match (tier, tool_tier) {
        (Tier::Professional, Some(Tier::Professional)) => {
            format!("{tool} is a professional tool")
        }
        (Tier::Professional, _) => format!("the plan is {risk} risk"),
        (Tier::Basic | Tier::Free, _) => "every plan writes to the device".into(),
    }
}

impl Workflow {
    /// Refuses a plan some of whose devices do not allow what it needs, naming each device,
    /// the flag that is off and how an admin turns it on.
    pub(crate) async fn check_capabilities(
        &self,
        tool: &str,
        risk: Risk,
        devices: &[PlanDevice],
    ) -> Result<(), WorkflowError> {
        let tiers = &self.inner.config.tool_tiers;
        let tier = required_tier(tiers, tool, risk);
        let mut refusals = Vec::new();
        for d in devices {
            let device = self.store().device_by_id(&d.device_id).await?;
            let missing = device.capabilities().missing(tier);
            if missing.is_empty() {
                continue;
            }
            let flags = missing
                .iter()
                .map(|f| {
                    let set_by = match f {
                        CapabilityFlag::BasicWrites => device.allow_basic_writes,
                        CapabilityFlag::ProfessionalWorkflows => {
                            device.allow_professional_workflows
                        }
                    };
                    match set_by {
                        Some(_) => format!("{f} is off (set by an admin)"),
                        None => format!(
                            "{f} is off (the default for {} devices)",
                            device.environment
                        ),
                    }
                })
                .collect::<Vec<_>>()
                .join(" and ");
            let enable = missing
                .iter()
                .map(|f| format!("--{} true", f.as_str().replace('_', "-")))
                .collect::<Vec<_>>()
                .join(" ");
            refusals.push(format!(
                "device {} does not allow {tier} plans: {flags}; an admin enables it with `routeros-mcp device update {} --project {} {enable}` (or PATCH the device in the admin API)",
                device.name, device.name, device.project
            ));
        }
        if refusals.is_empty() {
            return Ok(());
        }
        Err(WorkflowError::Refused(format!(
            "this plan needs {tier} capability on its devices ({}); {}",
            why(tiers, tool, risk, tier),
            refusals.join("; ")
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_needs_professional_for_a_professional_tool_or_a_high_risk() {
        let tiers = BTreeMap::from([
            ("dns.add_static".to_owned(), Tier::Basic),
            ("firewall.add_rule".to_owned(), Tier::Professional),
        ]);
        assert_eq!(
            required_tier(&tiers, "dns.add_static", Risk::Low),
            Tier::Basic
        );
        assert_eq!(
            required_tier(&tiers, "dns.add_static", Risk::High),
            Tier::Professional
        );
        assert_eq!(
            required_tier(&tiers, "firewall.add_rule", Risk::Low),
            Tier::Professional
        );
        // Outside the catalog (`plan.create`, the admin API): by risk.
        let mut tiers = tiers;
        tiers.insert("plan.create".into(), Tier::Professional);
        assert_eq!(
            required_tier(&tiers, "plan.create", Risk::Medium),
            Tier::Basic
        );
        assert_eq!(
            required_tier(&tiers, "plan.create", Risk::Critical),
            Tier::Professional
        );
    }
}
