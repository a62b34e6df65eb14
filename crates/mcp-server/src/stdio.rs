//! The stdio transport: one session on stdin/stdout. Stdout carries only JSON-RPC; logs go to
//! stderr (set up by the binary).
//!
//! Every request read counts in [`App::calls`] until its answer has been written to stdout (or
//! the client cancelled it), so a shutdown that waits for the calls in flight also waits for
//! their answers to reach the client before the session ends. Once shutdown has begun
//! ([`App::stopping`]) a new request is answered at once with an error saying so: the session
//! stays open only for the answers still due.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;

use rmcp::model::{ClientNotification, ErrorCode, ErrorData, JsonRpcMessage, RequestId};
use rmcp::service::{RxJsonRpcMessage, TxJsonRpcMessage};
use rmcp::transport::Transport;
use rmcp::{RoleServer, ServiceExt};
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tokio_util::task::task_tracker::TaskTrackerToken;

use crate::App;
use crate::service::{McpService, Transport as Kind};

/// Serves one session until the client closes stdin or the server shuts down.
pub async fn serve(app: Arc<App>) -> Result<(), String> {
    let service = McpService::new(Arc::clone(&app), Kind::Stdio);
    let transport = Answered {
        inner: rmcp::transport::async_rw::AsyncRwTransport::new_server(
            tokio::io::stdin(),
            tokio::io::stdout(),
        ),
        calls: app.calls.clone(),
        stopping: app.stopping.clone(),
        open: HashMap::new(),
    };
    let running = service
        .serve_with_ct(transport, app.shutdown.child_token())
        .await
        .map_err(|e| format!("stdio session: {e}"))?;
    running
        .waiting()
        .await
        .map(|_| ())
        .map_err(|e| format!("stdio session: {e}"))
}

/// A transport that holds a [`TaskTrackerToken`] for each request from the client until its
/// answer is written.
struct Answered<T> {
    inner: T,
    calls: TaskTracker,
    /// Shutdown has begun: new requests are refused.
    stopping: CancellationToken,
    open: HashMap<RequestId, TaskTrackerToken>,
}

impl<T: Transport<RoleServer>> Transport<RoleServer> for Answered<T> {
    type Error = T::Error;

    fn send(
        &mut self,
        item: TxJsonRpcMessage<RoleServer>,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send + 'static {
        let answered = match &item {
            JsonRpcMessage::Response(r) => self.open.remove(&r.id),
            JsonRpcMessage::Error(e) => e.id.as_ref().and_then(|id| self.open.remove(id)),
            JsonRpcMessage::Request(_) | JsonRpcMessage::Notification(_) => None,
        };
        let sent = self.inner.send(item);
        async move {
            let result = sent.await;
            drop(answered);
            result
        }
    }

    async fn receive(&mut self) -> Option<RxJsonRpcMessage<RoleServer>> {
        let mut message = self.inner.receive().await;
        while let Some(JsonRpcMessage::Request(r)) = &message
            && self.stopping.is_cancelled()
        {
            let refusal = ErrorData::new(
                ErrorCode(-32000),
                "the server is shutting down: it finishes the calls in flight and takes no new \
                 requests; start it again to continue",
                None,
            );
            // Sent on its own (the send is a 'static future), so this read stays cancel-safe:
            // the serve loop drops it whenever another event comes first.
            let sent = self
                .inner
                .send(JsonRpcMessage::error(refusal, Some(r.id.clone())));
            tokio::spawn(sent);
            message = self.inner.receive().await;
        }
        match &message {
            Some(JsonRpcMessage::Request(r)) => {
                self.open.insert(r.id.clone(), self.calls.token());
            }
            Some(JsonRpcMessage::Notification(n)) => {
                if let ClientNotification::CancelledNotification(c) = &n.notification
                    && let Some(id) = &c.params.request_id
                {
                    self.open.remove(id);
                }
            }
            Some(JsonRpcMessage::Response(_) | JsonRpcMessage::Error(_)) | None => {}
        }
        message
    }

    fn close(&mut self) -> impl Future<Output = Result<(), Self::Error>> + Send {
        self.open.clear();
        self.inner.close()
    }
}
