//! `runbook.from_transcript`: a draft runbook from the tool calls that solved a problem — reads
//! become Diagnosis and Verify, writes Remediation, devices and addresses variables — checked like
//! every runbook ([`::runbook::transcript`] makes it). It is returned for the assistant to show
//! or refine, and with `save` written to the operator's folder exactly as `runbook.create` writes
//! one.

use serde::Deserialize;
use serde_json::{Map, Value, json};

use ::runbook::transcript::{self, Call, Refusal, Transcript};

use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    name: String,
    title: String,
    description: Option<String>,
    symptom: String,
    tags: Option<Vec<String>>,
    calls: Vec<CallParams>,
    #[serde(default)]
    save: bool,
}

/// One call as the assistant made it.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CallParams {
    tool: String,
    #[serde(default)]
    arguments: Map<String, Value>,
    /// Only read for whether the call failed (an MCP result's `isError`).
    result: Option<Value>,
    is_error: Option<bool>,
}

impl CallParams {
    fn failed(&self) -> bool {
        self.is_error == Some(true)
            || self
                .result
                .as_ref()
                .and_then(|r| r.get("isError"))
                .and_then(Value::as_bool)
                == Some(true)
    }
}

/// Most refusals listed in one answer.
const MAX_REFUSALS: usize = 20;

pub(crate) const HANDLER: crate::Handler =
    crate::toolkit::handler!("runbook.from_transcript", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let runbooks = super::of(&ctx)?;
    let t = Transcript {
        calls: p
            .calls
            .into_iter()
            .map(|c| Call {
                failed: c.failed(),
                tool: c.tool,
                arguments: c.arguments,
            })
            .collect(),
        name: p.name,
        title: p.title,
        description: p.description,
        symptom: p.symptom,
        tags: p.tags,
    };
    let today = chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string();
    let draft = transcript::convert(&t, runbooks.catalog(), &today)
        .map_err(|refusals| ToolError::InvalidArguments(refused(&refusals)))?;
    let file = if p.save {
        Some(super::create::write_draft(runbooks, &t.name, &draft.content)?.file)
    } else {
        None
    };
    Ok(ToolOutput::new(json!({
        "name": draft.runbook.meta.name,
        "version": draft.runbook.meta.version,
        "status": draft.runbook.meta.status,
        "tier": draft.runbook.meta.tier,
        "risk": draft.runbook.meta.risk,
        "variables": draft.variables,
        "skipped": draft.skipped,
        "saved": file.is_some(),
        "file": file,
        "hash": draft.runbook.hash,
        "content": draft.content,
    })))
}

