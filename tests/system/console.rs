//! The web console in a real browser: headless Chromium (Python Playwright, one browser for
//! the whole scenario) against the real server, a real OpenID provider (oidc-provider) and
//! simulated routers. People sign in through the provider; an assistant's plan, proposed over
//! MCP, is read and approved in the browser and then applied over MCP; another plan is
//! rejected; a runbook revision is approved; a router is onboarded after its fingerprints are
//! confirmed; a viewer sees no approve button and its forged POST is refused by the admin API;
//! POSTs without the CSRF token or from another origin are refused and change nothing; text
//! from the model (`<script>`) is shown as text. Every page is saved as a screenshot under the
//! target directory's `console-screenshots/`.

use std::net::Ipv4Addr;
use std::path::PathBuf;
use std::process::Stdio;

use routeros_sim::profiles::Profile;
use serde_json::{Value, json};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use crate::oidc::Provider;
use crate::support::{STEP, World};

/// The browser bridge (`console_browser.py`): one JSON command per line, one answer per line.
struct Browser {
    _child: Child,
    stdin: ChildStdin,
    lines: Lines<BufReader<ChildStdout>>,
    shots: PathBuf,
}

impl Browser {
    async fn start() -> Self {
        let script = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../tests/system/console_browser.py"
        );
        let mut child = Command::new("python3")
            .arg(script)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect(
                "python3 runs the browser (pip install playwright; Chromium at /usr/bin/chromium)",
            );
        let stdin = child.stdin.take().unwrap();
        let lines = BufReader::new(child.stdout.take().unwrap()).lines();
        let shots = PathBuf::from(env!("CARGO_TARGET_TMPDIR"))
            .parent()
            .unwrap()
            .join("console-screenshots");
        Self {
            _child: child,
            stdin,
            lines,
            shots,
        }
    }

    async fn send(&mut self, command: Value) -> Value {
        let line = format!("{command}\n");
        self.stdin.write_all(line.as_bytes()).await.unwrap();
        self.stdin.flush().await.unwrap();
        let answer = tokio::time::timeout(STEP, self.lines.next_line())
            .await
            .unwrap_or_else(|_| panic!("the browser answers {command} in time"))
            .unwrap()
            .unwrap_or_else(|| panic!("the browser exited during {command}"));
        let answer: Value = serde_json::from_str(&answer).unwrap();
        assert_eq!(answer["ok"], true, "{command}: {answer}");
        answer["value"].clone()
    }

    async fn context(&mut self, ctx: &str) {
        self.send(json!({"op": "context", "ctx": ctx})).await;
    }

    async fn goto(&mut self, ctx: &str, url: &str) -> u16 {
        let v = self
            .send(json!({"op": "goto", "ctx": ctx, "url": url}))
            .await;
        v.as_u64().unwrap_or_default() as u16
    }

    async fn click(&mut self, ctx: &str, selector: &str) {
        self.send(json!({"op": "click", "ctx": ctx, "selector": selector}))
            .await;
    }

    async fn fill(&mut self, ctx: &str, selector: &str, value: &str) {
        self.send(json!({"op": "fill", "ctx": ctx, "selector": selector, "value": value}))
            .await;
    }

    async fn text(&mut self, ctx: &str, selector: &str) -> String {
        let v = self
            .send(json!({"op": "text", "ctx": ctx, "selector": selector}))
            .await;
        v.as_str().unwrap_or_default().to_owned()
    }

    async fn count(&mut self, ctx: &str, selector: &str) -> u64 {
        let v = self
            .send(json!({"op": "count", "ctx": ctx, "selector": selector}))
            .await;
        v.as_u64().unwrap()
    }

    async fn value(&mut self, ctx: &str, selector: &str) -> String {
        let v = self
            .send(json!({"op": "value", "ctx": ctx, "selector": selector}))
            .await;
        v.as_str().unwrap_or_default().to_owned()
    }

    async fn url(&mut self, ctx: &str) -> String {
        let v = self.send(json!({"op": "url", "ctx": ctx})).await;
        v.as_str().unwrap_or_default().to_owned()
    }

    async fn html(&mut self, ctx: &str) -> String {
        let v = self.send(json!({"op": "html", "ctx": ctx})).await;
        v.as_str().unwrap_or_default().to_owned()
    }

    async fn shot(&mut self, ctx: &str, name: &str) {
        let path = self.shots.join(format!("{name}.png"));
        self.send(json!({"op": "screenshot", "ctx": ctx, "path": path}))
            .await;
    }

    /// A form POSTed from the context with its cookies but not from a page: (status, body).
    async fn post(&mut self, ctx: &str, url: &str, form: Value, headers: Value) -> (u16, String) {
        let v = self
            .send(json!({"op": "post", "ctx": ctx, "url": url, "form": form, "headers": headers}))
            .await;
        (
            v["status"].as_u64().unwrap() as u16,
            v["body"].as_str().unwrap_or_default().to_owned(),
        )
    }

    /// Signs `user` in through the identity provider's login page, in context `ctx`.
    async fn sign_in(&mut self, ctx: &str, root: &str, user: &str) {
        self.goto(ctx, &format!("{root}/console")).await;
        assert!(self.url(ctx).await.ends_with("/console/signin"));
        self.click(ctx, "text=Sign in with your identity provider")
            .await;
        self.fill(ctx, "input[name=login]", user).await;
        self.fill(ctx, "input[name=password]", "any").await;
        self.click(ctx, "button[type=submit]").await;
        let at = self.url(ctx).await;
        assert_eq!(
            at,
            format!("{root}/console"),
            "{}",
            self.text(ctx, "body").await
        );
        let who = self.text(ctx, ".who").await;
        assert!(who.starts_with(user), "{who}");
    }
}

