//! Built-in prompts: ready-made investigations a user can start from their client (runbooks will
//! add one prompt each later).

use rmcp::ErrorData as McpError;
use rmcp::model::{
    GetPromptRequestParams, GetPromptResult, ListPromptsResult, Prompt, PromptArgument,
    PromptMessage, Role,
};

struct Builtin {
    name: &'static str,
    title: &'static str,
    description: &'static str,
    device: bool,
    text: &'static str,
}

const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "device-health-check",
        title: "Device health check",
        description: "Check one router's health: uptime, CPU, memory, temperature and voltage, interfaces that are down, and recent errors in its log.",
        device: true,
        text: "Check the health of router {device_id}. Use system.get_overview and system.get_health, \
               interface.list (look for interfaces that should be running but are not), and \
               log.get_recent filtered to warnings and errors. Report anything abnormal with the \
               evidence, and say plainly if everything looks healthy. Do not change anything.",
    },
    Builtin {
        name: "firewall-review",
        title: "Firewall review",
        description: "Review one router's IPv4 firewall: rule order, shadowed or redundant rules, rules that accept too much, and what is exposed to the WAN.",
        device: true,
        text: "Review the firewall of router {device_id}. Read firewall.list_filter_rules (all \
               chains, in order), firewall.list_nat_rules and firewall.list_address_lists. Explain \
               what is allowed from the WAN, point out shadowed, redundant or overly broad rules \
               with their positions, and suggest improvements as proposals only.",
    },
    Builtin {
        name: "fleet-triage",
        title: "Fleet triage",
        description: "Find the routers that need attention across the fleet: unreachable devices, high load, low memory, old RouterOS versions.",
        device: false,
        text: "Triage the fleet. Run fleet.get_health, then look closer (system.get_overview, \
               log.get_recent) at the devices that are unreachable or unhealthy. Summarise by \
               urgency with one line per device.",
    },
];

/// Whether a prompt takes a `device_id` argument (for completions).
pub(crate) fn takes_device(name: &str) -> bool {
    BUILTINS.iter().any(|b| b.name == name && b.device)
}

pub(crate) fn list() -> ListPromptsResult {
    ListPromptsResult::with_all_items(
        BUILTINS
            .iter()
            .map(|b| {
                let args = b.device.then(|| {
                    vec![
                        PromptArgument::new("device_id")
                            .with_description("Device id or name")
                            .with_required(true),
                    ]
                });
                Prompt::new(b.name, Some(b.description), args).with_title(b.title)
            })
            .collect(),
    )
}

pub(crate) fn get(request: &GetPromptRequestParams) -> Result<GetPromptResult, McpError> {
    let Some(b) = BUILTINS.iter().find(|b| b.name == request.name) else {
        return Err(McpError::invalid_params(
            format!(
                "unknown prompt \"{}\": prompts/list shows the prompts this server offers",
                request.name
            ),
            None,
        ));
    };
    let mut text = b.text.to_owned();
    if b.device {
        let device = request
            .arguments
            .as_ref()
            .and_then(|a| a.get("device_id"))
            .and_then(|v| v.as_str())
            .filter(|v| !v.trim().is_empty())
            .ok_or_else(|| {
                McpError::invalid_params(
                    format!("prompt {} needs the argument device_id", b.name),
                    None,
                )
            })?;
        text = text.replace("{device_id}", device);
    }
    Ok(
        GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
            .with_description(b.description),
    )
}
