//! The network link of one SSH connection, as the device's condition makes it behave.
//!
//! A router that lost its management path, hangs or is rebooting does not close connections
//! politely: packets simply stop flowing (a hang) or the connection dies. [`GatedStream`] wraps
//! the TCP stream and asks, on every read and write, what the link is like right now:
//! [`LinkState::Open`] passes bytes, [`LinkState::Frozen`] lets nothing through in either direction
//! (the client sees silence, exactly like a black-holed path, and traffic resumes when the
//! condition clears), [`LinkState::Closed`] ends the connection. While frozen it re-checks on a
//! short timer, so restoring the path (e.g. by a scheduler script on the device) is noticed
//! without any traffic.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::time::Sleep;
use tokio_util::sync::{CancellationToken, WaitForCancellationFutureOwned};

/// What the link of a connection does right now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkState {
    /// Traffic flows.
    Open,
    /// Nothing flows in either direction; the connection stays up.
    Frozen,
    /// The connection is gone.
    Closed,
}

/// How often a frozen link re-checks its condition.
const RECHECK: Duration = Duration::from_millis(50);

/// Decides the state of the link; called on every poll, so it must be cheap.
pub type LinkCheck = Arc<dyn Fn() -> LinkState + Send + Sync>;

/// A stream whose traffic follows a [`LinkCheck`] and that can be cut with a token.
pub struct GatedStream<S> {
    inner: S,
    check: LinkCheck,
    kill: Pin<Box<WaitForCancellationFutureOwned>>,
    killed: bool,
    read_timer: Option<Pin<Box<Sleep>>>,
    write_timer: Option<Pin<Box<Sleep>>>,
}

impl<S> std::fmt::Debug for GatedStream<S> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GatedStream")
            .field("killed", &self.killed)
            .finish_non_exhaustive()
    }
}

impl<S> GatedStream<S> {
    /// Wraps `inner`; `kill` cuts the connection at once.
    pub fn new(inner: S, check: LinkCheck, kill: CancellationToken) -> Self {
        GatedStream {
            inner,
            check,
            kill: Box::pin(kill.cancelled_owned()),
            killed: false,
            read_timer: None,
            write_timer: None,
        }
    }

    /// Whether the connection may proceed: `Ready(Ok)` to pass traffic, `Ready(Err)` when it is
    /// gone, `Pending` while frozen (a timer wakes the task to re-check).
    fn gate(&mut self, cx: &mut Context<'_>, reading: bool) -> Poll<io::Result<()>> {
        if self.killed || self.kill.as_mut().poll(cx).is_ready() {
            self.killed = true;
            return Poll::Ready(Err(io::Error::new(
                io::ErrorKind::ConnectionReset,
                "connection dropped",
            )));
        }
        let timer = if reading {
            &mut self.read_timer
        } else {
            &mut self.write_timer
        };
        match (self.check)() {
            LinkState::Open => {
                *timer = None;
                Poll::Ready(Ok(()))
            }
            LinkState::Closed => {
                self.killed = true;
                Poll::Ready(Err(io::Error::new(
                    io::ErrorKind::ConnectionReset,
                    "connection lost",
                )))
            }
            LinkState::Frozen => {
                let t = timer.get_or_insert_with(|| Box::pin(tokio::time::sleep(RECHECK)));
                if t.as_mut().poll(cx).is_ready() {
                    t.as_mut().reset(tokio::time::Instant::now() + RECHECK);
                    let _ = t.as_mut().poll(cx);
                }
                Poll::Pending
            }
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for GatedStream<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.gate(cx, true) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.inner).poll_read(cx, buf),
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for GatedStream<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.gate(cx, false) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.inner).poll_write(cx, data),
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.gate(cx, false) {
            Poll::Ready(Ok(())) => Pin::new(&mut self.inner).poll_flush(cx),
            other => other,
        }
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used)]
    use super::*;
    use std::sync::atomic::{AtomicU8, Ordering};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    fn state_of(v: &AtomicU8) -> LinkState {
        match v.load(Ordering::SeqCst) {
            0 => LinkState::Open,
            1 => LinkState::Frozen,
            _ => LinkState::Closed,
        }
    }

    #[tokio::test]
    async fn frozen_link_is_silent_until_it_reopens() {
        let (a, mut b) = tokio::io::duplex(64);
        let flag = Arc::new(AtomicU8::new(1));
        let f = flag.clone();
        let mut gated =
            GatedStream::new(a, Arc::new(move || state_of(&f)), CancellationToken::new());
        b.write_all(b"hi").await.unwrap();
        let mut buf = [0u8; 2];
        let r = tokio::time::timeout(Duration::from_millis(200), gated.read_exact(&mut buf)).await;
        assert!(r.is_err(), "a frozen link must not deliver data");
        flag.store(0, Ordering::SeqCst);
        tokio::time::timeout(Duration::from_secs(2), gated.read_exact(&mut buf))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(&buf, b"hi");
    }

    #[tokio::test]
    async fn kill_token_and_closed_state_end_the_stream() {
        let (a, _b) = tokio::io::duplex(64);
        let kill = CancellationToken::new();
        let mut gated = GatedStream::new(a, Arc::new(|| LinkState::Open), kill.clone());
        kill.cancel();
        let mut buf = [0u8; 1];
        assert!(gated.read(&mut buf).await.is_err());

        let (a, _b) = tokio::io::duplex(64);
        let mut gated =
            GatedStream::new(a, Arc::new(|| LinkState::Closed), CancellationToken::new());
        assert!(gated.write_all(b"x").await.is_err());
    }
}
