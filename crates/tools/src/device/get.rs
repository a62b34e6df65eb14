//! `device.get`: one registered device in full (ports, pins, timestamps — never credentials).

use serde::Deserialize;
use serde_json::json;

use crate::{Ctx, ToolError, ToolOutput};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("device.get", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let d = crate::registered(&ctx, &p.device_id).await?;
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

#[cfg(test)]
mod tests {
    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn by_name_or_id_never_a_secret() {
        let h = Harness::start(&[Profile::Home]).await;
        let by_name = h.ok("device.get", json!({"device_id": "r1"})).await;
        assert_eq!(by_name["tls_pinned"], true);
        let id = by_name["id"].as_str().unwrap().to_owned();
        let by_id = h.ok("device.get", json!({"device_id": id})).await;
        assert_eq!(by_id["name"], "r1");
        let password = h.sims.manifest().devices[0].password.clone();
        assert!(!by_id.to_string().contains(&password));
        let missing = h
            .call("device.get", json!({"device_id": "nope"}))
            .await
            .unwrap_err();
        assert!(missing.to_string().contains("use device.list"), "{missing}");
    }
}
