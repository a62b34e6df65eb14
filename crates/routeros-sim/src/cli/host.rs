//! Binds a fleet device to the console side: the interpreter's [`Device`], the SSH server's
//! [`SshHost`] and the scheduler's [`SchedulerHost`] are all implemented by one
//! [`DeviceHost`], and the REST commands that need the interpreter (`/rest/execute`,
//! `/rest/export`, `/rest/system/script/run`) run through the same code.
//!
//! Every decision about reachability and faults is the device's own
//! ([`SimDevice::answering`], [`SimDevice::decide`], [`SimDevice::login`]), so SSH and REST
//! behave alike under the same faults.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use russh::keys::PrivateKey;

use super::error::CliError;
use super::export::{ExportOptions, export};
use super::interp::{Device, Globals, Session, next_job_id, run};
use crate::faults::{FaultAction, RequestKind};
use crate::fleet::{REBOOT_DOWNTIME, SimDevice, Transport};
use crate::model::{self as mspec, MenuSpec, RosError, RouterState, UserInfo};
use crate::rest::cli_hooks::HookReply;
use crate::scheduler::SchedulerHost;
use crate::ssh::{Gate, GateAction, LinkState, SshHost};

/// The failure line an injected error produces, the same text REST puts in its 500 body.
pub const FAULT_FAILURE: &str = "failure: simulated internal error";

/// A fleet device as the console sees it, with the device's global script variables.
#[derive(Debug)]
pub struct DeviceHost {
    dev: Arc<SimDevice>,
    globals: Arc<Globals>,
}

impl DeviceHost {
    /// Wraps `dev`; `globals` should be shared by everything that runs scripts on it.
    pub fn new(dev: Arc<SimDevice>, globals: Arc<Globals>) -> Arc<Self> {
        Arc::new(DeviceHost { dev, globals })
    }

    /// The device.
    pub fn device(&self) -> &Arc<SimDevice> {
        &self.dev
    }
}

impl Device for DeviceHost {
    fn read<R>(&self, f: impl FnOnce(&RouterState) -> R) -> R {
        self.dev.read_state(f)
    }

    fn write<R>(&self, f: impl FnOnce(&mut RouterState) -> R) -> R {
        self.dev.write_state(f)
    }

    fn reboot(&self) {
        // Leave time for the console to flush its last line, as a real router does.
        let down = self.dev.clock().to_real(REBOOT_DOWNTIME);
        self.dev.reboot_later(Duration::from_millis(200), down);
    }
}

impl SshHost for DeviceHost {
    fn host_key(&self) -> PrivateKey {
        self.dev.ssh_host_key()
    }

    fn identity(&self) -> String {
        self.dev.identity()
    }

    fn version(&self) -> String {
        self.dev.read_state(|s| {
            mspec::menu("/system/resource")
                .and_then(|m| s.get(m, None).ok())
                .and_then(|r| {
                    r.get("version")
                        .map(|v| v.split_whitespace().next().unwrap_or("").to_string())
                })
                .unwrap_or_else(|| crate::profiles::ROUTEROS_VERSION.to_string())
        })
    }

    fn authenticate(&self, user: &str, password: &str, peer: SocketAddr) -> Option<UserInfo> {
        self.dev.login(user, password, "ssh", peer.ip(), "ssh").ok()
    }

    fn session_opened(&self, user: &str, peer: SocketAddr) -> Box<dyn std::any::Any + Send + Sync> {
        Box::new(self.dev.open_session(user, peer.ip(), "ssh"))
    }

    fn boot_epoch(&self) -> u64 {
        self.dev.boot_status().borrow().epoch
    }

    fn reboot_started(&self, epoch: u64) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut rx = self.dev.boot_status();
        async move {
            let _ = rx.wait_for(|b| b.epoch != epoch).await;
        }
    }

    fn link_state(&self, peer: SocketAddr, epoch: u64) -> LinkState {
        if self.dev.boot_status().borrow().epoch != epoch {
            return LinkState::Closed;
        }
        let answering = match peer.ip() {
            IpAddr::V4(ip) => self.dev.answering(ip),
            IpAddr::V6(_) => !self.dev.is_rebooting(),
        };
        if answering {
            LinkState::Open
        } else {
            LinkState::Frozen
        }
    }

    fn connection_accepted(&self, _peer: SocketAddr) -> bool {
        self.dev.counters().connection(Transport::Ssh);
        // A rebooting device closes new connections at once, as REST does.
        !self.dev.is_rebooting() && self.dev.service_enabled(Transport::Ssh)
    }

    fn request(&self, method: &str, command: &str, write: bool) -> Gate {
        self.dev.counters().request(Transport::Ssh, method, command);
        let kind = if write {
            RequestKind::Write
        } else {
            RequestKind::Read
        };
        let verdict = self.dev.decide(kind);
        let action = match verdict.action {
            FaultAction::Proceed => GateAction::Proceed,
            FaultAction::Fail => GateAction::Fail(FAULT_FAILURE.to_string()),
            FaultAction::Drop => GateAction::Drop,
            FaultAction::Hang => GateAction::Hang,
            FaultAction::Reboot(down_for) => {
                self.dev.reboot(down_for);
                GateAction::Drop
            }
        };
        Gate {
            delay: verdict.delay,
            action,
        }
    }

    fn globals(&self) -> Arc<Globals> {
        self.globals.clone()
    }
}

impl SchedulerHost for DeviceHost {
    fn boot_epoch(&self) -> u64 {
        self.dev.boot_status().borrow().epoch
    }

    fn is_up(&self) -> bool {
        !self.dev.is_rebooting()
    }

    fn globals(&self) -> Arc<Globals> {
        self.globals.clone()
    }

