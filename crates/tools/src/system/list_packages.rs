//! `system.list_packages`: the installed RouterOS packages with their versions and whether each
//! is enabled — what a model checks before suggesting a feature (`wireless`, `container`) or an
//! upgrade, and to see that all packages run the same version as `routeros`.

use routeros::PrintQuery;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::{Ctx, MenuList, ToolError, ToolOutput, window};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    limit: Option<u32>,
    cursor: Option<String>,
    fields: Option<Vec<String>>,
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("system.list_packages", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let scope_args = json!({"device_id": p.device_id});
    MenuList {
        tool: "system.list_packages",
        scope_args,
        device_id: &p.device_id,
        menu: "system/package",
        query: PrintQuery::all(),
        window: window(p.limit, p.cursor, p.fields),
    }
    .run_shaped(
        &ctx,
        |_, _, item| {
            // RouterOS says `disabled`; "is it enabled" is the question a model asks.
            let disabled = item.get("disabled") == Some(&Value::Bool(true));
            item.insert("enabled".into(), json!(!disabled));
        },
        |_| true,
    )
    .await
}

#[cfg(test)]
mod tests {
    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use crate::testing::Harness;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn installed_packages_with_versions() {
        let h = Harness::start(&[Profile::Home]).await;
        h.sim("r1").write_state(|s| {
            s.insert_raw(
                "/system/package",
                &[
                    ("name", "wifi-qcom"),
                    ("version", "7.19.4"),
                    ("size", "3309568"),
                    ("disabled", "true"),
                ],
            )
            .unwrap()
        });
        let list = h
            .ok("system.list_packages", json!({"device_id": "r1"}))
            .await;
        assert_eq!(list["total"], 2);
        let wifi = &list["items"][1];
        assert_eq!(
            (wifi["name"].as_str(), wifi["enabled"].as_bool()),
            (Some("wifi-qcom"), Some(false))
        );
        let pkg = &list["items"][0];
        assert_eq!(pkg["name"], "routeros");
        assert_eq!(pkg["version"], routeros_sim::profiles::ROUTEROS_VERSION);
        assert_eq!(pkg["enabled"], true);
        assert_eq!(pkg["disabled"], false);
        assert_eq!(pkg["size"], 13_660_160, "sizes are numbers");
        let narrow = h
            .ok(
                "system.list_packages",
                json!({"device_id": "r1", "fields": ["version"]}),
            )
            .await;
        assert_eq!(
            narrow["items"][0],
            json!({"id": pkg["id"], "version": routeros_sim::profiles::ROUTEROS_VERSION})
        );
        let e = h
            .call("system.list_packages", json!({"device_id": "r9"}))
            .await
            .unwrap_err();
        assert!(e.to_string().contains("use device.list"), "{e}");
    }
}
