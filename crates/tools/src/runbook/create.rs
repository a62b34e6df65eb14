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
    let written = write_draft(super::of(&ctx)?, &p.name, &p.content)?;
    Ok(ToolOutput::new(json!({
        "name": written.runbook.meta.name,
        "version": written.runbook.meta.version,
        "status": "draft",
        "file": written.file,
        "hash": written.runbook.hash,
    })))
}

/// A draft written to the operator's folder.
#[derive(Debug)]
pub(super) struct Written {
    pub(super) runbook: ::runbook::Runbook,
    /// `NAME.md`, in the operator's folder.
    pub(super) file: String,
}

/// Checks `content` like every runbook and writes it as the draft `NAME.md` into the operator's
/// folder: refused when the folder is not set, the content does not load, it is not a draft of
/// that name, or a runbook or file of that name exists (never overwritten). The one way the
/// runbook tools write a file.
pub(super) fn write_draft(
    runbooks: &super::Runbooks,
    name: &str,
    content: &str,
) -> Result<Written, ToolError> {
    if !::runbook::format::is_runbook_name(name) {
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
    if content.len() > ::runbook::MAX_FILE_BYTES {
        return Err(ToolError::InvalidArguments(format!(
            "content: {} bytes; a runbook has at most {} (256 KiB)",
            content.len(),
            ::runbook::MAX_FILE_BYTES
        )));
    }
    let file = format!("{name}.md");
    let runbook = ::runbook::check(&file, content, runbooks.catalog()).map_err(|problems| {
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
    if runbook.meta.name != name {
        return Err(ToolError::InvalidArguments(format!(
            "the front matter names \"{}\" but name is \"{name}\": they must be the same",
            runbook.meta.name
        )));
    }
    if runbook.meta.status != ::runbook::Status::Draft {
        return Err(ToolError::InvalidArguments(format!(
            "status is {}: a runbook created here starts as a draft (status: draft); a person \
             publishes it by changing its file",
            runbook.meta.status
        )));
    }
    if runbooks.with(|i| i.get(name).is_some()) {
        return Err(ToolError::InvalidArguments(format!(
            "a runbook named \"{name}\" exists; choose another name (changing a runbook is a \
             person's edit of its file)"
        )));
    }
    let path = dir.join(&file);
    let written = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o640)
        .open(&path)
        .and_then(|mut f| {
            f.write_all(content.as_bytes())?;
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
    tracing::info!(runbook = %name, version = %runbook.meta.version, "runbook created as a draft");
    Ok(Written { runbook, file })
}
