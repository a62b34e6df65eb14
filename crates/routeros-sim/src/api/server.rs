//! The API listeners of one device: accepting, TLS on `api-ssl`, login, the command queue,
//! `/cancel`, `/quit`, faults, and the limits that keep a hostile peer from holding resources.
//!
//! A connection lives in two phases. Before login, sentences are read and answered one at a
//! time, under tight limits: small words, few words per sentence, few sentences, a bounded
//! number of failed logins, and a deadline for the whole login. After login, three tasks share
//! the connection: a reader that keeps reading sentences (so `/cancel` is seen while a command
//! runs), a worker that starts commands in arrival order and lets up to
//! [`ApiLimits::concurrent_commands`] run side by side, as RouterOS runs tagged commands, and a
//! writer that sends each command's reply sentences in one piece (replies of different commands
//! never interleave within a reply; they arrive in the order the commands finish). A `/login`
//! on a logged-in connection waits for the running commands and holds the next ones back.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadHalf, WriteHalf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{RwLock, Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::ApiLimits;
use super::codec::{ReadError, SentenceLimits, encode_sentence, read_sentence_after};
use super::sentence::{self, Command, Reply};
use crate::faults::{FaultAction, RequestKind};
use crate::fleet::{SimDevice, Transport, client_v4};
use crate::model::{Effect, LoginFailure, UserInfo};

/// How long a TLS handshake on `api-ssl` may take.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// RouterOS's answer to a failed login.
const BAD_LOGIN: &str = "invalid user name or password (6)";

