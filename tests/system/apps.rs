//! The MCP Apps view of `plan.get` (`io.modelcontextprotocol/ui`): only clients that declare the
//! extension see `_meta.ui` and can read the view; others see the tools exactly as before. The
//! view, as served, renders a real plan whose text is hostile markup as text in headless
//! Chromium (`python/plan_view_check.py`): no planted script runs, and the only thing it asks of
//! the host is opening the console page.

use std::path::PathBuf;
use std::time::Duration;

use rmcp::ClientHandler;
use rmcp::model::{
    ClientCapabilities, ExtensionCapabilities, InitializeRequestParams, ReadResourceRequestParams,
    ResourceContents, Tool,
};
use routeros_sim::profiles::Profile;
use serde_json::{Map, Value, json};

use crate::support::{STEP, World};

const VIEW: &str = "ui://routeros-mcp/plan-view";
const MIME: &str = "text/html;profile=mcp-app";
/// The public URL the server is told (its MCP endpoint under a path) …
const PUBLIC_URL: &str = "https://console.example.net/ops";
/// … and where the console is: `/console` at that URL's origin.
const CONSOLE: &str = "https://console.example.net";
const HOSTILE: &str = r#"<img src=x onerror="window.__pwned=1;parent.postMessage('pwned','*')"><script>window.__pwned=2</script>"#;

/// A host that renders MCP Apps views (or, with other MIME types, one that claims the
/// extension but renders none of ours).
#[derive(Clone)]
struct Host {
    mime_types: Vec<&'static str>,
}

impl ClientHandler for Host {
    fn get_info(&self) -> InitializeRequestParams {
        let mut extensions = ExtensionCapabilities::new();
        let mut settings = Map::new();
        settings.insert("mimeTypes".into(), json!(self.mime_types));
        extensions.insert("io.modelcontextprotocol/ui".into(), settings);
        let mut capabilities = ClientCapabilities::default();
        capabilities.extensions = Some(extensions);
        InitializeRequestParams::new(
            capabilities,
            rmcp::model::Implementation::new("apps-host", "1"),
        )
    }
}

fn ui(tool: &Tool) -> Option<&Value> {
    tool.meta.as_ref().and_then(|m| m.0.get("ui"))
}

/// The tools as a client sees them, without `_meta.ui`.
fn without_ui(tools: &[Tool]) -> Value {
    let mut v = serde_json::to_value(tools).unwrap();
    for t in v.as_array_mut().unwrap() {
        if let Some(meta) = t.get_mut("_meta").and_then(Value::as_object_mut) {
            meta.remove("ui");
        }
    }
    v
}

