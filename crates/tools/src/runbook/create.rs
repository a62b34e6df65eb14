//! `runbook.create`: a new runbook from markdown, checked like every runbook and stored as a
//! draft file in the operator's folder (`ROUTEROS_MCP_RUNBOOK_DIR`), so it is versioned with the
//! rest of the folder and a person publishes it by editing the file. A draft is listed and can be
//! read and dry-run, but is never a prompt; an existing runbook is never overwritten.

use std::io::Write as _;
use std::os::unix::fs::OpenOptionsExt as _;

use serde::Deserialize;
use serde_json::json;

use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    name: String,
    content: String,
}

/// Most problems listed in one refusal.
const MAX_PROBLEMS: usize = 20;

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("runbook.create", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let runbooks = super::of(&ctx)?;
    if !::runbook::format::is_runbook_name(&p.name) {
        return Err(ToolError::InvalidArguments(
            "name: lowercase letters, digits and '-', starting with a letter or digit".into(),
        ));
    }
    let Some(dir) = runbooks.with(|i| i.operator_dir().map(std::path::Path::to_path_buf)) else {
        return Err(ToolError::Refused(
            "runbooks are created in the operator's folder, and ROUTEROS_MCP_RUNBOOK_DIR is not \
             set on this server"
                .into(),
        ));
    };
    if p.content.len() > ::runbook::MAX_FILE_BYTES {
        return Err(ToolError::InvalidArguments(format!(
            "content: {} bytes; a runbook has at most {} (256 KiB)",
            p.content.len(),
            ::runbook::MAX_FILE_BYTES
        )));
    }
    let file = format!("{}.md", p.name);
    let runbook = ::runbook::check(&file, &p.content, runbooks.catalog()).map_err(|problems| {
        let mut shown: Vec<String> = problems
            .iter()
            .take(MAX_PROBLEMS)
            .map(ToString::to_string)
            .collect();
        if problems.len() > MAX_PROBLEMS {
            shown.push(format!("and {} more", problems.len() - MAX_PROBLEMS));
        }
        ToolError::InvalidArguments(format!("content: {}", shown.join("; ")))
    })?;
    if runbook.meta.name != p.name {
        return Err(ToolError::InvalidArguments(format!(
            "the front matter names \"{}\" but name is \"{}\": they must be the same",
            runbook.meta.name, p.name
        )));
    }
    if runbook.meta.status != ::runbook::Status::Draft {
        return Err(ToolError::InvalidArguments(format!(
            "status is {}: a runbook created here starts as a draft (status: draft); a person \
             publishes it by changing its file",
            runbook.meta.status
        )));
    }
    if runbooks.with(|i| i.get(&p.name).is_some()) {
        return Err(ToolError::InvalidArguments(format!(
            "a runbook named \"{}\" exists; choose another name (changing a runbook is a person's \
             edit of its file)",
            p.name
        )));
    }
    let path = dir.join(&file);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o640)
        .open(&path)
        .and_then(|mut f| {
            f.write_all(p.content.as_bytes())?;
            f.sync_all()
        });
    match written {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            return Err(ToolError::InvalidArguments(format!(
                "the operator's folder already has a file {file}; choose another name"
            )));
        }
        Err(e) => return Err(ToolError::internal(&format!("writing {}: {e}", path.display()))),
    }
    runbooks.reload_now();
    tracing::info!(runbook = %p.name, version = %runbook.meta.version, "runbook created as a draft");
    Ok(ToolOutput::new(json!({
        "name": runbook.meta.name,
        "version": runbook.meta.version,
        "status": "draft",
        "file": file,
        "hash": runbook.hash,
    })))
}
