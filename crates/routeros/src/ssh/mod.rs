//! The RouterOS CLI driver over SSH (every RouterOS version with `:serialize`; REST-less
//! devices included).
//!
//! One SSH connection per device is opened on first use and kept: each call is an `exec`
//! request on a new channel of that connection (no PTY, so RouterOS prints clean output without
//! prompt or colours). A connection that died while idle is replaced once, transparently; one
//! that dies mid-command is reported, never silently re-run. The server's host key must match
//! the pinned SHA-256 fingerprint (that of the public key blob, as `ssh-keygen -l` shows it).

mod output;
mod script;
pub mod sftp;

/// Console quoting, shared with whoever writes RouterOS scripts (device-side auto-revert).
pub use script::{check_property, quote};

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use russh::ChannelMsg;
use russh::client::{self, Handle};
use russh::keys::PublicKeyOrCertificate;
use secrecy::{ExposeSecret, SecretString};

use crate::driver::{Driver, DriverKind, Target, Trust};
use crate::error::{DriverError, ErrorKind, TrustKind};
use crate::types::{
    DeviceCommand, ExportOptions, Fingerprint, MenuPath, PrintQuery, Props, Record, RosId,
};

type Presented = Arc<Mutex<Option<Fingerprint>>>;

/// Checks the server's host key against the pin during the handshake.
struct HostKeyCheck {
    trust: Trust,
    presented: Presented,
}

impl client::Handler for HostKeyCheck {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        let blob = match key {
            PublicKeyOrCertificate::PublicKey { key, .. } => key.to_bytes(),
            // RouterOS does not present host certificates; refuse what cannot be pinned.
            PublicKeyOrCertificate::Certificate(_) => return Ok(false),
        };
        let Ok(blob) = blob else { return Ok(false) };
        let fingerprint = Fingerprint::of(&blob);
        if let Ok(mut slot) = self.presented.lock() {
            *slot = Some(fingerprint);
        }
        Ok(match self.trust {
            Trust::Pinned(expected) => expected == fingerprint,
            Trust::FirstUse => true,
            Trust::Unknown => false,
        })
    }
}

/// How the console prints what a read returns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadFormat {
    /// `:serialize to=json` (RouterOS ≥ 7.13); tried first.
    Json,
    /// `key LENGTH value` lines, for consoles without `:serialize`.
    Lines,
}

const FORMAT_JSON: u8 = 0;
const FORMAT_LINES: u8 = 1;

/// Talks to one device's console over SSH.
pub struct SshDriver {
    name: String,
    host: String,
    port: u16,
    username: String,
    password: SecretString,
    trust: Trust,
    presented: Presented,
    timeout: Duration,
    config: Arc<client::Config>,
    session: tokio::sync::Mutex<Option<Handle<HostKeyCheck>>>,
    /// Learned on the first read: a console that does not know `:serialize` gets line reads.
    read_format: std::sync::atomic::AtomicU8,
    /// Most bytes one command's output may have ([`crate::error::MAX_ANSWER_BYTES`]).
    max_answer: usize,
}

impl std::fmt::Debug for SshDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SshDriver")
            .field("name", &self.name)
            .field("host", &self.host)
            .field("port", &self.port)
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// How long an unused connection is kept before the server-side resources are released.
const IDLE_TIMEOUT: Duration = Duration::from_secs(300);

impl SshDriver {
    /// Builds the driver; the connection is made on the first call.
    pub fn new(target: &Target, timeout: Duration) -> Self {
        let config = client::Config {
            inactivity_timeout: Some(IDLE_TIMEOUT),
            keepalive_interval: Some(Duration::from_secs(30)),
            keepalive_max: 3,
            // Small request/response exchanges: Nagle plus delayed ACK would add ~40 ms each.
            nodelay: true,
            ..client::Config::default()
        };
        Self {
            name: target.name.clone(),
            host: target.host.to_string(),
            port: target.ssh_port,
            username: target.username.clone(),
            password: target.password.clone(),
            trust: target.ssh,
            presented: Arc::new(Mutex::new(None)),
            timeout,
            config: Arc::new(config),
            session: tokio::sync::Mutex::new(None),
            read_format: std::sync::atomic::AtomicU8::new(FORMAT_JSON),
            max_answer: crate::error::MAX_ANSWER_BYTES,
        }
    }

