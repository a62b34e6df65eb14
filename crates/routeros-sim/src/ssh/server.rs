//! The russh server of one simulated device.
//!
//! One listener per device address. Every accepted connection is counted, wrapped in a
//! [`GatedStream`] that follows the device's condition (management path, hang, reboot), and served
//! by a handler that authenticates passwords against the device's `/user` menu (login-name
//! options after `+` stripped), runs an interactive console on shell requests (banner, prompt,
//! echo, `\r\n` line ends, output paged at the terminal height when there is a PTY) and runs
//! exec requests without prompt, echo or paging. Every command is a
//! request: it is counted and goes through the device's fault decision first (latency,
//! `failure:` errors, dropped connection, hang).

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use russh::keys::PrivateKey;
use russh::server::{Auth, ChannelOpenHandle, Handle, Msg, Session as SshSession};
use russh::{Channel, ChannelId, MethodKind, MethodSet};
use tokio::net::TcpListener;
use tokio::sync::{Mutex as AsyncMutex, mpsc};
use tokio_util::sync::CancellationToken;

use super::link::{GatedStream, LinkCheck, LinkState};
use super::login::{LoginOptions, parse_login};
use super::terminal::{LineEditor, Pager, PagerStep, TermEvent, crlf};
use crate::cli::{self, Globals, Session};
use crate::model::UserInfo;

/// What happens to one command before it runs, decided by the device's faults: wait `delay`,
/// then do `action`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gate {
    /// Added latency before anything else.
    pub delay: Duration,
    /// What happens after the delay.
    pub action: GateAction,
}

/// The fate of one command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GateAction {
    /// Run it.
    Proceed,
    /// Answer with this error line (`failure: …`) instead of running it.
    Fail(String),
    /// Drop the connection instead of answering (a triggered reboot also answers this; the host
    /// starts the reboot itself).
    Drop,
    /// Do not answer until the device answers again (the link is frozen meanwhile), then run it.
    Hang,
}

/// What the SSH server needs from a simulated device.
pub trait SshHost: cli::Device + Send + Sync + 'static {
    /// The device's current host key.
    fn host_key(&self) -> PrivateKey;
    /// The identity shown in the prompt.
    fn identity(&self) -> String;
    /// The RouterOS version shown in the banner (`7.16.2`).
    fn version(&self) -> String;
    /// Checks a password login (`user` without `+` options) from `peer`; records the login on
    /// success. `None` rejects it (bad credentials, missing `ssh` policy, or the
    /// reject-credentials fault).
    fn authenticate(&self, user: &str, password: &str, peer: SocketAddr) -> Option<UserInfo>;
    /// Lists a logged-in session in `/user/active`; the entry goes when the value is dropped
    /// (the connection closes).
    fn session_opened(&self, user: &str, peer: SocketAddr) -> Box<dyn std::any::Any + Send + Sync>;
    /// A number that changes whenever the device reboots; connections from an older boot die.
    fn boot_epoch(&self) -> u64;
    /// Completes when the device starts rebooting after boot `epoch` (its connections die).
    fn reboot_started(&self, epoch: u64) -> impl std::future::Future<Output = ()> + Send + 'static;
    /// The link state for a connection from `peer` accepted during boot `epoch`.
    fn link_state(&self, peer: SocketAddr, epoch: u64) -> LinkState;
    /// Counts an accepted TCP connection on the SSH listener; `false` closes it at once (the
    /// `ssh` service is disabled).
    fn connection_accepted(&self, peer: SocketAddr) -> bool;
    /// Counts one request — a command line (`method` is `exec` or `shell`), `write` when it
    /// changes configuration — and decides what the faults do to it.
    fn request(&self, method: &str, command: &str, write: bool) -> Gate;
    /// The device's global script variables.
    fn globals(&self) -> Arc<Globals>;
}

/// A running SSH listener; stops when its token is cancelled.
#[derive(Debug)]
pub struct SshServer {
    addr: SocketAddr,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<()>,
}

impl SshServer {
    /// The address it listens on.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Stops accepting and drops every connection.
    pub async fn shutdown(self) {
        self.shutdown.cancel();
        let _ = self.task.await;
    }
}

