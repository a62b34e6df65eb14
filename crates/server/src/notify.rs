//! systemd's notification protocol (`sd_notify`), written directly: one datagram per state
//! change to the Unix socket named by `NOTIFY_SOCKET` (a path, or an abstract name written
//! `@name`). Nothing is sent when the variable is unset, and a failed send is logged and
//! otherwise ignored: serving never depends on systemd listening.
//!
//! What the service sends: `READY=1` once it is validated, bound and serving; `WATCHDOG=1` every
//! half of `WATCHDOG_USEC` while it runs (only when that is set and `WATCHDOG_PID` is unset or
//! names this process); `STOPPING=1` when shutdown begins; and around a configuration reload
//! `RELOADING=1` with `MONOTONIC_USEC` (as `Type=notify-reload` expects) then `READY=1`.

use std::os::unix::net::{SocketAddr, UnixDatagram};
use std::sync::Arc;
use std::time::Duration;

use tokio_util::sync::CancellationToken;

/// Where notifications go, read once from the environment.
#[derive(Clone, Default)]
pub struct Notifier {
    target: Option<Arc<Target>>,
    watchdog: Option<Duration>,
}

struct Target {
    /// As given in `NOTIFY_SOCKET`, for messages.
    name: String,
    addr: SocketAddr,
    socket: UnixDatagram,
}

impl std::fmt::Debug for Notifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Notifier")
            .field("socket", &self.target.as_ref().map(|t| t.name.as_str()))
            .field("watchdog", &self.watchdog)
            .finish()
    }
}

impl Notifier {
    /// From `NOTIFY_SOCKET`, `WATCHDOG_USEC` and `WATCHDOG_PID` of this process.
    pub fn from_env() -> Self {
        let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        Self::new(
            var("NOTIFY_SOCKET").as_deref(),
            var("WATCHDOG_USEC").as_deref(),
            var("WATCHDOG_PID").as_deref(),
        )
    }

    /// From the values of those variables (`None` = unset).
    pub fn new(
        socket: Option<&str>,
        watchdog_usec: Option<&str>,
        watchdog_pid: Option<&str>,
    ) -> Self {
        let target = socket.and_then(|name| match connect(name) {
            Ok(target) => Some(Arc::new(target)),
            Err(e) => {
                tracing::warn!(socket = name, error = %e, "NOTIFY_SOCKET is set but cannot be used; systemd will not hear from this service");
                None
            }
        });
        let ours = watchdog_pid.is_none_or(|pid| pid.trim() == std::process::id().to_string());
        let watchdog = watchdog_usec
            .and_then(|usec| usec.trim().parse::<u64>().ok())
            .filter(|usec| *usec > 0 && ours && target.is_some())
            .map(Duration::from_micros);
        Self { target, watchdog }
    }

    /// Whether systemd listens.
    pub fn enabled(&self) -> bool {
        self.target.is_some()
    }

    /// How often systemd expects `WATCHDOG=1` (`None`: no watchdog for this process).
    pub fn watchdog_interval(&self) -> Option<Duration> {
        self.watchdog
    }

    pub fn ready(&self) {
        self.send("READY=1");
    }

    pub fn stopping(&self) {
        self.send("STOPPING=1");
    }

    /// `RELOADING=1` stamped with the monotonic clock, as `Type=notify-reload` requires.
    pub fn reloading(&self) {
        let usec = nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
            .map(|t| {
                let secs = u64::try_from(t.tv_sec()).unwrap_or(0);
                let nanos = u64::try_from(t.tv_nsec()).unwrap_or(0);
                secs.saturating_mul(1_000_000).saturating_add(nanos / 1_000)
            })
            .unwrap_or(0);
        self.send(&format!("RELOADING=1\nMONOTONIC_USEC={usec}"));
    }

    pub fn watchdog(&self) {
        self.send("WATCHDOG=1");
    }