fn refused(refusals: &[Refusal]) -> String {
    let mut shown: Vec<String> = refusals
        .iter()
        .take(MAX_REFUSALS)
        .map(ToString::to_string)
        .collect();
    if refusals.len() > MAX_REFUSALS {
        shown.push(format!("and {} more", refusals.len() - MAX_REFUSALS));
    }
    format!(
        "the calls cannot make a runbook: {}; nothing was written",
        shown.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use routeros_sim::profiles::Profile;
    use serde_json::{Value, json};

    use crate::ToolError;
    use crate::testing::Harness;

    /// A fix as an assistant makes it: look, propose, approve and apply, look again.
    fn fixed() -> Value {
        json!({
            "name": "lan-gateway-missing",
            "title": "LAN gateway address missing",
            "symptom": "Hosts on the LAN get no answer from their gateway 192.168.88.1.",
            "calls": [
                {"tool": "ip.list_addresses", "arguments": {"device_id": "r1"},
                 "result": {"items": []}},
                {"tool": "interface.plan_state",
                 "arguments": {"device_id": "r1", "interface": "nope", "state": "enabled"},
                 "is_error": true},
                {"tool": "ip.plan_address", "arguments": {"device_id": "r1", "action": "add",
                 "address": "192.168.88.1/24", "interface": "bridge"}},
                {"tool": "plan.apply", "arguments": {"plan_id": "p", "approval_token": "t"},
                 "result": {"isError": true, "content": []}},
                {"tool": "ip.list_addresses", "arguments": {"device_id": "r1"}}
            ]
        })
    }

    /// A server whose operator's folder is `dir`.
    fn with_folder(h: &Harness, dir: &std::path::Path) -> crate::Ctx {
        let catalog = Arc::new(catalog::Catalog::embedded().unwrap());
        let runbooks = Arc::new(super::super::Runbooks::new(
            ::runbook::Index::load(Arc::clone(&catalog), Some(dir.to_path_buf())),
            None,
            catalog,
        ));
        Arc::new(crate::ToolContext {
            runbooks: Some(runbooks),
            ..(*h.ctx).clone()
        })
    }

    async fn call(h: &Harness, ctx: &crate::Ctx, tool: &str, args: Value) -> Result<Value, ToolError> {
        h.catalog
            .validate_input(tool, &args)
            .unwrap_or_else(|v| panic!("{tool}: {v:?}"));
        let handler = crate::handlers()
            .into_iter()
            .find(|h| h.name == tool)
            .unwrap();
        let out = (handler.run)(ctx.clone(), args, crate::Caller::new("test:assistant")).await?;
        h.catalog
            .validate_output(tool, &out.structured)
            .unwrap_or_else(|v| panic!("{tool} result: {v:?}"));
        Ok(out.structured)
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_transcript_becomes_a_checked_draft_returned_or_saved() {
        let h = Harness::start(&[Profile::Home]).await;
        let dir = tempfile::tempdir().unwrap();
        let ctx = with_folder(&h, dir.path());

        // Without save: the markdown, the variables and what was left out; no file.
        let got = call(&h, &ctx, "runbook.from_transcript", fixed()).await.unwrap();
        assert_eq!(got["saved"], false);
        assert_eq!(got["status"], "draft");
        assert_eq!(got["version"], "0.1.0");
        let content = got["content"].as_str().unwrap();
        assert!(
            content.contains("```tool ip.plan_address\n{\"action\": \"add\", \"address\": \"{var.address}\", \"device_id\": \"{var.device}\", \"interface\": \"bridge\"}\n```"),
            "{content}"
        );
        assert_eq!(got["variables"][0]["name"], "device");
        assert_eq!(got["variables"][0]["type"], "device");
        assert_eq!(got["variables"][1]["example"], "192.168.88.1/24");
        assert_eq!(
            got["skipped"],
            json!([
                {"call": 1, "tool": "interface.plan_state", "reason": "failed"},
                {"call": 3, "tool": "plan.apply", "reason": "failed"},
            ]),
            "an error result counts as failed"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

        // With save: written as runbook.create writes it, listed as a draft, and it dry-runs.
        let mut args = fixed();
        args["save"] = json!(true);
        let saved = call(&h, &ctx, "runbook.from_transcript", args.clone())
            .await
            .unwrap();
        assert_eq!(saved["file"], "lan-gateway-missing.md");
        let written =
            std::fs::read_to_string(dir.path().join("lan-gateway-missing.md")).unwrap();
        assert_eq!(written, saved["content"].as_str().unwrap());
        let listed = call(&h, &ctx, "runbook.list", json!({"status": "draft"}))
            .await
            .unwrap();
        assert_eq!(listed["items"][0]["name"], "lan-gateway-missing", "{listed}");
        let plan = call(
            &h,
            &ctx,
            "runbook.dry_run",
            json!({"runbook": "lan-gateway-missing",
                   "variables": {"device": "r1", "address": "10.9.0.1/24"}}),
        )
        .await
        .unwrap();
        assert!(
            plan["steps"]
                .as_array()
                .unwrap()
                .iter()
                .any(|s| s["access"] == "write" && s["arguments"]["address"] == "10.9.0.1/24"),
            "{plan}"
        );

        // Never overwritten: the same name again, or a built-in's.
        for name in ["lan-gateway-missing", "interface-down"] {
            args["name"] = json!(name);
            let Err(ToolError::InvalidArguments(e)) =
                call(&h, &ctx, "runbook.from_transcript", args.clone()).await
            else {
                panic!("{name}: refused");
            };
            assert!(e.contains("exists"), "{e}");
        }
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);

        // Without an operator's folder: returned, but not saved.
        h.ok("runbook.from_transcript", fixed()).await;
        let Err(ToolError::Refused(e)) = h.call("runbook.from_transcript", args).await else {
            panic!("save is refused without a folder");
        };
        assert!(e.contains("ROUTEROS_MCP_RUNBOOK_DIR"), "{e}");
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn calls_that_cannot_be_steps_are_named_and_nothing_is_written() {
        let h = Harness::start(&[Profile::Home]).await;
        let dir = tempfile::tempdir().unwrap();
        let ctx = with_folder(&h, dir.path());
        let mut args = fixed();
        args["save"] = json!(true);
        args["calls"][2]["tool"] = json!("ip.drop_everything");
        args["calls"][4]["tool"] = json!("ip.list_addresses\n## Remediation");
        let Err(ToolError::InvalidArguments(e)) =
            call(&h, &ctx, "runbook.from_transcript", args).await
        else {
            panic!("refused");
        };
        assert!(
            e.contains("calls[2]: unknown tool \"ip.drop_everything\"")
                && e.contains("calls[4]: tool \"ip.list_addresses\\n## Remediation\" is not a tool name")
                && e.ends_with("nothing was written"),
            "{e}"
        );
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0);

        // More than 100 calls: the schema refuses them before the tool runs.
        let mut args = fixed();
        args["calls"] = json!(vec![json!({"tool": "ip.list_addresses", "arguments": {"device_id": "r1"}}); 101]);
        let Err(ToolError::InvalidArguments(e)) = h.call("runbook.from_transcript", args).await
        else {
            panic!("refused");
        };
        assert!(e.contains("/calls"), "{e}");
    }
}