    /// Caps command output at `bytes` instead of [`crate::error::MAX_ANSWER_BYTES`].
    pub fn with_max_answer_bytes(mut self, bytes: usize) -> Self {
        self.max_answer = bytes;
        self
    }

    /// Uses the given read format from now on (normally learned from the device).
    pub fn with_read_format(self, format: ReadFormat) -> Self {
        let value = match format {
            ReadFormat::Json => FORMAT_JSON,
            ReadFormat::Lines => FORMAT_LINES,
        };
        self.read_format
            .store(value, std::sync::atomic::Ordering::Relaxed);
        self
    }

    fn reads_lines(&self) -> bool {
        self.read_format.load(std::sync::atomic::Ordering::Relaxed) == FORMAT_LINES
    }

    /// Runs a read in the learned format; a console that rejects `:serialize` is remembered and
    /// the read repeated as lines.
    async fn read(&self, json: &str, lines: &str) -> Result<Vec<Record>, DriverError> {
        if !self.reads_lines() {
            let text = self.exec(json).await?;
            match output::records(&text) {
                Err(_)
                    if text.contains("serialize") && !text.trim_start().starts_with(['[', '{']) =>
                {
                    tracing::info!(device = %self.name, "console has no :serialize; reading property lines");
                    self.read_format
                        .store(FORMAT_LINES, std::sync::atomic::Ordering::Relaxed);
                }
                other => return other.map_err(|k| self.err(k)),
            }
        }
        let text = self.exec(lines).await?;
        output::line_records(&text).map_err(|k| self.err(k))
    }

    fn err(&self, kind: ErrorKind) -> DriverError {
        kind.on(&self.name)
    }

    async fn connect(&self) -> Result<Handle<HostKeyCheck>, DriverError> {
        let handler = HostKeyCheck {
            trust: self.trust,
            presented: Arc::clone(&self.presented),
        };
        let connecting = client::connect(
            Arc::clone(&self.config),
            (self.host.as_str(), self.port),
            handler,
        );
        let mut handle = match tokio::time::timeout(self.timeout, connecting).await {
            Err(_) => return Err(self.err(ErrorKind::Timeout(self.timeout))),
            Ok(Ok(h)) => h,
            Ok(Err(e)) => return Err(self.connect_error(&e)),
        };
        // `+ct`: no colours, no terminal detection (RouterOS login options).
        let login = format!("{}+ct", self.username);
        let auth = tokio::time::timeout(
            self.timeout,
            handle.authenticate_password(login, self.password.expose_secret()),
        )
        .await
        .map_err(|_| self.err(ErrorKind::Timeout(self.timeout)))?
        .map_err(|e| self.err(ErrorKind::Unreachable(format!("SSH authentication: {e}"))))?;
        if !auth.success() {
            return Err(self.err(ErrorKind::AuthFailed {
                user: self.username.clone(),
            }));
        }
        Ok(handle)
    }

    fn connect_error(&self, e: &russh::Error) -> DriverError {
        let presented = self.presented.lock().ok().and_then(|p| *p);
        match (e, self.trust, presented) {
            (russh::Error::UnknownKey, Trust::Pinned(expected), Some(shown)) => {
                self.err(ErrorKind::TrustMismatch {
                    what: TrustKind::SshHostKey,
                    expected: expected.openssh(),
                    presented: shown.openssh(),
                })
            }
            (russh::Error::UnknownKey, _, _) => self.err(ErrorKind::NotPinned {
                what: TrustKind::SshHostKey,
            }),
            (russh::Error::IO(io), _, _) => self.err(ErrorKind::Unreachable(io.to_string())),
            (other, _, _) => self.err(ErrorKind::Unreachable(format!("SSH: {other}"))),
        }
    }

    /// Runs one console command on a fresh channel of the persistent connection.
    async fn exec(&self, command: &str) -> Result<String, DriverError> {
        let mut session = self.session.lock().await;
        for attempt in 0..2 {
            if session.as_ref().is_none_or(Handle::is_closed) {
                *session = Some(self.connect().await?);
            }
            let Some(handle) = session.as_ref() else {
                continue;
            };
            match handle.channel_open_session().await {
                Ok(channel) => {
                    let result = self.collect(channel, command).await;
                    // A lost connection, or one the device is still writing an oversized
                    // answer to, is replaced on the next call.
                    if matches!(&result, Err(e) if matches!(e.kind, ErrorKind::Unreachable(_))
                        || e.kind == ErrorKind::too_large(self.max_answer))
                    {
                        *session = None;
                    }
                    return result;
                }
                // The connection died while idle; nothing was sent, so replacing it is safe.
                Err(_) if attempt == 0 => *session = None,
                Err(e) => return Err(self.err(ErrorKind::Unreachable(format!("SSH channel: {e}")))),
            }
        }
        Err(self.err(ErrorKind::Unreachable(
            "SSH connection could not be established".into(),
        )))
    }

