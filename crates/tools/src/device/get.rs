//! `device.get`: one registered device in full (ports, pins, timestamps — never credentials).

use serde::Deserialize;
use serde_json::json;

use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
}

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let d = ctx.fleet.store().find_device(None, &p.device_id).await?;
    let mut out = super::summary(&d);
    out.insert("rest_port".into(), json!(d.rest_port));
    out.insert("ssh_port".into(), json!(d.ssh_port));
    out.insert("insecure_http".into(), json!(d.insecure_http));
    out.insert("architecture".into(), json!(d.architecture));
    out.insert("tls_pinned".into(), json!(d.tls_cert_sha256.is_some()));
    out.insert("ssh_pinned".into(), json!(d.ssh_host_key_sha256.is_some()));
    out.insert("created_at".into(), json!(d.created_at));
    out.insert("updated_at".into(), json!(d.updated_at));
    Ok(ToolOutput::new(serde_json::Value::Object(out)))
}