async fn read(
    service: &rmcp::service::RunningService<rmcp::RoleClient, impl ClientHandler>,
    uri: &str,
) -> Result<rmcp::model::ReadResourceResult, String> {
    tokio::time::timeout(
        STEP,
        service.read_resource(ReadResourceRequestParams::new(uri)),
    )
    .await
    .expect("resources/read answers in time")
    .map_err(|e| e.to_string())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_clients_that_declare_the_extension_see_the_plan_view() {
    let world = World::start(&[Profile::Home]).await;
    let env = [("MCP_HTTP_PUBLIC_URL", PUBLIC_URL)];
    let host = world
        .stdio_with(
            Host {
                mime_types: vec![MIME],
            },
            &["serve", "--transport", "stdio"],
            &env,
        )
        .await;
    let plain = world.stdio(&env).await;

    // The host: plan.get names the view; every tool that changes something is model-only.
    assert_eq!(
        ui(host.tool("plan.get")),
        Some(&json!({"resourceUri": VIEW}))
    );
    for t in &host.tools {
        let read_only = t.annotations.as_ref().unwrap().read_only_hint == Some(true);
        if !read_only {
            assert_eq!(
                ui(t).map(|u| &u["visibility"]),
                Some(&json!(["model"])),
                "{}",
                t.name
            );
        } else if t.name != "plan.get" {
            assert_eq!(ui(t), None, "{}", t.name);
        }
    }
    assert!(
        ui(host.tool("plan.apply")).is_some(),
        "plan.apply is refused to views"
    );
    let listed = tokio::time::timeout(STEP, host.service.list_all_resources())
        .await
        .unwrap()
        .unwrap();
    let entry = listed
        .iter()
        .find(|r| r.uri == VIEW)
        .expect("the view is listed");
    assert_eq!(entry.mime_type.as_deref(), Some(MIME));
    let contents = read(&host.service, VIEW).await.unwrap().contents;
    assert_eq!(contents.len(), 1);
    let ResourceContents::TextResourceContents {
        uri,
        mime_type,
        text: html,
        meta,
    } = &contents[0]
    else {
        panic!("the view is text")
    };
    assert_eq!(uri, VIEW);
    assert_eq!(mime_type.as_deref(), Some(MIME));
    assert!(html.starts_with("<!DOCTYPE html>"), "an HTML5 document");
    assert!(
        html.contains(&format!(r#"content="{CONSOLE}""#)),
        "links to the console"
    );
    let csp = &meta.as_ref().unwrap().0["ui"]["csp"];
    assert_eq!(csp["connectDomains"], json!([]), "the view reaches nothing");
    assert_eq!(csp["resourceDomains"], json!([]));

    // Everyone else: the tools exactly as before, no view listed, none to read.
    assert!(plain.tools.iter().all(|t| ui(t).is_none()));
    assert_eq!(
        serde_json::to_value(&plain.tools).unwrap(),
        without_ui(&host.tools),
        "a client without the extension sees the tools as they were"
    );
    let listed = tokio::time::timeout(STEP, plain.service.list_all_resources())
        .await
        .unwrap()
        .unwrap();
    assert!(listed.iter().all(|r| !r.uri.starts_with("ui://")));
    let refused = read(&plain.service, VIEW).await.unwrap_err();
    assert!(
        refused.contains("io.modelcontextprotocol/ui") && refused.contains(MIME),
        "{refused}"
    );
    // Made-up views are not found, and say which one exists.
    let refused = read(&host.service, "ui://routeros-mcp/../../etc/passwd")
        .await
        .unwrap_err();
    assert!(refused.contains(VIEW), "{refused}");

    // Claiming the extension for other content types is not enough.
    let other = world
        .stdio_with(
            Host {
                mime_types: vec!["text/html"],
            },
            &["serve", "--transport", "stdio"],
            &env,
        )
        .await;
    assert!(other.tools.iter().all(|t| ui(t).is_none()));
    other.close().await;

    // A 2026-07-28 client announces the extension on every request.
    let stateless = world
        .stdio_stateless_with(
            Host {
                mime_types: vec![MIME],
            },
            &env,
        )
        .await;
    assert_eq!(
        ui(stateless.tool("plan.get")),
        Some(&json!({"resourceUri": VIEW}))
    );
    assert!(read(&stateless.service, VIEW).await.is_ok());
    stateless.close().await;

    host.close().await;
    plain.close().await;
    world.stop().await;
}

/// A plan whose title and rule comment are markup, rendered by the served view in headless
/// Chromium as a host would: the text shows, no planted script runs (with the view's own
/// Content-Security-Policy, and without it, where only its use of text nodes protects), and
/// the view sends nothing but its handshake, its size and the console link.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn hostile_plan_text_renders_as_text_in_chromium() {
    let world = World::start(&[Profile::Home]).await;
    let device = world.names[0].clone();
    let host = world
        .stdio_with(
            Host {
                mime_types: vec![MIME],
            },
            &["serve", "--transport", "stdio"],
            &[("MCP_HTTP_PUBLIC_URL", PUBLIC_URL)],
        )
        .await;
    let plan = host
        .ok(
            "plan.create",
            json!({"title": format!("block {HOSTILE}"), "changes": [{
                "device_id": device, "menu": "ip/firewall/filter", "action": "add",
                "properties": {"chain": "forward", "action": "drop",
                               "src-address": "198.51.100.0/24", "comment": HOSTILE}
            }]}),
        )
        .await;
    let plan_id = plan["plan_id"].as_str().unwrap().to_owned();
    let (mut structured, result) = host
        .ok_result("plan.get", json!({"plan_id": plan_id}))
        .await;
    // A token-like member in a plan's free-form parts is never put on screen.
    structured["outcome"] = json!({"approval_token": "SECRET-TOKEN-VALUE", "applied": true});
    let mut result = serde_json::to_value(&result).unwrap();
    result["structuredContent"] = structured;
    let contents = read(&host.service, VIEW).await.unwrap().contents;
    let ResourceContents::TextResourceContents { text: html, .. } = &contents[0] else {
        panic!("the view is text")
    };
    host.close().await;
    world.stop().await;

    let dir = tempfile::tempdir().unwrap();
    let result_path = dir.path().join("result.json");
    std::fs::write(&result_path, result.to_string()).unwrap();
    let csp =
        regex_lite::Regex::new(r#"<meta http-equiv="Content-Security-Policy"[^>]*>"#).unwrap();
    assert!(csp.is_match(html), "the view carries its own policy");
    for (label, page) in [
        ("as served", html.clone()),
        ("without its own policy", csp.replace(html, "").into_owned()),
    ] {
        let html_path = dir.path().join("view.html");
        std::fs::write(&html_path, &page).unwrap();
        let Some(report) = chromium(&html_path, &result_path).await else {
            return;
        };
        let text = report["text"].as_str().unwrap();
        assert!(
            text.contains(&format!("block {HOSTILE}")),
            "{label}: {text}"
        );
        // The comment, as RouterOS quotes it, in the change and in its undo step.
        assert!(
            text.contains(r#"comment="<img src=x onerror=\"window.__pwned=1;"#),
            "{label}: {text}"
        );
        assert!(
            text.contains("+ /ip/firewall/filter add ")
                && text.contains("undo: /ip/firewall/filter remove"),
            "{label}: {text}"
        );
        assert_eq!(
            text.matches("<script>window.__pwned=2</script>").count(),
            3,
            "{label}: {text}"
        );
        assert!(text.contains("risk "), "{label}: {text}");
        assert!(text.contains(&device), "{label}: {text}");
        assert!(text.contains("\"applied\": true"), "{label}: {text}");
        assert!(!text.contains("SECRET-TOKEN-VALUE"), "{label}: {text}");
        assert_eq!(
            report["pwned"],
            Value::Null,
            "{label}: a planted script ran"
        );
        assert_eq!(report["images"], 0, "{label}");
        assert_eq!(report["scripts"], 1, "{label}");
        assert_eq!(report["dialogs"], json!([]), "{label}");
        assert_eq!(
            report["network"],
            json!([]),
            "{label}: the view reached out"
        );
        assert_eq!(report["buttons"], json!(["Open in the console"]), "{label}");
        let url = format!("{CONSOLE}/console/plans/{plan_id}");
        assert_eq!(report["opened"], json!([url]), "{label}");
        let methods: Vec<&str> = report["sent"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["method"].as_str().unwrap_or("(not JSON-RPC)"))
            .collect();
        assert_eq!(methods[0], "ui/initialize", "{label}");
        for m in &methods {
            assert!(
                [
                    "ui/initialize",
                    "ui/notifications/initialized",
                    "ui/notifications/size-changed",
                    "ui/open-link"
                ]
                .contains(m),
                "{label}: the view sent {m}"
            );
        }
    }
}

/// Runs the browser check; `None` when playwright or Chromium is missing outside CI.
async fn chromium(html: &std::path::Path, result: &std::path::Path) -> Option<Value> {
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/system/python/plan_view_check.py");
    let run = tokio::process::Command::new("python3")
        .arg(&script)
        .arg(html)
        .arg(result)
        .kill_on_drop(true)
        .output();
    let output = match tokio::time::timeout(Duration::from_secs(120), run).await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => return skip_or_fail(&format!("python3 could not be started: {e}")),
        Err(_) => panic!("the browser check did not finish within 120 s"),
    };
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    if output.status.code() == Some(3) {
        return skip_or_fail(&stderr);
    }
    assert!(
        output.status.success(),
        "the browser check failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    Some(serde_json::from_str(stdout.trim()).unwrap())
}

fn skip_or_fail(why: &str) -> Option<Value> {
    if std::env::var_os("CI").is_some() {
        panic!(
            "the plan view's browser check needs playwright and /usr/bin/chromium under CI: pip install playwright ({why})"
        );
    }
    eprintln!(
        "\n!!!!!!!! SKIPPED: the plan view's browser check did not run: {why}\n!!!!!!!! pip install playwright (Chromium at /usr/bin/chromium) to run it\n"
    );
    None
}