    fn changed(&self) -> impl std::future::Future<Output = ()> + Send + '_ {
        self.dev.changed()
    }
}

/// The REST error for a console error: RouterOS's REST `detail` is the console's line.
pub fn to_ros_error(e: &CliError) -> RosError {
    let text = e.to_string();
    if let Some(rest) = text.strip_prefix("failure: ") {
        return RosError::Failure(rest.to_string());
    }
    if text == "no such item" {
        return RosError::NoSuchItem;
    }
    if text == "not enough permissions (9)" {
        return RosError::NotEnoughPermissions;
    }
    if let Some(arg) = text.strip_prefix("invalid value for argument ") {
        return RosError::InvalidValue(arg.to_string());
    }
    if let Some(arg) = text.strip_prefix("unknown parameter ") {
        return RosError::UnknownParameter(arg.to_string());
    }
    if let Some(arg) = text.strip_prefix("input does not match any value of ") {
        return RosError::InputDoesNotMatch(arg.to_string());
    }
    if let Some(list) = text.strip_prefix("missing value(s) of argument(s) ") {
        return RosError::MissingValues(list.split(", ").map(str::to_string).collect());
    }
    RosError::Failure(text)
}

/// Console text as REST returns it: lines separated by `\r\n`, no line end after the last.
fn crlf_trimmed(text: &str) -> String {
    let t = text.strip_suffix('\n').unwrap_or(text);
    t.replace('\n', "\r\n")
}

/// What `/rest/execute` with `as-string` returns: the output, then the error line with the
/// context RouterOS adds for script errors (`… (/ip/service/set (certificate); line 1)`).
pub fn rest_text(out: &super::interp::ScriptOutput) -> String {
    let mut text = out.text.clone();
    if let Some(e) = &out.error {
        let line = match (&out.context, e) {
            (Some((command, line)), CliError::Runtime(msg)) => {
                let arg = [
                    "input does not match any value of ",
                    "invalid value for argument ",
                    "unknown parameter ",
                ]
                .iter()
                .find_map(|p| msg.strip_prefix(p));
                match arg {
                    Some(arg) => format!("{msg} ({command} ({arg}); line {line})"),
                    None => format!("{msg} ({command}; line {line})"),
                }
            }
            _ => e.to_string(),
        };
        text.push_str(&line);
        text.push('\n');
    }
    crlf_trimmed(&text)
}

fn session_for(host: &DeviceHost, user: &UserInfo) -> Session {
    let mut s = Session::new(
        user.name.clone(),
        user.policies.clone(),
        host.globals.clone(),
    );
    s.width = 80;
    s
}

/// `POST /rest/execute`: with `as_string`, runs the script and returns its output; without,
/// starts it in the background and returns a job id (`*1A`), as RouterOS does.
pub async fn rest_execute(
    host: Arc<DeviceHost>,
    user: &UserInfo,
    script: &str,
    as_string: bool,
) -> Result<HookReply, RosError> {
    let mut session = session_for(&host, user);
    let src = script.to_string();
    if as_string {
        let out = tokio::task::spawn_blocking(move || run(&*host, &mut session, &src))
            .await
            .map_err(|_| RosError::Failure("interrupted".into()))?;
        // RouterOS answers 200 even when the script fails, with the error in the text.
        return Ok(HookReply::Ret(rest_text(&out)));
    }
    let id = next_job_id();
    tokio::task::spawn_blocking(move || {
        let _ = run(&*host, &mut session, &src);
    });
    Ok(HookReply::Ret(format!("*{id:X}")))
}

/// `POST /rest/export` / `POST /rest/<menu>/export` with the console's flags.
pub async fn rest_export(
    host: Arc<DeviceHost>,
    user: &UserInfo,
    menu: Option<&'static MenuSpec>,
    args: &[(String, String)],
) -> Result<HookReply, RosError> {
    if !user.has("read") {
        return Err(RosError::NotEnoughPermissions);
    }
    let mut opts = ExportOptions {
        under: menu.map(|m| m.path.to_string()),
        ..ExportOptions::default()
    };
    for (k, v) in args {
        let on = v != "false";
        match k.as_str() {
            "compact" => {}
            "verbose" => opts.verbose = on,
            "terse" => opts.terse = on,
            "show-sensitive" => opts.show_sensitive = on,
            "hide-sensitive" => opts.show_sensitive = !on && opts.show_sensitive,
            "file" => {
                return Err(RosError::Failure(
                    "exporting to a file is not supported by the simulator".into(),
                ));
            }
            other => return Err(RosError::UnknownParameter(other.to_string())),
        }
    }
    if opts.show_sensitive && !user.has("sensitive") {
        return Err(RosError::NotEnoughPermissions);
    }
    let text = host.read(|s| export(s, &opts));
    Ok(HookReply::Ret(crlf_trimmed(&text)))
}

/// `POST /rest/system/script/run`: runs a `/system/script` entry (id or name) as `user`.
pub async fn rest_run_script(
    host: Arc<DeviceHost>,
    user: &UserInfo,
    script: &str,
) -> Result<HookReply, RosError> {
    let spec = mspec::menu("/system/script").ok_or(RosError::NoSuchCommandPrefix)?;
    host.read(|s| s.resolve(spec, script))?;
    let mut session = session_for(&host, user);
    let target = if script.starts_with('*') {
        script.to_string()
    } else {
        super::export::quote_export(script)
    };
    let src = format!("/system script run {target}");
    let out = tokio::task::spawn_blocking(move || run(&*host, &mut session, &src))
        .await
        .map_err(|_| RosError::Failure("interrupted".into()))?;
    match &out.error {
        Some(e) => Err(to_ros_error(e)),
        None => Ok(HookReply::Empty),
    }
}