/// Serves `host` on `listener` in a task of its own until `shutdown` is cancelled.
pub fn serve<H: SshHost>(
    listener: TcpListener,
    host: Arc<H>,
    shutdown: CancellationToken,
) -> std::io::Result<SshServer> {
    let addr = listener.local_addr()?;
    let task = tokio::spawn(run(listener, host, shutdown.clone()));
    Ok(SshServer {
        addr,
        shutdown,
        task,
    })
}

/// The accept loop: serves `host` on `listener` until `shutdown` is cancelled. Connections end
/// with it (their kill tokens are children of `shutdown`).
pub async fn run<H: SshHost>(listener: TcpListener, host: Arc<H>, shutdown: CancellationToken) {
    let mut cached: Option<(String, Arc<russh::server::Config>)> = None;
    loop {
        let (stream, peer) = tokio::select! {
            _ = shutdown.cancelled() => return,
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    tracing::debug!(error = %e, "ssh accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        if !host.connection_accepted(peer) {
            drop(stream);
            continue;
        }
        let config = config_for(&mut cached, &host.host_key());
        let kill = shutdown.child_token();
        let epoch = host.boot_epoch();
        let h = host.clone();
        let check: LinkCheck = Arc::new(move || h.link_state(peer, epoch));
        let gated = GatedStream::new(stream, check, kill.clone());
        let handler = Conn {
            host: host.clone(),
            peer,
            epoch,
            kill: kill.clone(),
            user: None,
            active: None,
            channels: HashMap::new(),
            unclaimed: HashMap::new(),
        };
        let reboot = host.reboot_started(epoch);
        tokio::spawn(async move {
            // A reboot kills the connection even while it is idle.
            let watch_kill = kill.clone();
            let watcher = tokio::spawn(async move {
                tokio::select! {
                    _ = reboot => watch_kill.cancel(),
                    _ = watch_kill.cancelled() => {}
                }
            });
            match russh::server::run_stream(config, gated, handler).await {
                Ok(session) => {
                    tokio::select! {
                        _ = session => {}
                        _ = kill.cancelled() => {}
                    }
                }
                Err(e) => tracing::debug!(error = %e, %peer, "ssh session setup failed"),
            }
            kill.cancel();
            let _ = watcher.await;
        });
    }
}

/// Builds (or reuses) the russh configuration for the current host key.
fn config_for(
    cached: &mut Option<(String, Arc<russh::server::Config>)>,
    key: &PrivateKey,
) -> Arc<russh::server::Config> {
    let fp = key
        .public_key()
        .fingerprint(russh::keys::HashAlg::Sha256)
        .to_string();
    if let Some((f, c)) = cached.as_ref()
        && *f == fp
    {
        return c.clone();
    }
    let mut methods = MethodSet::empty();
    methods.push(MethodKind::Password);
    let config = Arc::new(russh::server::Config {
        server_id: russh::SshId::Standard("SSH-2.0-ROSSSH".into()),
        methods,
        auth_rejection_time: Duration::from_millis(300),
        auth_rejection_time_initial: Some(Duration::ZERO),
        keys: vec![key.clone()],
        inactivity_timeout: None,
        nodelay: true,
        ..Default::default()
    });
    *cached = Some((fp, config.clone()));
    config
}

/// Per-channel state kept by the connection handler.
struct ChanState {
    /// Terminal width from the PTY request.
    cols: Option<u32>,
    /// Terminal height from the PTY request.
    rows: Option<u32>,
    /// Whether a PTY was requested.
    pty: bool,
    /// Input for the running shell.
    input: Option<mpsc::UnboundedSender<Vec<u8>>>,
}

/// The logged-in user of a connection.
#[derive(Clone)]
struct Login {
    info: UserInfo,
    options: LoginOptions,
}

struct Conn<H: SshHost> {
    host: Arc<H>,
    peer: SocketAddr,
    /// The boot the connection belongs to.
    epoch: u64,
    kill: CancellationToken,
    user: Option<Login>,
    /// The `/user/active` entry of the logged-in user, removed when the connection ends.
    active: Option<Box<dyn std::any::Any + Send + Sync>>,
    channels: HashMap<ChannelId, ChanState>,
    /// Channels opened but not yet given a shell, exec or subsystem: an SFTP subsystem takes
    /// its channel from here; a shell or exec drops it (they are driven through the handler).
    unclaimed: HashMap<ChannelId, Channel<Msg>>,
}

impl<H: SshHost> russh::server::Handler for Conn<H> {
    type Error = russh::Error;

    async fn auth_none(&mut self, _user: &str) -> Result<Auth, Self::Error> {
        let mut methods = MethodSet::empty();
        methods.push(MethodKind::Password);
        Ok(Auth::Reject {
            proceed_with_methods: Some(methods),
            partial_success: false,
        })
    }

    async fn auth_password(&mut self, login: &str, password: &str) -> Result<Auth, Self::Error> {
        let (user, options) = parse_login(login);
        let host = self.host.clone();
        let (user_s, pass_s, peer) = (user.to_string(), password.to_string(), self.peer);
        let info = tokio::task::spawn_blocking(move || host.authenticate(&user_s, &pass_s, peer))
            .await
            .ok()
            .flatten();
        match info {
            Some(info) => {
                self.active = Some(self.host.session_opened(&info.name, self.peer));
                self.user = Some(Login { info, options });
                Ok(Auth::Accept)
            }
            None => {
                let mut methods = MethodSet::empty();
                methods.push(MethodKind::Password);
                Ok(Auth::Reject {
                    proceed_with_methods: Some(methods),
                    partial_success: false,
                })
            }
        }
    }

    async fn channel_open_session(
        &mut self,
        channel: Channel<Msg>,
        reply: ChannelOpenHandle,
        _session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        let id = channel.id();
        self.channels.insert(
            id,
            ChanState {
                cols: None,
                rows: None,
                pty: false,
                input: None,
            },
        );
        self.unclaimed.insert(id, channel);
        reply.accept().await;
        Ok(())
    }

    async fn pty_request(
        &mut self,
        channel: ChannelId,
        _term: &str,
        col_width: u32,
        row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _modes: &[(russh::Pty, u32)],
        session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        if let Some(c) = self.channels.get_mut(&channel) {
            c.pty = true;
            c.cols = (col_width > 0).then_some(col_width);
            c.rows = (row_height > 0).then_some(row_height);
        }
        session.channel_success(channel)?;
        Ok(())
    }

    async fn env_request(
        &mut self,
        channel: ChannelId,
        _name: &str,
        _value: &str,
        session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        session.channel_success(channel)?;
        Ok(())
    }

    async fn window_change_request(
        &mut self,
        _channel: ChannelId,
        _col_width: u32,
        _row_height: u32,
        _pix_width: u32,
        _pix_height: u32,
        _session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        Ok(())
    }

    async fn shell_request(
        &mut self,
        channel: ChannelId,
        session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        self.unclaimed.remove(&channel);
        let Some(login) = self.user.clone() else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        let (tx, rx) = mpsc::unbounded_channel();
        let (cols, rows, pty) = match self.channels.get_mut(&channel) {
            Some(c) => {
                c.input = Some(tx);
                (c.cols, c.rows, c.pty)
            }
            None => (None, None, false),
        };
        session.channel_success(channel)?;
        let width = login.options.width.or(cols).unwrap_or(80) as usize;
        // Only a terminal pages: the login name's height, else the PTY's. RouterOS assumes 24
        // rows when a terminal reports none.
        let height = pty.then(|| login.options.height.or(rows).unwrap_or(24) as usize);
        let shell = Shell {
            host: self.host.clone(),
            handle: session.handle(),
            channel,
            ctx: ConnCtx {
                peer: self.peer,
                epoch: self.epoch,
                kill: self.kill.clone(),
            },
            kill: self.kill.clone(),
            input: Arc::new(AsyncMutex::new(rx)),
        };
        tokio::spawn(shell.run(login, width, height));
        Ok(())
    }

    async fn exec_request(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        self.unclaimed.remove(&channel);
        let Some(login) = self.user.clone() else {
            session.channel_failure(channel)?;
            return Ok(());
        };
        session.channel_success(channel)?;
        let width = login.options.width.unwrap_or(80) as usize;
        let command = String::from_utf8_lossy(data).into_owned();
        let host = self.host.clone();
        let handle = session.handle();
        let ctx = ConnCtx {
            peer: self.peer,
            epoch: self.epoch,
            kill: self.kill.clone(),
        };
        tokio::spawn(async move {
            let mut s = Session::new(
                login.info.name.clone(),
                login.info.policies.clone(),
                host.globals(),
            );
            s.width = width;
            let Some(text) = run_command(&host, &ctx, "exec", s, command)
                .await
                .map(|(out, _)| out)
            else {
                return;
            };
            let _ = handle.data(channel, crlf(&text.console_text())).await;
            let _ = handle.exit_status_request(channel, 0).await;
            let _ = handle.eof(channel).await;
            let _ = handle.close(channel).await;
        });
        Ok(())
    }

    /// `sftp` for users with the `ftp` policy (see [`super::sftp`]); any other subsystem, or a
    /// user without the policy, is refused.
    async fn subsystem_request(
        &mut self,
        channel: ChannelId,
        name: &str,
        session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        let allowed = name == "sftp"
            && self
                .user
                .as_ref()
                .is_some_and(|l| l.info.policies.iter().any(|p| p == "ftp"));
        match (allowed, self.unclaimed.remove(&channel)) {
            (true, Some(chan)) => {
                session.channel_success(channel)?;
                let sftp = super::sftp::SftpSession::new(self.host.clone());
                russh_sftp::server::run(chan.into_stream(), sftp).await;
            }
            (true, None) | (false, _) => session.channel_failure(channel)?,
        }
        Ok(())
    }

    async fn data(
        &mut self,
        channel: ChannelId,
        data: &[u8],
        _session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        if let Some(tx) = self.channels.get(&channel).and_then(|c| c.input.as_ref()) {
            let _ = tx.send(data.to_vec());
        }
        Ok(())
    }

    async fn channel_eof(
        &mut self,
        channel: ChannelId,
        _session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        if let Some(c) = self.channels.get_mut(&channel) {
            c.input = None;
        }
        Ok(())
    }

    async fn channel_close(
        &mut self,
        channel: ChannelId,
        _session: &mut SshSession,
    ) -> Result<(), Self::Error> {
        self.channels.remove(&channel);
        self.unclaimed.remove(&channel);
        Ok(())
    }
}

/// What a command needs to know about its connection.
#[derive(Clone)]
struct ConnCtx {
    peer: SocketAddr,
    epoch: u64,
    kill: CancellationToken,
}

/// Runs one command under the device's faults. `None` when the connection must go away;
/// otherwise the output and the session to keep using.
async fn run_command<H: SshHost>(
    host: &Arc<H>,
    ctx: &ConnCtx,
    method: &str,
    mut session: Session,
    command: String,
) -> Option<(cli::ScriptOutput, Session)> {
    let kill = &ctx.kill;
    let write = cli::is_write(&session, &command);
    let gate = host.request(method, &command, write);
    if !gate.delay.is_zero() {
        tokio::select! {
            _ = tokio::time::sleep(gate.delay) => {}
            _ = kill.cancelled() => return None,
        }
    }
    match gate.action {
        GateAction::Proceed => {}
        GateAction::Fail(msg) => {
            return Some((
                cli::ScriptOutput {
                    error: Some(cli::CliError::runtime(msg)),
                    ..Default::default()
                },
                session,
            ));
        }
        GateAction::Drop => {
            kill.cancel();
            return None;
        }
        GateAction::Hang => {
            // Held silently until the device answers again (its link is frozen meanwhile).
            loop {
                match host.link_state(ctx.peer, ctx.epoch) {
                    LinkState::Open => break,
                    LinkState::Closed => return None,
                    LinkState::Frozen => {}
                }
                tokio::select! {
                    _ = tokio::time::sleep(Duration::from_millis(50)) => {}
                    _ = kill.cancelled() => return None,
                }
            }
        }
    }
    let cancel = session.cancel.clone();
    let host2 = host.clone();
    let job = tokio::task::spawn_blocking(move || {
        let out = cli::run(&*host2, &mut session, &command);
        (out, session)
    });
    tokio::select! {
        r = job => r.ok(),
        _ = kill.cancelled() => {
            cancel.store(true, std::sync::atomic::Ordering::Relaxed);
            None
        }
    }
}

/// The interactive console of one shell channel.
struct Shell<H: SshHost> {
    host: Arc<H>,
    handle: Handle,
    channel: ChannelId,
    ctx: ConnCtx,
    kill: CancellationToken,
    input: Arc<AsyncMutex<mpsc::UnboundedReceiver<Vec<u8>>>>,
}

impl<H: SshHost> Shell<H> {
    async fn send(&self, bytes: Vec<u8>) -> bool {
        self.handle.data(self.channel, bytes).await.is_ok()
    }

    /// Shows a command's output followed by `prompt`, through the pager when the terminal has a
    /// height and the output does not fit. Returns the input typed after the key that ended the
    /// pager (for the line editor), or `None` when the connection went away.
    async fn show(&self, text: &str, prompt: &str, height: Option<usize>) -> Option<Vec<u8>> {
        let Some(mut pager) = height.and_then(|h| Pager::new(text, h)) else {
            return self
                .send(crlf(&format!("{text}{prompt}")))
                .await
                .then(Vec::new);
        };
        if !self.send(pager.start()).await {
            return None;
        }
        loop {
            let chunk = {
                let mut rx = self.input.lock().await;
                tokio::select! {
                    c = rx.recv() => c,
                    _ = self.kill.cancelled() => None,
                }
            }?;
            match pager.feed(&chunk) {
                PagerStep::More(out) => {
                    if !out.is_empty() && !self.send(out).await {
                        return None;
                    }
                }
                PagerStep::Done(mut out, rest) => {
                    out.extend(crlf(prompt));
                    return self.send(out).await.then_some(rest);
                }
            }
        }
    }

    async fn run(self, login: Login, width: usize, height: Option<usize>) {
        let mut session = Session::new(
            login.info.name.clone(),
            login.info.policies.clone(),
            self.host.globals(),
        );
        session.width = width;
        session.confirm = Some(self.confirmer());
        let banner = banner(
            &self.host.version(),
            self.host
                .read(|s| s.clock().now().format("%Y").to_string())
                .as_str(),
        );
        let identity = self.host.identity();
        if !self
            .send(crlf(&format!("{banner}{}", session.prompt(&identity))))
            .await
        {
            return;
        }
        let mut editor = LineEditor::new(true);
        let mut session = Some(session);
        // Lines typed so far of a command that continues (open `{`, `(`, string, `\`).
        let mut pending = String::new();
        // Log lines with an `echo` action appear on the console as they happen.
        let mut echoed = self.host.read(last_log_id);
        let mut echo_tick = tokio::time::interval(ECHO_CHECK);
        // Input typed while the pager had the terminal, after the key that ended it.
        let mut typed_ahead: Vec<u8> = Vec::new();
        loop {
            let chunk = if !typed_ahead.is_empty() {
                Some(Some(std::mem::take(&mut typed_ahead)))
            } else {
                let mut rx = self.input.lock().await;
                tokio::select! {
                    c = rx.recv() => Some(c),
                    _ = self.kill.cancelled() => Some(None),
                    _ = echo_tick.tick() => None,
                }
            };
            let chunk = match chunk {
                Some(c) => c,
                None => {
                    let lines = self.host.read(|s| echo_lines(s, &mut echoed));
                    if !lines.is_empty() {
                        let Some(s) = session.as_ref() else { return };
                        let prompt = s.prompt(&self.host.identity());
                        let text = format!(
                            "\n{lines}{prompt}{pending_line}",
                            pending_line = editor.current()
                        );
                        if !self.send(crlf(&text)).await {
                            return;
                        }
                    }
                    continue;
                }
            };
            let Some(chunk) = chunk else { break };
            let (events, echo) = editor.feed(&chunk);
            if !echo.is_empty() && !self.send(echo).await {
                break;
            }
            for ev in events {
                let Some(s) = session.take() else { return };
                match ev {
                    TermEvent::Interrupt => {
                        pending.clear();
                        let p = s.prompt(&self.host.identity());
                        session = Some(s);
                        if !self.send(crlf(&format!("\n{p}"))).await {
                            return;
                        }
                    }
                    TermEvent::Eof => {
                        let _ = self.send(b"\r\n".to_vec()).await;
                        self.close().await;
                        return;
                    }
                    TermEvent::Line(line) => {
                        let line = if pending.is_empty() {
                            line
                        } else {
                            format!("{}\n{line}", std::mem::take(&mut pending))
                        };
                        if let Some(open) = cli::lexer::open_brackets(&line) {
                            // RouterOS shows what is still open: `{(\... `.
                            pending = line;
                            session = Some(s);
                            if !self.send(crlf(&format!("\n{open}... "))).await {
                                return;
                            }
                            continue;
                        }
                        if line.trim().is_empty() {
                            let p = s.prompt(&self.host.identity());
                            session = Some(s);
                            if !self.send(crlf(&format!("\n{p}"))).await {
                                return;
                            }
                            continue;
                        }
                        if !self.send(b"\r\n".to_vec()).await {
                            return;
                        }
                        let Some((out, s)) =
                            run_command(&self.host, &self.ctx, "shell", s, line).await
                        else {
                            return;
                        };
                        let text = out.console_text();
                        if out.quit {
                            let _ = self.send(crlf(&text)).await;
                            self.close().await;
                            return;
                        }
                        let p = s.prompt(&self.host.identity());
                        session = Some(s);
                        let height = if out.without_paging { None } else { height };
                        match self.show(&text, &p, height).await {
                            Some(rest) => typed_ahead.extend(rest),
                            None => return,
                        }
                    }
                }
            }
        }
    }

    /// Answers `[y/N]` questions from the console: shows the question, waits for one key.
    fn confirmer(&self) -> cli::Confirm {
        let rt = tokio::runtime::Handle::current();
        let handle = self.handle.clone();
        let channel = self.channel;
        let input = self.input.clone();
        let kill = self.kill.clone();
        Arc::new(move |question: &str| {
            let q = question.to_string();
            let handle = handle.clone();
            let input = input.clone();
            let kill = kill.clone();
            rt.block_on(async move {
                let _ = handle.data(channel, q.into_bytes()).await;
                let mut rx = input.lock().await;
                let key = tokio::select! {
                    k = rx.recv() => k,
                    _ = kill.cancelled() => None,
                };
                let yes = key.is_some_and(|k| k.first().is_some_and(|b| *b == b'y' || *b == b'Y'));
                let _ = handle
                    .data(
                        channel,
                        if yes {
                            b"y\r\n".to_vec()
                        } else {
                            b"\r\n".to_vec()
                        },
                    )
                    .await;
                yes
            })
        })
    }

    async fn close(&self) {
        let _ = self.handle.exit_status_request(self.channel, 0).await;
        let _ = self.handle.eof(self.channel).await;
        let _ = self.handle.close(self.channel).await;
    }
}

/// How often an interactive console looks for log lines to echo.
const ECHO_CHECK: Duration = Duration::from_millis(500);

/// The id of the newest `/log` entry (0 when the log is empty).
fn last_log_id(state: &crate::model::RouterState) -> u32 {
    state
        .items_of("/log")
        .map(|it| it.id().get())
        .max()
        .unwrap_or(0)
}

/// Log entries after `*seen` that the default logging rules echo to the console (topics with
/// `critical`), as RouterOS prints them: `12:00:01 echo: system,error,critical login failure …`.
fn echo_lines(state: &crate::model::RouterState, seen: &mut u32) -> String {
    let mut out = String::new();
    for it in state.items_of("/log") {
        let id = it.id().get();
        if id <= *seen {
            continue;
        }
        *seen = id;
        let topics = it.get("topics").unwrap_or("");
        if !topics.split(',').any(|t| t == "critical") {
            continue;
        }
        let time = it.get("time").unwrap_or("");
        let clock = time.rsplit(' ').next().unwrap_or(time);
        out.push_str(&format!(
            "{clock} echo: {topics} {}\n",
            it.get("message").unwrap_or("")
        ));
    }
    out
}

/// The RouterOS 7 login banner.
pub fn banner(version: &str, year: &str) -> String {
    format!(
        "\n\n\n  MMM      MMM       KKK                          TTTTTTTTTTT      KKK\n  MMMM    MMMM       KKK                          TTTTTTTTTTT      KKK\n  MMM MMMM MMM  III  KKK  KKK  RRRRRR     OOOOOO      TTT     III  KKK  KKK\n  MMM  MM  MMM  III  KKKKK     RRR  RRR  OOO  OOO     TTT     III  KKKKK\n  MMM      MMM  III  KKK KKK   RRRRRR    OOO  OOO     TTT     III  KKK KKK\n  MMM      MMM  III  KKK  KKK  RRR  RRR   OOOOOO      TTT     III  KKK  KKK\n\n  MikroTik RouterOS {version} (c) 1999-{year}       https://www.mikrotik.com/\n\nPress F1 for help\n\n"
    )
}
