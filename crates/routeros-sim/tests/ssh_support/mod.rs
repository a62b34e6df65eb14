//! A small SSH client for the tests: exec requests and an interactive shell driven like a
//! terminal, over real TCP on loopback.

#![allow(clippy::unwrap_used, clippy::expect_used, dead_code)]

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use russh::client::{self, Handle};
use russh::keys::PublicKey;
use russh::{Channel, ChannelMsg};

/// Accepts any host key and remembers it.
pub struct Client {
    pub seen_key: Arc<std::sync::Mutex<Option<PublicKey>>>,
}

impl client::Handler for Client {
    type Error = russh::Error;

    async fn check_server_key(
        &mut self,
        key: &russh::keys::PublicKeyOrCertificate,
    ) -> Result<bool, Self::Error> {
        if let russh::keys::PublicKeyOrCertificate::PublicKey { key, .. } = key {
            *self.seen_key.lock().unwrap() = Some(key.clone());
        }
        Ok(true)
    }
}

/// An authenticated SSH connection.
pub struct Conn {
    pub handle: Handle<Client>,
    pub host_key: Option<PublicKey>,
}

/// Why a connection attempt did not give a session.
#[derive(Debug)]
pub enum ConnectError {
    /// TCP or SSH failed (refused, reset, timed out).
    Transport(String),
    /// The server rejected the password.
    Rejected,
}

/// Connects and logs in with a password, within `timeout`.
pub async fn connect(
    addr: SocketAddr,
    user: &str,
    password: &str,
    timeout: Duration,
) -> Result<Conn, ConnectError> {
    let config = Arc::new(client::Config {
        inactivity_timeout: None,
        ..Default::default()
    });
    let seen = Arc::new(std::sync::Mutex::new(None));
    let handler = Client {
        seen_key: seen.clone(),
    };
    let fut = async {
        let mut handle = client::connect(config, addr, handler)
            .await
            .map_err(|e| ConnectError::Transport(e.to_string()))?;
        let res = handle
            .authenticate_password(user, password)
            .await
            .map_err(|e| ConnectError::Transport(e.to_string()))?;
        if !res.success() {
            return Err(ConnectError::Rejected);
        }
        Ok(handle)
    };
    let handle = tokio::time::timeout(timeout, fut)
        .await
        .map_err(|_| ConnectError::Transport("timed out".into()))??;
    let host_key = seen.lock().unwrap().clone();
    Ok(Conn { handle, host_key })
}

impl Conn {
    /// Runs one exec request; returns the output and exit status.
    pub async fn exec(&self, command: &str) -> (String, Option<u32>) {
        self.try_exec(command, Duration::from_secs(20))
            .await
            .expect("exec timed out")
    }

    /// Runs one exec request; `None` if nothing complete arrives within `timeout`.
    pub async fn try_exec(
        &self,
        command: &str,
        timeout: Duration,
    ) -> Option<(String, Option<u32>)> {
        let fut = async {
            let mut ch = self.handle.channel_open_session().await.ok()?;
            ch.exec(true, command).await.ok()?;
            let mut out = Vec::new();
            let mut status = None;
            while let Some(msg) = ch.wait().await {
                match msg {
                    ChannelMsg::Data { data } => out.extend_from_slice(&data),
                    ChannelMsg::ExitStatus { exit_status } => status = Some(exit_status),
                    ChannelMsg::Close => break,
                    _ => {}
                }
            }
            Some((String::from_utf8_lossy(&out).into_owned(), status))
        };
        tokio::time::timeout(timeout, fut).await.ok().flatten()
    }

    /// Opens an interactive shell with a PTY of `cols` columns.
    pub async fn shell(&self, cols: u32) -> Shell {
        let ch = self.handle.channel_open_session().await.unwrap();
        ch.request_pty(true, "xterm", cols, 24, 0, 0, &[])
            .await
            .unwrap();
        ch.request_shell(true).await.unwrap();
        Shell {
            ch,
            buf: String::new(),
        }
    }
}

/// An interactive shell session.
pub struct Shell {
    pub ch: Channel<client::Msg>,
    /// Everything received and not yet consumed.
    pub buf: String,
}

impl Shell {
    /// Sends raw bytes.
    pub async fn send(&self, bytes: &[u8]) {
        self.ch.data(bytes).await.unwrap();
    }

    /// Reads until the buffer contains `needle`; returns everything up to and including it.
    pub async fn read_until(&mut self, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(i) = self.buf.find(needle) {
                let rest = self.buf.split_off(i + needle.len());
                return Some(std::mem::replace(&mut self.buf, rest));
            }
            let msg = tokio::time::timeout_at(deadline, self.ch.wait())
                .await
                .ok()??;
            match msg {
                ChannelMsg::Data { data } => self.buf.push_str(&String::from_utf8_lossy(&data)),
                ChannelMsg::Eof | ChannelMsg::Close => {
                    if let Some(i) = self.buf.find(needle) {
                        let rest = self.buf.split_off(i + needle.len());
                        return Some(std::mem::replace(&mut self.buf, rest));
                    }
                    return None;
                }
                _ => {}
            }
        }
    }

    /// Types a command and Enter; returns what came back up to (and including) the next prompt
    /// ending in `prompt_end`.
    pub async fn command(&mut self, cmd: &str, prompt_end: &str) -> String {
        self.send(format!("{cmd}\r\n").as_bytes()).await;
        self.read_until(prompt_end, Duration::from_secs(20))
            .await
            .expect("no prompt after command")
    }

    /// Waits for the channel to end; true if it ended within `timeout`.
    pub async fn wait_closed(&mut self, timeout: Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            match tokio::time::timeout_at(deadline, self.ch.wait()).await {
                Err(_) => return false,
                Ok(None) | Ok(Some(ChannelMsg::Close)) => return true,
                Ok(Some(ChannelMsg::Data { data })) => {
                    self.buf.push_str(&String::from_utf8_lossy(&data))
                }
                Ok(Some(_)) => {}
            }
        }
    }
}