    /// Sends `WATCHDOG=1` every half interval until `stop` is cancelled (nothing without a
    /// watchdog).
    pub fn spawn_watchdog(&self, stop: CancellationToken) -> Option<tokio::task::JoinHandle<()>> {
        let every = self.watchdog? / 2;
        let notifier = self.clone();
        Some(tokio::spawn(async move {
            let mut ticks = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
            ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                tokio::select! {
                    () = stop.cancelled() => break,
                    _ = ticks.tick() => notifier.watchdog(),
                }
            }
        }))
    }

    fn send(&self, message: &str) {
        let Some(t) = &self.target else {
            return;
        };
        if let Err(e) = t.socket.send_to_addr(message.as_bytes(), &t.addr) {
            tracing::warn!(socket = %t.name, error = %e, message, "could not notify systemd");
        }
    }
}

/// A datagram socket aimed at `NOTIFY_SOCKET` (a path, or `@name` in the abstract namespace).
fn connect(name: &str) -> std::io::Result<Target> {
    let addr = match name.strip_prefix('@') {
        Some(abstract_name) => {
            use std::os::linux::net::SocketAddrExt as _;
            SocketAddr::from_abstract_name(abstract_name.as_bytes())?
        }
        None if name.starts_with('/') => SocketAddr::from_pathname(name)?,
        None => {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "expected an absolute path or an abstract name starting with @",
            ));
        }
    };
    let socket = UnixDatagram::unbound()?;
    // A notification is a few bytes; never hold the service up if systemd is slow to read.
    socket.set_nonblocking(true)?;
    Ok(Target {
        name: name.to_owned(),
        addr,
        socket,
    })
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;

    fn receive(socket: &UnixDatagram) -> String {
        let mut buf = [0u8; 256];
        let n = socket.recv(&mut buf).expect("a notification arrives");
        String::from_utf8_lossy(&buf[..n]).into_owned()
    }

    #[test]
    fn messages_reach_a_socket_at_a_path() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let listener = UnixDatagram::bind(&path).unwrap();
        listener
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let n = Notifier::new(path.to_str(), None, None);
        assert!(n.enabled());
        n.ready();
        assert_eq!(receive(&listener), "READY=1");
        n.reloading();
        let reloading = receive(&listener);
        let usec: u64 = reloading
            .strip_prefix("RELOADING=1\nMONOTONIC_USEC=")
            .expect("RELOADING=1 with a timestamp")
            .parse()
            .unwrap();
        assert!(usec > 0);
        n.stopping();
        assert_eq!(receive(&listener), "STOPPING=1");
    }

    #[test]
    fn abstract_socket_names_work() {
        use std::os::linux::net::SocketAddrExt as _;
        let name = format!("routeros-mcp-test-{}", std::process::id());
        let addr = SocketAddr::from_abstract_name(name.as_bytes()).unwrap();
        let listener = UnixDatagram::bind_addr(&addr).unwrap();
        listener
            .set_read_timeout(Some(Duration::from_secs(5)))
            .unwrap();
        let n = Notifier::new(Some(&format!("@{name}")), None, None);
        n.ready();
        assert_eq!(receive(&listener), "READY=1");
    }

    #[test]
    fn the_watchdog_is_only_for_this_process_and_only_when_systemd_listens() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.sock");
        let _listener = UnixDatagram::bind(&path).unwrap();
        let socket = path.to_str();
        let ours = std::process::id().to_string();
        assert_eq!(
            Notifier::new(socket, Some("2000000"), None).watchdog_interval(),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            Notifier::new(socket, Some("2000000"), Some(&ours)).watchdog_interval(),
            Some(Duration::from_secs(2))
        );
        assert_eq!(
            Notifier::new(socket, Some("2000000"), Some("1")).watchdog_interval(),
            None,
            "another process's watchdog"
        );
        assert_eq!(
            Notifier::new(None, Some("2000000"), None).watchdog_interval(),
            None
        );
        assert_eq!(
            Notifier::new(socket, Some("soon"), None).watchdog_interval(),
            None
        );
        assert!(!Notifier::new(Some("relative/path"), None, None).enabled());
    }
}
