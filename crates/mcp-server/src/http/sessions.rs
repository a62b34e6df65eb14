//! The cap on open Streamable HTTP sessions (`MCP_HTTP_MAX_SESSIONS`).
//!
//! [`CappedSessions`] wraps the SDK's session manager and owns the set of open session ids: a
//! new session is refused with [`SessionLimitError::Full`] once the set is full, and a session
//! leaves it when it is closed — by the client (`DELETE`), by its idle timeout (the SDK's
//! `keep_alive`), by shutdown, or because its `initialize` never came. Every one of those ends in
//! the SDK calling [`SessionManager::close_session`], so the set cannot leak.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};

use futures::Stream;
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};
use rmcp::transport::streamable_http_server::SessionManager;
use rmcp::transport::streamable_http_server::session::{
    EventStore, RestoreOutcome, ServerSseMessage, SessionId,
};

/// Text the refusal carries, so the HTTP layer can tell it from other session errors.
pub(crate) const LIMIT_MARKER: &str = "mcp-session-limit-reached";

/// Why a session operation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SessionLimitError<E: std::error::Error + 'static> {
    /// Every slot is taken.
    #[error("{LIMIT_MARKER}: {max} sessions are open")]
    Full { max: usize },
    /// The wrapped session manager failed.
    #[error(transparent)]
    Inner(E),
}

#[derive(Debug, Default)]
struct Slots {
    open: HashSet<SessionId>,
    /// Sessions being created (counted before their id is known).
    reserving: usize,
}

/// A session manager that refuses new sessions beyond `max`.
#[derive(Debug)]
pub struct CappedSessions<M> {
    inner: M,
    max: usize,
    slots: Arc<Mutex<Slots>>,
}

impl<M> CappedSessions<M> {
    pub fn new(inner: M, max: usize) -> Self {
        Self {
            inner,
            max: max.max(1),
            slots: Arc::new(Mutex::new(Slots::default())),
        }
    }

    /// Sessions open now.
    pub fn open(&self) -> usize {
        self.slots.lock().map_or(0, |s| s.open.len())
    }

    fn with_slots<T>(&self, f: impl FnOnce(&mut Slots) -> T) -> T {
        // A poisoned lock only means another thread panicked mid-update of plain counters.
        let mut guard = self
            .slots
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut guard)
    }
}

impl<M: SessionManager> SessionManager for CappedSessions<M> {
    type Error = SessionLimitError<M::Error>;
    type Transport = M::Transport;

    async fn create_session(&self) -> Result<(SessionId, Self::Transport), Self::Error> {
        let max = self.max;
        self.with_slots(|s| {
            if s.open.len() + s.reserving >= max {
                Err(SessionLimitError::Full { max })
            } else {
                s.reserving += 1;
                Ok(())
            }
        })?;
        let created = self.inner.create_session().await;
        self.with_slots(|s| {
            s.reserving = s.reserving.saturating_sub(1);
            if let Ok((id, _)) = &created {
                s.open.insert(id.clone());
            }
        });
        created.map_err(SessionLimitError::Inner)
    }

    async fn initialize_session(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<ServerJsonRpcMessage, Self::Error> {
        self.inner
            .initialize_session(id, message)
            .await
            .map_err(SessionLimitError::Inner)
    }

    async fn has_session(&self, id: &SessionId) -> Result<bool, Self::Error> {
        self.inner
            .has_session(id)
            .await
            .map_err(SessionLimitError::Inner)
    }

    async fn close_session(&self, id: &SessionId) -> Result<(), Self::Error> {
        self.with_slots(|s| s.open.remove(id));
        self.inner
            .close_session(id)
            .await
            .map_err(SessionLimitError::Inner)
    }

    async fn create_stream(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.inner
            .create_stream(id, message)
            .await
            .map_err(SessionLimitError::Inner)
    }

    async fn accept_message(
        &self,
        id: &SessionId,
        message: ClientJsonRpcMessage,
    ) -> Result<(), Self::Error> {
        self.inner
            .accept_message(id, message)
            .await
            .map_err(SessionLimitError::Inner)
    }

    async fn create_standalone_stream(
        &self,
        id: &SessionId,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.inner
            .create_standalone_stream(id)
            .await
            .map_err(SessionLimitError::Inner)
    }

    async fn resume(
        &self,
        id: &SessionId,
        last_event_id: String,
    ) -> Result<impl Stream<Item = ServerSseMessage> + Send + Sync + 'static, Self::Error> {
        self.inner
            .resume(id, last_event_id)
            .await
            .map_err(SessionLimitError::Inner)
    }

    async fn restore_session(
        &self,
        id: SessionId,
    ) -> Result<RestoreOutcome<Self::Transport>, Self::Error> {
        let outcome = self
            .inner
            .restore_session(id.clone())
            .await
            .map_err(SessionLimitError::Inner)?;
        if let RestoreOutcome::Restored(_) = &outcome {
            self.with_slots(|s| s.open.insert(id));
        }
        Ok(outcome)
    }

    fn event_store(&self) -> Option<Arc<dyn EventStore>> {
        self.inner.event_store()
    }
}
