//! Prompts: ready-made investigations a user can start from their client, and one prompt per
//! published runbook (its variables are the arguments; the prompt is the runbook's steps with the
//! values filled in, and how to follow them). A draft or deprecated runbook is never a prompt.

use std::collections::BTreeMap;

use rmcp::ErrorData as McpError;
use rmcp::model::{
    GetPromptRequestParams, GetPromptResult, ListPromptsResult, Prompt, PromptArgument,
    PromptMessage, Role,
};
use serde_json::Value;
use tools::runbook::Runbooks;

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

/// Whether argument `argument` of prompt `name` names a device (for completions): a built-in's
/// `device_id`, or a published runbook's variable of type `device`.
pub(crate) fn takes_device(runbooks: Option<&Runbooks>, name: &str, argument: &str) -> bool {
    if let Some(b) = BUILTINS.iter().find(|b| b.name == name) {
        return b.device && argument == "device_id";
    }
    runbooks.is_some_and(|r| {
        r.with(|index| {
            published(index, name).is_some_and(|rb| {
                rb.variable(argument)
                    .is_some_and(|v| v.var_type == runbook::VarType::Device)
            })
        })
    })
}

/// A published runbook named `name` (not one that shares a built-in prompt's name).
fn published<'i>(index: &'i runbook::Index, name: &str) -> Option<&'i runbook::Runbook> {
    if BUILTINS.iter().any(|b| b.name == name) {
        return None;
    }
    index
        .get(name)
        .map(|e| &e.runbook)
        .filter(|r| r.meta.status == runbook::Status::Published)
}

pub(crate) fn list(runbooks: Option<&Runbooks>) -> ListPromptsResult {
    let mut prompts: Vec<Prompt> = BUILTINS
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
        .collect();
    if runbooks.is_some() {
        prompts.push(
            Prompt::new(
                EXECUTE,
                Some(
                    "Follow any published runbook by name: runbookName, plus the runbook's variables as further arguments (runbook.list shows them).",
                ),
                Some(vec![
                    PromptArgument::new("runbookName")
                        .with_description("The runbook's name (runbook.list, runbook.search)")
                        .with_required(true),
                ]),
            )
            .with_title("Execute a runbook"),
        );
    }
    if let Some(runbooks) = runbooks {
        runbooks.with(|index| {
            for entry in index.iter() {
                let Some(r) = published(index, entry.runbook.name()) else {
                    continue;
                };
                let args: Vec<PromptArgument> = r
                    .meta
                    .variables
                    .iter()
                    .map(|v| {
                        PromptArgument::new(v.name.clone())
                            .with_description(format!("{} ({})", v.description, v.var_type))
                            .with_required(v.required)
                    })
                    .collect();
                prompts.push(
                    Prompt::new(
                        r.meta.name.clone(),
                        Some(format!("Runbook: {}", r.meta.description)),
                        (!args.is_empty()).then_some(args),
                    )
                    .with_title(r.meta.title.clone()),
                );
            }
        });
    }
    ListPromptsResult::with_all_items(prompts)
}

pub(crate) fn get(
    runbooks: Option<&Runbooks>,
    request: &GetPromptRequestParams,
) -> Result<GetPromptResult, McpError> {
    if request.name == EXECUTE {
        return execute(runbooks, request);
    }
    let Some(b) = BUILTINS.iter().find(|b| b.name == request.name) else {
        if let Some(result) = runbooks.and_then(|r| runbook_prompt(r, request).transpose()) {
            return result;
        }
        return Err(McpError::invalid_params(
            format!(
                "unknown prompt \"{}\": prompts/list shows the prompts this server offers",
                domain::text::escape(&request.name)
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

/// The prompt that follows any published runbook by name (`runbookName`); the other arguments
/// are its variables.
const EXECUTE: &str = "execute-runbook";

fn execute(
    runbooks: Option<&Runbooks>,
    request: &GetPromptRequestParams,
) -> Result<GetPromptResult, McpError> {
    let Some(runbooks) = runbooks else {
        return Err(McpError::invalid_params(
            "runbooks are not set up on this server".to_owned(),
            None,
        ));
    };
    let mut arguments = request.arguments.clone().unwrap_or_default();
    let name = match arguments.remove("runbookName") {
        Some(Value::String(n)) if !n.trim().is_empty() => n,
        _ => {
            return Err(McpError::invalid_params(
                "prompt execute-runbook needs the argument runbookName (runbook.list and runbook.search show the runbooks on offer)".to_owned(),
                None,
            ));
        }
    };
    let mut inner = GetPromptRequestParams::new(name.clone());
    inner.arguments = Some(arguments);
    runbook_prompt(runbooks, &inner)?.ok_or_else(|| {
        McpError::invalid_params(
            format!(
                "no published runbook named \"{}\"; runbook.list and runbook.search show the runbooks on offer",
                domain::text::escape(&name).chars().take(80).collect::<String>()
            ),
            None,
        )
    })
}

/// A published runbook as a prompt: its steps with the arguments filled in, and how to follow
/// them. `None` when no published runbook has the name.
fn runbook_prompt(
    runbooks: &Runbooks,
    request: &GetPromptRequestParams,
) -> Result<Option<GetPromptResult>, McpError> {
    let Some(r) = runbooks.with(|index| published(index, &request.name).cloned()) else {
        return Ok(None);
    };
    let given: BTreeMap<String, Value> = request
        .arguments
        .iter()
        .flatten()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    let inputs = runbook::Inputs::resolve(&r, &given)
        .map_err(|e| McpError::invalid_params(format!("prompt {}: {e}", r.meta.name), None))?;
    let plan = runbook::dry_run(&r, runbooks.catalog(), &inputs, runbooks.env())
        .map_err(|e| McpError::invalid_params(format!("prompt {}: {e}", r.meta.name), None))?;
    let text = format!(
        "Follow the runbook \"{title}\" ({name} {version}, risk {risk}) for this symptom:\n\n\
         {symptom}\n\n\
         Do the steps below in order. For a tool step, call the tool with the arguments shown; \
         where an argument refers to an earlier step's result, take it from that result. A step \
         with conditions is a gate: check them on the result and stop at the first that does \
         not hold. A WRITE step changes nothing by itself: it proposes a plan that a person \
         approves before it is applied. Prose steps are for you to carry out or ask about. At \
         the end, report the outcome: which steps ran, what each found, where you stopped and \
         why, and whether the Verify steps passed. (runbook.run, where your session offers it, \
         runs the tool steps itself and gathers the writes into one plan.)\n\n{plan}",
        title = r.meta.title,
        name = r.meta.name,
        version = r.meta.version,
        risk = r.meta.risk,
        symptom = r.symptom.trim(),
    );
    Ok(Some(
        GetPromptResult::new(vec![PromptMessage::new_text(Role::User, text)])
            .with_description(format!("Runbook {} {}", r.meta.name, r.meta.version)),
    ))
}
