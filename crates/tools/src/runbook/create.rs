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
    let created = write_draft(super::of(&ctx)?, &p.name, &p.content)?;
    Ok(ToolOutput::new(json!({
        "name": created.name,
        "version": created.version,
        "status": "draft",
        "file": created.file,
        "hash": created.hash,
    })))
}

/// [`create_draft`] for the runbook tools: its refusals as tool errors.
pub(super) fn write_draft(
    runbooks: &super::Runbooks,
    name: &str,
    content: &str,
) -> Result<Created, ToolError> {
    create_draft(runbooks, name, content).map_err(|e| match e {
        CreateError::Invalid(m) | CreateError::Exists(m) => ToolError::InvalidArguments(m),
        CreateError::NoFolder(m) => ToolError::Refused(m),
        CreateError::Internal(m) => ToolError::internal(&m),
    })
}

/// A draft written to the operator's folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Created {
    pub name: String,
    pub version: String,
    /// The file name in the operator's folder (`NAME.md`).
    pub file: String,
    /// SHA-256 of the content.
    pub hash: String,
}

/// Why a draft was not created; nothing was written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum CreateError {
    /// The name or content is not allowed (the message names what and why).
    #[error("{0}")]
    Invalid(String),
    /// A runbook or file of that name exists.
    #[error("{0}")]
    Exists(String),
    /// There is no operator's folder to write to (`ROUTEROS_MCP_RUNBOOK_DIR` is not set).
    #[error("{0}")]
    NoFolder(String),
    /// Writing the file failed (the cause, for the log).
    #[error("{0}")]
    Internal(String),
}

/// Checks `content` like every runbook and writes it as a draft `NAME.md` to the operator's
/// folder — the one code path of `runbook.create` and of the admin API's runbook creation.
pub fn create_draft(
    runbooks: &super::Runbooks,
    name: &str,
    content: &str,
) -> Result<Created, CreateError> {
    if !::runbook::format::is_runbook_name(name) {
        return Err(CreateError::Invalid(
            "name: lowercase letters, digits and '-', starting with a letter or digit".into(),
        ));
    }
    let Some(dir) = runbooks.with(|i| i.operator_dir().map(std::path::Path::to_path_buf)) else {
        return Err(CreateError::NoFolder(
            "runbooks are created in the operator's folder, and ROUTEROS_MCP_RUNBOOK_DIR is not \
             set on this server"
                .into(),
        ));
    };
    if content.len() > ::runbook::MAX_FILE_BYTES {
        return Err(CreateError::Invalid(format!(
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
        CreateError::Invalid(format!("content: {}", shown.join("; ")))
    })?;
    if runbook.meta.name != name {
        return Err(CreateError::Invalid(format!(
            "the front matter names \"{}\" but name is \"{}\": they must be the same",
            runbook.meta.name, name
        )));
    }
    if runbook.meta.status != ::runbook::Status::Draft {
        return Err(CreateError::Invalid(format!(
            "status is {}: a runbook created here starts as a draft (status: draft); a person \
             publishes it by changing its file",
            runbook.meta.status
        )));
    }
    if runbooks.with(|i| i.get(name).is_some()) {
        return Err(CreateError::Exists(format!(
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
            return Err(CreateError::Exists(format!(
                "the operator's folder already has a file {file}; choose another name"
            )));
        }
        Err(e) => {
            return Err(CreateError::Internal(format!(
                "writing {}: {e}",
                path.display()
            )));
        }
    }
    runbooks.reload_now();
    tracing::info!(runbook = %name, version = %runbook.meta.version, "runbook created as a draft");
    Ok(Created {
        name: runbook.meta.name,
        version: runbook.meta.version,
        file,
        hash: runbook.hash,
    })
}