    async fn collect(
        &self,
        mut channel: russh::Channel<client::Msg>,
        command: &str,
    ) -> Result<String, DriverError> {
        channel
            .exec(true, command.as_bytes())
            .await
            .map_err(|e| self.err(ErrorKind::Unreachable(format!("SSH exec: {e}"))))?;
        let mut out = Vec::new();
        let mut finished = false;
        while let Some(msg) = channel.wait().await {
            let data = match &msg {
                ChannelMsg::Data { data } | ChannelMsg::ExtendedData { data, .. } => Some(data),
                _ => None,
            };
            if let Some(data) = data {
                if out.len() + data.len() > self.max_answer {
                    // The caller drops the connection: the device may still be writing.
                    return Err(self.err(ErrorKind::too_large(self.max_answer)));
                }
                out.extend_from_slice(data);
                continue;
            }
            match msg {
                ChannelMsg::Data { .. } | ChannelMsg::ExtendedData { .. } => {}
                ChannelMsg::Eof | ChannelMsg::Close => {
                    finished = true;
                    break;
                }
                ChannelMsg::ExitStatus { .. } => finished = true,
                _ => {}
            }
        }
        if !finished {
            return Err(self.err(ErrorKind::Unreachable(
                "the SSH connection was lost before the command finished".into(),
            )));
        }
        Ok(output::clean(&out))
    }

    /// Runs a command that prints nothing on success.
    async fn exec_silent(&self, command: &str) -> Result<(), DriverError> {
        let text = self.exec(command).await?;
        if text.trim().is_empty() {
            Ok(())
        } else {
            Err(self.err(output::error_of(&text)))
        }
    }

    fn invalid(&self, detail: String) -> DriverError {
        self.err(ErrorKind::InvalidRequest(detail))
    }
}

#[async_trait]
impl Driver for SshDriver {
    fn kind(&self) -> DriverKind {
        DriverKind::Ssh
    }

    async fn print(&self, menu: &MenuPath, query: &PrintQuery) -> Result<Vec<Record>, DriverError> {
        let json = script::print(menu, query).map_err(|e| self.invalid(e))?;
        let lines = script::print_lines(menu, query).map_err(|e| self.invalid(e))?;
        let records = self.read(&json, &lines).await?;
        Ok(keep_proplist(query, records))
    }

    /// The reads in one console command: each printed under a marker line, each in its own
    /// `:do … on-error` so a failing read does not stop the others. A read that failed, or a
    /// command the console refused as a whole (a menu this device does not have is refused
    /// before anything runs), is made again on its own for its own answer or error.
    async fn print_many(
        &self,
        reads: &[(MenuPath, PrintQuery)],
    ) -> Result<Vec<Result<Vec<Record>, DriverError>>, DriverError> {
        if self.reads_lines() || reads.len() < 2 {
            let mut out = Vec::with_capacity(reads.len());
            for (menu, query) in reads {
                out.push(self.print(menu, query).await);
            }
            return Ok(out);
        }
        let commands: Vec<Result<String, String>> =
            reads.iter().map(|(m, q)| script::print(m, q)).collect();
        let text = self.exec(&script::batch(&commands)).await?;
        let sections = script::sections(&text, reads.len());
        let mut out = Vec::with_capacity(reads.len());
        for (((menu, query), command), section) in reads.iter().zip(&commands).zip(sections) {
            let answer = match (command, section) {
                (Err(e), _) => Err(self.invalid(e.clone())),
                (Ok(_), Some(section)) if section.trim() != script::READ_FAILED => {
                    match output::records(&section) {
                        Ok(records) => Ok(keep_proplist(query, records)),
                        Err(_) => self.print(menu, query).await,
                    }
                }
                (Ok(_), _) => self.print(menu, query).await,
            };
            out.push(answer);
        }
        Ok(out)
    }

