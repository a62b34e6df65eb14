//! REST commands that need the console interpreter.
//!
//! `POST /rest/execute`, `POST /rest/export` (and `POST /rest/<menu>/export`) and
//! `POST /rest/system/script/run` run console scripts or produce console text; the REST server
//! routes them here and turns the result into RouterOS's JSON. The bodies call the console
//! interpreter ([`crate::cli::host`]); the signatures and the [`HookReply`] shapes are the
//! contract with the REST server.

use std::sync::Arc;

use crate::fleet::SimDevice;
use crate::model::{MenuSpec, Record, RosError, UserInfo};

/// What a hooked command returns to REST.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HookReply {
    /// `{"ret":"…"}` — a job id, command output (`as-string`), or export text.
    Ret(String),
    /// A JSON array of records.
    Records(Vec<Record>),
    /// `[]`.
    Empty,
}

/// `POST /rest/execute {"script":"…"[, "as-string":""]}`: runs `script` as `user`. Without
/// `as_string` RouterOS starts a background job and returns its id (`{"ret":"*18"}`); with it,
/// runs synchronously and returns the output (`{"ret":"CHR"}`).
pub async fn execute(
    device: &Arc<SimDevice>,
    user: &UserInfo,
    script: &str,
    as_string: bool,
) -> Result<HookReply, RosError> {
    crate::cli::host::rest_execute(console(device), user, script, as_string).await
}

/// `POST /rest/export` (whole configuration, `menu` = `None`) or `POST /rest/<menu>/export`,
/// with the console's export flags as arguments (`compact`, `verbose`, `hide-sensitive`,
/// `show-sensitive`, `terse`).
pub async fn export(
    device: &Arc<SimDevice>,
    user: &UserInfo,
    menu: Option<&'static MenuSpec>,
    args: &[(String, String)],
) -> Result<HookReply, RosError> {
    crate::cli::host::rest_export(console(device), user, menu, args).await
}

/// `POST /rest/system/script/run {".id":"*1"}` (or `number`/`numbers` = id or name): runs a
/// `/system/script` entry as `user`.
pub async fn run_script(
    device: &Arc<SimDevice>,
    user: &UserInfo,
    script: &str,
) -> Result<HookReply, RosError> {
    crate::cli::host::rest_run_script(console(device), user, script).await
}

/// The console view of `device` for one REST request. REST jobs get global variables of their
/// own (the console's globals live with its SSH sessions and scheduler).
fn console(device: &Arc<SimDevice>) -> Arc<crate::cli::host::DeviceHost> {
    crate::cli::host::DeviceHost::new(Arc::clone(device), crate::cli::Globals::new())
}
