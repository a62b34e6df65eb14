//! The stdio transport: one session on stdin/stdout. Stdout carries only JSON-RPC; logs go to
//! stderr (set up by the binary).

use std::sync::Arc;

use rmcp::ServiceExt;

use crate::App;
use crate::service::{McpService, Transport};

/// Serves one session until the client closes stdin or the server shuts down.
pub async fn serve(app: Arc<App>) -> Result<(), String> {
    let service = McpService::new(Arc::clone(&app), Transport::Stdio);
    let running = service
        .serve_with_ct(rmcp::transport::stdio(), app.shutdown.child_token())
        .await
        .map_err(|e| format!("stdio session: {e}"))?;
    running
        .waiting()
        .await
        .map(|_| ())
        .map_err(|e| format!("stdio session: {e}"))
}