/// Accepts API connections on `listener` (`transport` is [`Transport::Api`] or
/// [`Transport::ApiSsl`]) until the device's fleet shuts down.
pub async fn serve(
    device: Arc<SimDevice>,
    listener: TcpListener,
    transport: Transport,
    limits: ApiLimits,
) {
    let shutdown = device.shutdown_token().clone();
    loop {
        let accepted = tokio::select! {
            _ = shutdown.cancelled() => return,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                tracing::debug!(error = %e, "api accept failed");
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        device.counters().connection(transport);
        let dev = Arc::clone(&device);
        tokio::spawn(async move { connection(dev, stream, peer, transport, limits).await });
    }
}

async fn connection(
    device: Arc<SimDevice>,
    stream: TcpStream,
    peer: SocketAddr,
    transport: Transport,
    limits: ApiLimits,
) {
    // A rebooting router or a disabled service does not talk at all.
    if device.is_rebooting() || !device.service_enabled(transport) {
        return;
    }
    let _ = stream.set_nodelay(true);
    let shutdown = device.shutdown_token().clone();
    let kill = CancellationToken::new();
    let died = device.rebooted();
    let conn = Conn {
        device: Arc::clone(&device),
        client: client_v4(peer),
        transport,
        limits,
        kill: kill.clone(),
    };
    let serve = async {
        // A router that hangs or lost its path does not complete a TLS handshake either.
        device.wait_until_answering(conn.client).await;
        match transport {
            Transport::ApiSsl => {
                let mut config = (*device.tls_config()).clone();
                // The API speaks no HTTP; clients offer no application protocol.
                config.alpn_protocols.clear();
                let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
                let handshake =
                    tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await;
                if let Ok(Ok(tls)) = handshake {
                    conn.session(tls).await;
                }
            }
            Transport::Api => conn.session(stream).await,
            Transport::Http | Transport::Https | Transport::Ssh => {}
        }
    };
    tokio::select! {
        _ = serve => {}
        _ = kill.cancelled() => {}
        _ = shutdown.cancelled() => {}
        _ = died => {}
    }
}

/// What a connection knows about itself.
struct Conn {
    device: Arc<SimDevice>,
    client: Ipv4Addr,
    transport: Transport,
    limits: ApiLimits,
    /// Cancelled to drop the connection without a word (the `drop_after` fault).
    kill: CancellationToken,
}

/// How a sentence read ended, when it did not produce words.
enum ReadEnd {
    /// The peer closed or the connection failed: close silently.
    Closed,
    /// Close with `!fatal` and this reason.
    Fatal(String),
}

fn encode(replies: &[Reply], tag: Option<&str>) -> Vec<u8> {
    let mut out = Vec::new();
    for r in replies {
        let mut words: Vec<&str> = r.iter().map(String::as_str).collect();
        let tagged = tag.map(|t| format!(".tag={t}"));
        if let Some(t) = &tagged {
            words.push(t);
        }
        encode_sentence(&words, &mut out);
    }
    out
}

fn fatal(reason: &str) -> Vec<u8> {
    let mut out = Vec::new();
    encode_sentence(&["!fatal", reason], &mut out);
    out
}

impl Conn {
    /// Reads one sentence: waits for its first byte until `idle_deadline` (none: forever),
    /// then gives the whole sentence [`ApiLimits::transfer_timeout`].
    async fn read_sentence<R: AsyncRead + Unpin>(
        &self,
        r: &mut R,
        idle_deadline: Option<Instant>,
        idle_reason: &str,
        limits: SentenceLimits,
    ) -> Result<Vec<Vec<u8>>, ReadEnd> {
        let first = match idle_deadline {
            Some(at) => match tokio::time::timeout_at(at, r.read_u8()).await {
                Ok(b) => b,
                Err(_) => return Err(ReadEnd::Fatal(idle_reason.to_string())),
            },
            None => r.read_u8().await,
        };
        let first = first.map_err(|_| ReadEnd::Closed)?;
        let transfer = self.limits.transfer_timeout;
        match tokio::time::timeout(transfer, read_sentence_after(first, r, limits)).await {
            Ok(Ok(words)) => Ok(words),
            Ok(Err(ReadError::Io(_))) => Err(ReadEnd::Closed),
            Ok(Err(e)) => Err(ReadEnd::Fatal(e.to_string())),
            Err(_) => Err(ReadEnd::Fatal(format!(
                "sentence not completed within {} s",
                transfer.as_secs_f64()
            ))),
        }
    }

    /// Counts a request, waits while the device does not answer, and applies faults. Returns
    /// `false` when the request must fail (`failure: simulated internal error`); drops and
    /// reboots never return.
    async fn admit(&self, kind: RequestKind, command: &str) -> bool {
        self.device
            .counters()
            .request(self.transport, "api", command);
        self.device.wait_until_answering(self.client).await;
        let verdict = self.device.decide(kind);
        if !verdict.delay.is_zero() {
            tokio::time::sleep(verdict.delay).await;
        }
        match verdict.action {
            FaultAction::Proceed => true,
            FaultAction::Fail => false,
            FaultAction::Drop => {
                self.kill.cancel();
                std::future::pending().await
            }
            FaultAction::Reboot(down_for) => {
                self.device.reboot(down_for);
                std::future::pending().await
            }
            FaultAction::Hang => {
                self.device.wait_until_answering(self.client).await;
                true
            }
        }
    }

    /// Checks `/login` credentials (as RouterOS 6.43+ takes them: `=name=` and `=password=`
    /// in plain text).
    async fn login(&self, cmd: &Command) -> Result<UserInfo, Vec<Reply>> {
        if !self.admit(RequestKind::Read, &cmd.word).await {
            return Err(sentence::failure("failure: simulated internal error"));
        }
        let (Some(name), Some(password)) = (cmd.attr("name"), cmd.attr("password")) else {
            return Err(sentence::failure(BAD_LOGIN));
        };
        match self.device.login(
            name,
            password,
            "api",
            IpAddr::V4(self.client),
            self.transport.service(),
        ) {
            Ok(user) => Ok(user),
            Err(LoginFailure::BadCredentials | LoginFailure::PolicyDenied) => {
                Err(sentence::failure(BAD_LOGIN))
            }
        }
    }

    async fn session<S: AsyncRead + AsyncWrite + Send + 'static>(self, io: S) {
        let (mut rd, mut wr) = tokio::io::split(io);
        let Some(user) = self.before_login(&mut rd, &mut wr).await else {
            let _ = wr.shutdown().await;
            return;
        };
        self.logged_in(rd, wr, user).await;
    }

    async fn write<W: AsyncWrite + Unpin>(&self, wr: &mut W, bytes: &[u8]) -> bool {
        let t = self.limits.transfer_timeout;
        matches!(
            tokio::time::timeout(t, wr.write_all(bytes)).await,
            Ok(Ok(()))
        )
    }

    /// The login phase; returns the user once logged in, `None` when the connection is over.
    async fn before_login<S: AsyncRead + AsyncWrite>(
        &self,
        rd: &mut ReadHalf<S>,
        wr: &mut WriteHalf<S>,
    ) -> Option<UserInfo> {
        let limits = SentenceLimits {
            max_word_len: self.limits.login_max_word_len,
            max_words: self.limits.login_max_words,
        };
        let deadline = Instant::now() + self.limits.login_timeout;
        let idle_reason = format!(
            "not logged in within {} s",
            self.limits.login_timeout.as_secs_f64()
        );
        let mut sentences = 0usize;
        let mut failures = 0usize;
        loop {
            let words = match self
                .read_sentence(rd, Some(deadline), &idle_reason, limits)
                .await
            {
                Ok(w) => w,
                Err(ReadEnd::Closed) => return None,
                Err(ReadEnd::Fatal(reason)) => {
                    self.write(wr, &fatal(&reason)).await;
                    return None;
                }
            };
            if words.is_empty() {
                continue; // empty sentences are ignored
            }
            sentences += 1;
            let tag = sentence::tag_of(&words);
            let replies = match Command::parse(&words) {
                Err(e) => sentence::failure(&e.to_string()),
                Ok(cmd) if cmd.word == "/quit" => {
                    self.write(wr, &fatal("session terminated on request"))
                        .await;
                    return None;
                }
                Ok(cmd) if cmd.word == "/login" => match self.login(&cmd).await {
                    Ok(user) => {
                        let ok = encode(&[sentence::done(None)], tag.as_deref());
                        return self.write(wr, &ok).await.then_some(user);
                    }
                    Err(replies) => {
                        failures += 1;
                        replies
                    }
                },
                Ok(_) => sentence::failure("not logged in"),
            };
            if !self.write(wr, &encode(&replies, tag.as_deref())).await {
                return None;
            }
            if failures >= self.limits.login_attempts {
                self.write(
                    wr,
                    &fatal(&format!(
                        "too many failed logins ({failures}); at most {} per connection",
                        self.limits.login_attempts
                    )),
                )
                .await;
                return None;
            }
            if sentences >= self.limits.login_sentences {
                self.write(
                    wr,
                    &fatal(&format!(
                        "not logged in after {sentences} sentences; at most {} are read before login",
                        self.limits.login_sentences
                    )),
                )
                .await;
                return None;
            }
        }
    }

    /// The logged-in phase: reader, worker and writer until the peer leaves, a fatal error, or
    /// `/quit`.
    async fn logged_in<S: AsyncRead + AsyncWrite + Send + 'static>(
        self,
        mut rd: ReadHalf<S>,
        mut wr: WriteHalf<S>,
        user: UserInfo,
    ) {
        let conn = Arc::new(self);
        let stop = CancellationToken::new();
        let (out_tx, mut out_rx) = mpsc::channel::<Vec<u8>>(16);
        let (job_tx, job_rx) = mpsc::channel::<Job>(conn.limits.queued_commands);
        let pending: Arc<Mutex<Vec<Arc<Pending>>>> = Arc::default();

        let writer = {
            let conn = Arc::clone(&conn);
            async move {
                while let Some(bytes) = out_rx.recv().await {
                    if !conn.write(&mut wr, &bytes).await {
                        break;
                    }
                }
                let _ = wr.shutdown().await;
            }
        };
        let worker = worker(
            Arc::clone(&conn),
            user,
            job_rx,
            out_tx.clone(),
            Arc::clone(&pending),
            stop.clone(),
        );
        let reader = {
            let conn = Arc::clone(&conn);
            let stop = stop.clone();
            async move {
                conn.read_commands(&mut rd, job_tx, out_tx, pending).await;
                stop.cancel();
            }
        };
        tokio::join!(reader, worker, writer);
    }

    /// Reads sentences after login and queues them for the worker (`/cancel` and `/quit`
    /// act at once).
    async fn read_commands<S: AsyncRead>(
        &self,
        rd: &mut ReadHalf<S>,
        jobs: mpsc::Sender<Job>,
        out: mpsc::Sender<Vec<u8>>,
        pending: Arc<Mutex<Vec<Arc<Pending>>>>,
    ) {
        let limits = SentenceLimits {
            max_word_len: self.limits.max_word_len,
            max_words: self.limits.max_words,
        };
        loop {
            let words = match self.read_sentence(rd, None, "", limits).await {
                Ok(w) => w,
                Err(ReadEnd::Closed) => return,
                Err(ReadEnd::Fatal(reason)) => {
                    let _ = out.send(fatal(&reason)).await;
                    return;
                }
            };
            if words.is_empty() {
                continue;
            }
            let tag = sentence::tag_of(&words);
            let cmd = match Command::parse(&words) {
                Ok(c) => c,
                Err(e) => {
                    let replies = sentence::failure(&e.to_string());
                    if out.send(encode(&replies, tag.as_deref())).await.is_err() {
                        return;
                    }
                    continue;
                }
            };
            match cmd.word.as_str() {
                "/quit" => {
                    let _ = out.send(fatal("session terminated on request")).await;
                    return;
                }
                "/cancel" => {
                    let bytes = cancel(&pending, cmd.attr("tag"), cmd.tag.as_deref());
                    if out.send(bytes).await.is_err() {
                        return;
                    }
                }
                _ => {
                    let ctl = Arc::new(Pending {
                        tag: cmd.tag.clone(),
                        finished: AtomicBool::new(false),
                        stop: CancellationToken::new(),
                    });
                    pending
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .push(Arc::clone(&ctl));
                    if jobs.send(Job { ctl, cmd }).await.is_err() {
                        return;
                    }
                }
            }
        }
    }

    /// Runs one logged-in command and returns its reply sentences.
    async fn run(&self, cmd: &Command, user: &mut UserInfo) -> Vec<Reply> {
        if cmd.word == "/login" {
            return match self.login(cmd).await {
                Ok(u) => {
                    *user = u;
                    vec![sentence::done(None)]
                }
                Err(replies) => replies,
            };
        }
        let request = cmd.to_rest();
        if !self.admit(request.kind(), &cmd.word).await {
            return sentence::failure("failure: simulated internal error");
        }
        let reply = crate::rest::api::dispatch(&self.device, user, &request).await;
        if let Some(Effect::Reboot) = reply.effect {
            let down = self.device.clock().to_real(crate::fleet::REBOOT_DOWNTIME);
            self.device.reboot_later(Duration::from_millis(100), down);
        }
        // A change that cut the management path never gets its reply through.
        self.device.wait_until_answering(self.client).await;
        sentence::from_rest(&reply, cmd.is_print())
    }
}