    async fn get(&self, menu: &MenuPath, id: &RosId) -> Result<Record, DriverError> {
        self.read(&script::get(menu, id), &script::get_lines(menu, id))
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| self.err(ErrorKind::NotFound("no such item".into())))
    }

    async fn add(
        &self,
        menu: &MenuPath,
        props: &Props,
        place_before: Option<&RosId>,
    ) -> Result<Record, DriverError> {
        let command = script::add(menu, props, place_before).map_err(|e| self.invalid(e))?;
        let text = self.exec(&command).await?;
        let id = RosId::parse(text.trim().lines().last().unwrap_or_default().trim())
            .map_err(|_| self.err(output::error_of(&text)))?;
        self.get(menu, &id).await
    }

    async fn set(
        &self,
        menu: &MenuPath,
        id: Option<&RosId>,
        props: &Props,
    ) -> Result<(), DriverError> {
        let command = script::set(menu, id, props).map_err(|e| self.invalid(e))?;
        self.exec_silent(&command).await
    }

    async fn remove(&self, menu: &MenuPath, id: &RosId) -> Result<(), DriverError> {
        self.exec_silent(&script::remove(menu, id)).await
    }

    async fn move_items(
        &self,
        menu: &MenuPath,
        ids: &[RosId],
        destination: Option<&RosId>,
    ) -> Result<(), DriverError> {
        self.exec_silent(&script::move_items(menu, ids, destination))
            .await
    }

    async fn item_command(
        &self,
        menu: &MenuPath,
        command: &str,
        id: Option<&RosId>,
        args: &Props,
    ) -> Result<(), DriverError> {
        let text = script::item_command(menu, command, id, args).map_err(|e| self.invalid(e))?;
        self.exec_silent(&text).await
    }

    async fn run(&self, command: &DeviceCommand) -> Result<Vec<Record>, DriverError> {
        let text = script::run(command).map_err(|e| self.invalid(e))?;
        match command {
            DeviceCommand::RunScript { .. } => {
                let out = self.exec(&text).await?;
                if out.trim().is_empty() {
                    return Ok(Vec::new());
                }
                match output::error_of(&out) {
                    ErrorKind::DeviceError(_) => {
                        Ok(vec![Record::from([("output".to_owned(), out)])])
                    }
                    refusal => Err(self.err(refusal)),
                }
            }
            DeviceCommand::Ping { .. } => {
                let out = self.exec(&text).await?;
                output::ping_table(&out).map_err(|k| self.err(k))
            }
            DeviceCommand::Traceroute { .. } => {
                let out = self.exec(&text).await?;
                output::traceroute(&out).map_err(|k| self.err(k))
            }
            DeviceCommand::MonitorTraffic { .. } => {
                let out = self.exec(&text).await?;
                output::key_value_blocks(&out).map_err(|k| self.err(k))
            }
        }
    }

    async fn export(&self, options: &ExportOptions) -> Result<String, DriverError> {
        let text = self.exec(&script::export(options)).await?;
        let head = text.trim_start();
        if head.starts_with('#') || head.starts_with('/') || head.is_empty() {
            Ok(text)
        } else {
            Err(self.err(output::error_of(&text)))
        }
    }

    fn presented_fingerprint(&self) -> Option<Fingerprint> {
        self.presented.lock().ok().and_then(|p| *p)
    }

    async fn save_backup(&self, name: &str, password: &SecretString) -> Result<(), DriverError> {
        sftp::check_file_name(name).map_err(|e| self.invalid(e))?;
        let command = format!(
            "/system/backup/save name={} password={} encryption=aes-sha256",
            quote(name),
            quote(password.expose_secret())
        );
        let text = self.exec(&command).await?;
        if text.contains("Configuration backup saved") {
            Ok(())
        } else {
            Err(self.err(output::error_of(&text)))
        }
    }
}

/// `as-value` always carries `.id`; REST returns only what the proplist names.
fn keep_proplist(query: &PrintQuery, records: Vec<Record>) -> Vec<Record> {
    match &query.proplist {
        None => records,
        Some(props) => records
            .into_iter()
            .map(|r| {
                r.into_iter()
                    .filter(|(k, _)| props.iter().any(|p| p == k))
                    .collect()
            })
            .collect(),
    }
}