/// A free loopback port (the redirect URI must be known before the server starts).
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The plan status the admin API reports, read with `token`.
async fn plan_status(root: &str, token: &str, id: &str) -> String {
    let v: Value = reqwest::Client::new()
        .get(format!(
            "{root}/v1/organizations/default/projects/default/plans/{id}"
        ))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["status"].as_str().unwrap_or_default().to_owned()
}

fn rule(device: &str, title: &str, comment: &str) -> Value {
    json!({"title": title, "changes": [{
        "device_id": device, "menu": "ip/firewall/filter", "action": "add",
        "properties": {"chain": "forward", "action": "drop", "src-address": "198.51.100.0/24", "comment": comment}
    }]})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_console_in_a_real_browser() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    // Two routers; only the first is registered: the second is onboarded in the browser.
    let sims = routeros_sim::Fleet::start(routeros_sim::FleetOptions {
        count: 2,
        profiles: vec![Profile::Home],
        seed: 11,
        base_address: Ipv4Addr::new(127, 93, 1, 1),
        ..routeros_sim::FleetOptions::default()
    })
    .await
    .unwrap();
    let mut manifest = sims.manifest();
    let new_router = manifest.devices.remove(1);
    let world = World::with_manifest(manifest, 1).await;
    let device = world.names[0].clone();
    let (proposals, _) = crate::review::seed(&world).await;
    let operator = {
        let out = world
            .cli(&[
                "token",
                "create",
                "--role",
                "operator",
                "--name",
                "assistant",
                "--output",
                "json",
            ])
            .await;
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        v["token"].as_str().unwrap().to_owned()
    };
    let port = free_port();
    let root = format!("http://127.0.0.1:{port}");
    let provider = Provider::start(json!([{
        "client_id": "console", "client_secret": "console-secret",
        "redirect_uris": [format!("{root}/console/callback")],
        "accounts": {"alice": ["admin"], "victor": ["viewer"]},
    }]))
    .await;
    let port_text = port.to_string();
    let public = format!("{root}/mcp");
    let server = world
        .http_server(&[
            ("MCP_HTTP_PORT", &port_text),
            ("MCP_HTTP_PUBLIC_URL", &public),
            ("MCP_AUTH_MODE", "oidc"),
            ("OIDC_ISSUER", &provider.issuer),
            ("OIDC_AUDIENCE", "routeros-mcp-test"),
            ("OIDC_CLIENT_ID", "console"),
            ("OIDC_CLIENT_SECRET", "console-secret"),
            ("MCP_AUTH_ALLOW_API_TOKENS", "true"),
        ])
        .await;
    assert_eq!(server.root(), root);
    let assistant = server.client_bearer(&operator).await.unwrap();
    let mut b = Browser::start().await;

    // Signing in: the console sends a stranger to the sign-in page; alice signs in through the
    // provider and lands on the fleet.
    b.context("anonymous").await;
    b.goto("anonymous", &format!("{root}/console/plans")).await;
    assert!(b.url("anonymous").await.ends_with("/console/signin"));
    b.shot("anonymous", "signin").await;
    b.context("alice").await;
    b.sign_in("alice", &root, "alice").await;
    let fleet = b.text("alice", "main").await;
    assert!(fleet.contains(&device), "{fleet}");
    b.shot("alice", "fleet").await;

    // An assistant proposes a plan over MCP, its title and comment carrying markup.
    let plan = assistant
        .ok(
            "plan.create",
            rule(
                &device,
                "<script>window.pwned=1</script> block a test net",
                "<b>from the model</b>",
            ),
        )
        .await;
    let id = plan["plan_id"].as_str().unwrap().to_owned();
    assert_eq!(plan["status"], "pending");
    b.goto("alice", &format!("{root}/console/plans")).await;
    let pending = b.text("alice", "#pending + *").await;
    assert!(pending.contains("block a test net"), "{pending}");
    b.shot("alice", "plans").await;
    b.goto("alice", &format!("{root}/console/plans/{id}")).await;
    let title = b.text("alice", "h1").await;
    assert!(
        title.contains("<script>window.pwned=1</script>"),
        "shown as text: {title}"
    );
    assert_eq!(
        b.count("alice", "script").await,
        0,
        "no markup from the model"
    );
    assert!(
        b.html("alice")
            .await
            .contains("&lt;b&gt;from the model&lt;/b&gt;")
    );
    let page = b.text("alice", "main").await;
    assert!(page.contains("/ip/firewall/filter"), "{page}");
    assert!(page.contains("auto-revert"), "{page}");
    b.shot("alice", "plan").await;

    // A POST without the CSRF token, or from another origin, is refused and changes nothing.
    let approve_url = format!("{root}/console/plans/{id}/approve");
    let (status, body) = b
        .post("alice", &approve_url, json!({}), json!({"Origin": root}))
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("CSRF"), "{body}");
    let csrf = b.value("alice", "form.signout input[name=csrf]").await;
    let (status, _) = b
        .post(
            "alice",
            &approve_url,
            json!({"csrf": csrf}),
            json!({"Origin": "http://evil.example"}),
        )
        .await;
    assert_eq!(status, 403);
    assert_eq!(plan_status(&root, &operator, &id).await, "pending");

    // A viewer sees the plan but no approve button, and its forged POST (with its own valid
    // CSRF token) is refused by the admin API itself.
    b.context("victor").await;
    b.sign_in("victor", &root, "victor").await;
    b.goto("victor", &format!("{root}/console/plans/{id}"))
        .await;
    assert_eq!(b.count("victor", "button:has-text('Approve')").await, 0);
    assert!(
        b.text("victor", "main")
            .await
            .contains("needs the approver role")
    );
    b.shot("victor", "plan-as-viewer").await;
    let victor_csrf = b.value("victor", "form.signout input[name=csrf]").await;
    let (status, body) = b
        .post(
            "victor",
            &approve_url,
            json!({"csrf": victor_csrf}),
            json!({"Origin": root}),
        )
        .await;
    assert_eq!(status, 403, "{body}");
    assert!(body.contains("approver role"), "{body}");
    assert_eq!(plan_status(&root, &operator, &id).await, "pending");

    // Alice approves; the token is shown once, for whoever applies it; the assistant's MCP
    // client applies the plan with it.
    b.fill("alice", "#a-comment", "looks right").await;
    b.click("alice", "button:has-text('Approve')").await;
    let token = b.value("alice", "#approval-token").await;
    assert!(!token.is_empty());
    let shown = b.text("alice", ".notice.token").await;
    assert!(shown.contains("never to a model"), "{shown}");
    b.shot("alice", "plan-approved").await;
    let applied = assistant
        .ok(
            "plan.apply",
            json!({"plan_id": id, "approval_token": token}),
        )
        .await;
    assert_eq!(applied["status"], "applied", "{applied}");
    b.goto("alice", &format!("{root}/console/plans/{id}")).await;
    assert!(b.text("alice", "main").await.contains("applied"));

    // Another plan is rejected with a reason.
    let second = assistant
        .ok("plan.create", rule(&device, "block another net", "second"))
        .await;
    let second = second["plan_id"].as_str().unwrap().to_owned();
    b.goto("alice", &format!("{root}/console/plans/{second}"))
        .await;
    b.fill("alice", "#r-reason", "not this week").await;
    b.click("alice", "button:has-text('Reject')").await;
    assert!(b.text("alice", "main").await.contains("not this week"));
    assert_eq!(plan_status(&root, &operator, &second).await, "rejected");

    // A runbook revision: the queue (highest priority first), the diff, the failed run; approved.
    b.goto("alice", &format!("{root}/console/reviews")).await;
    assert!(b.text("alice", "main").await.contains("interface-down"));
    b.shot("alice", "reviews").await;
    b.goto("alice", &format!("{root}/console/reviews/{}", proposals[0]))
        .await;
    let review = b.text("alice", "main").await;
    assert!(
        review.contains("Check the far side of the link too"),
        "{review}"
    );
    assert!(
        review.contains("the link stayed down after the restart"),
        "{review}"
    );
    b.shot("alice", "review").await;
    b.fill("alice", "#rv-notes", "good catch").await;
    b.click("alice", "button:has-text('Approve this version')")
        .await;
    assert!(b.text("alice", "main").await.contains("approved"));

    // Onboarding: the fingerprints the router presents are shown, confirmed, then pinned.
    b.goto("alice", &format!("{root}/console/devices/new"))
        .await;
    b.shot("alice", "onboard").await;
    b.fill("alice", "#o-name", "edge-new").await;
    b.fill("alice", "#o-address", &new_router.address).await;
    b.fill("alice", "#o-rest", &new_router.https_port.to_string())
        .await;
    b.fill("alice", "#o-ssh", &new_router.ssh_port.to_string())
        .await;
    b.send(json!({"op": "select", "ctx": "alice", "selector": "#o-env", "value": "lab"}))
        .await;
    b.fill("alice", "#o-user", &new_router.username).await;
    b.fill("alice", "#o-pass", &new_router.password).await;
    b.click("alice", "button:has-text('Contact the device')")
        .await;
    let presented_tls = b.value("alice", "input[name=tls_cert_sha256]").await;
    assert_eq!(presented_tls.len(), 64, "{presented_tls}");
    assert!(
        !b.html("alice").await.contains(&new_router.password),
        "no password in the page"
    );
    b.shot("alice", "onboard-confirm").await;
    b.fill("alice", "#c-pass", &new_router.password).await;
    b.send(json!({"op": "check", "ctx": "alice", "selector": "#c-match"}))
        .await;
    b.click("alice", "button:has-text('Pin these fingerprints')")
        .await;
    let device_page = b.text("alice", "main").await;
    assert!(
        b.text("alice", "h1").await.contains("edge-new"),
        "{device_page}"
    );
    assert!(
        device_page.contains(&presented_tls),
        "pinned what was shown: {device_page}"
    );
    b.click("alice", "button:has-text('Test connectivity')")
        .await;
    assert!(
        b.text("alice", "main")
            .await
            .contains("The device answered.")
    );
    b.shot("alice", "device").await;

    // The audit log, with the chain verified; and the fleet on a phone-sized screen.
    b.goto("alice", &format!("{root}/console/audit")).await;
    let audit = b.text("alice", "main").await;
    assert!(audit.contains("The audit chain is intact"), "{audit}");
    assert!(audit.contains("plan.approve"), "{audit}");
    b.shot("alice", "audit").await;
    b.send(json!({"op": "context", "ctx": "phone", "viewport": {"width": 390, "height": 844}}))
        .await;
    b.sign_in("phone", &root, "alice").await;
    b.shot("phone", "fleet-phone").await;

    // Break-glass: an API token signs in (a wrong one is refused), acting with its own role.
    b.context("token").await;
    b.goto("token", &format!("{root}/console/signin")).await;
    b.fill("token", "#token-input", "rmcp_nope_nope").await;
    b.click("token", "button:has-text('Sign in with the token')")
        .await;
    assert!(
        b.text("token", "main")
            .await
            .contains("the API token was refused")
    );
    b.fill("token", "#token-input", &operator).await;
    b.click("token", "button:has-text('Sign in with the token')")
        .await;
    assert_eq!(b.url("token").await, format!("{root}/console"));
    assert!(b.text("token", ".who").await.contains("operator"));
    assert!(b.text("token", "main").await.contains(&device));

    // Signing out ends the session: the old cookie no longer opens a page.
    b.click("alice", "button:has-text('Sign out')").await;
    assert!(b.url("alice").await.ends_with("/console/signin"));
    b.goto("alice", &format!("{root}/console")).await;
    assert!(b.url("alice").await.ends_with("/console/signin"));

    b.send(json!({"op": "close"})).await;
    let log = server.log.text();
    for secret in [
        "console-secret",
        token.as_str(),
        operator.as_str(),
        new_router.password.as_str(),
    ] {
        assert!(!log.contains(secret), "the server's log holds a secret");
    }
    assistant.close().await;
    server.stop().await;
    drop(provider);
    sims.shutdown().await;
    world.stop().await;
}