/// A command waiting or running, as `/cancel` sees it.
struct Pending {
    tag: Option<String>,
    /// Set by whoever answers the command first: the worker with its reply, or `/cancel` with
    /// `interrupted`. Exactly one of them sends the command's `!done`.
    finished: AtomicBool,
    /// Cancelled by `/cancel` to stop the running command.
    stop: CancellationToken,
}

impl Pending {
    fn finish(&self) -> bool {
        !self.finished.swap(true, Ordering::SeqCst)
    }
}

/// A queued command.
struct Job {
    ctl: Arc<Pending>,
    cmd: Command,
}

/// Answers `/cancel`: interrupts the commands with `=tag=` (every command without it), in
/// RouterOS's order — `!trap interrupted` for each, `!done` for the `/cancel`, then `!done` for
/// each interrupted command.
fn cancel(
    pending: &Mutex<Vec<Arc<Pending>>>,
    target: Option<&str>,
    own_tag: Option<&str>,
) -> Vec<u8> {
    let targets: Vec<Arc<Pending>> = pending
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .filter(|p| target.is_none_or(|t| p.tag.as_deref() == Some(t)))
        .cloned()
        .collect();
    let mut traps = Vec::new();
    let mut dones = Vec::new();
    for p in targets {
        if p.finish() {
            p.stop.cancel();
            traps.extend(encode(
                &[sentence::trap("interrupted", Some(2))],
                p.tag.as_deref(),
            ));
            dones.extend(encode(&[sentence::done(None)], p.tag.as_deref()));
        }
    }
    let mut out = traps;
    out.extend(encode(&[sentence::done(None)], own_tag));
    out.extend(dones);
    out
}

/// Starts queued commands in arrival order, up to [`ApiLimits::concurrent_commands`] at once,
/// until `stop` (which ends the running ones too).
async fn worker(
    conn: Arc<Conn>,
    user: UserInfo,
    mut jobs: mpsc::Receiver<Job>,
    out: mpsc::Sender<Vec<u8>>,
    pending: Arc<Mutex<Vec<Arc<Pending>>>>,
    stop: CancellationToken,
) {
    let user = Arc::new(RwLock::new(user));
    let slots = Arc::new(Semaphore::new(conn.limits.concurrent_commands));
    let mut running = JoinSet::new();
    loop {
        let job = tokio::select! {
            _ = stop.cancelled() => return,
            Some(_) = running.join_next(), if !running.is_empty() => continue,
            j = jobs.recv() => j,
        };
        let Some(Job { ctl, cmd }) = job else { return };
        let permit = tokio::select! {
            _ = stop.cancelled() => return,
            p = Arc::clone(&slots).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => return,
            },
        };
        // A re-login changes who the next commands run as: it waits for the running ones.
        let relogin = cmd.word == "/login";
        let guard = if relogin {
            Some(tokio::select! {
                _ = stop.cancelled() => return,
                g = Arc::clone(&user).write_owned() => g,
            })
        } else {
            None
        };
        let (conn, user, out, pending, stop) = (
            Arc::clone(&conn),
            Arc::clone(&user),
            out.clone(),
            Arc::clone(&pending),
            stop.clone(),
        );
        running.spawn(async move {
            let _permit = permit;
            let replies = if ctl.stop.is_cancelled() {
                None
            } else {
                let work = async {
                    match guard {
                        Some(mut g) => conn.run(&cmd, &mut g).await,
                        None => {
                            // Held while the command runs, so a re-login waits for it.
                            let held = user.read().await;
                            let mut as_user = held.clone();
                            conn.run(&cmd, &mut as_user).await
                        }
                    }
                };
                tokio::select! {
                    _ = stop.cancelled() => return,
                    _ = ctl.stop.cancelled() => None,
                    r = work => Some(r),
                }
            };
            pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .retain(|p| !Arc::ptr_eq(p, &ctl));
            if let Some(replies) = replies
                && ctl.finish()
            {
                let _ = out.send(encode(&replies, cmd.tag.as_deref())).await;
            }
        });
    }
}
