//! The console over SSH as clients see it, against an in-process fleet on loopback: exec
//! requests, interactive shells (banner, prompt, echo, CRLF), login-name options, users from
//! the model, host keys, counters.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;
mod ssh_support;

use std::net::SocketAddr;
use std::time::Duration;

use rest_support::Sim;
use ssh_support::{ConnectError, connect};

const T: Duration = Duration::from_secs(20);

fn ssh_addr(sim: &Sim) -> SocketAddr {
    SocketAddr::new(sim.dev.address.parse().unwrap(), sim.dev.ssh_port)
}

#[tokio::test]
async fn exec_gives_clean_output_without_prompt_or_echo() {
    let sim = rest_support::home().await;
    let conn = connect(ssh_addr(&sim), "admin", "secret", T).await.unwrap();
    let (out, status) = conn.exec("/system identity print").await;
    assert_eq!(out, "  name: sim-0001\r\n");
    assert_eq!(status, Some(0));
    // Several requests over one connection, errors as RouterOS prints them.
    let (out, _) = conn.exec("/ip address print where interface=bridge").await;
    assert!(
        out.starts_with("Columns: ADDRESS, NETWORK, INTERFACE\r\n"),
        "{out:?}"
    );
    assert!(out.contains("192.168.88.1/24"));
    let (out, _) = conn.exec("/ip addresss print").await;
    assert_eq!(out, "bad command name addresss (line 1 column 5)\r\n");
    let (out, _) = conn
        .exec(":put [:len [/ip address find]]; :put \"two\"")
        .await;
    assert_eq!(out, "3\r\ntwo\r\n");
    assert_eq!(
        sim.fleet.devices()[0].counters().snapshot().ssh_connections,
        1
    );
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn interactive_shell_has_banner_prompt_echo_and_menus() {
    let sim = rest_support::home().await;
    let conn = connect(ssh_addr(&sim), "admin", "secret", T).await.unwrap();
    let mut sh = conn.shell(80).await;
    let banner = sh
        .read_until("[admin@sim-0001] > ", T)
        .await
        .expect("prompt after login");
    assert!(
        banner.contains("MikroTik RouterOS 7.19.4 (c) 1999-"),
        "{banner}"
    );
    assert!(banner.contains("\r\n"), "terminal line ends are CRLF");
    let out = sh
        .command("/system identity print", "[admin@sim-0001] > ")
        .await;
    assert_eq!(
        out,
        "/system identity print\r\n  name: sim-0001\r\n[admin@sim-0001] > "
    );
    let out = sh.command("/ip address", "> ").await;
    assert!(out.ends_with("[admin@sim-0001] /ip/address> "), "{out:?}");
    let out = sh.command("print count-only", "/ip/address> ").await;
    assert!(out.contains("\r\n3\r\n"), "{out:?}");
    let out = sh.command("..", "> ").await;
    assert!(out.ends_with("[admin@sim-0001] /ip> "), "{out:?}");
    let out = sh.command("/", "> ").await;
    assert!(out.ends_with("[admin@sim-0001] > "), "{out:?}");
    // Backspace edits the line before Enter.
    sh.send(b"/system identity prinx\x7ft\r\n").await;
    let out = sh.read_until("[admin@sim-0001] > ", T).await.unwrap();
    assert!(out.contains("  name: sim-0001\r\n"), "{out:?}");
    // A block typed over several lines runs when it closes; the prompt shows what is open.
    let out = sh.command("{", "... ").await;
    assert!(out.ends_with("\r\n{... "), "{out:?}");
    let out = sh.command(":local x (1 + \\", "... ").await;
    assert!(out.ends_with("\r\n{(\\... "), "{out:?}");
    let out = sh.command("2); :put \"sum $x\" }", "] > ").await;
    assert!(out.contains("\r\nsum 3\r\n[admin@sim-0001] > "), "{out:?}");
    // An empty line gives a new prompt; /quit ends the session.
    let out = sh.command("", "> ").await;
    assert_eq!(out, "\r\n[admin@sim-0001] > ");
    sh.send(b"/quit\r\n").await;
    assert!(sh.wait_closed(T).await, "quit closes the shell");
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn login_name_options_are_stripped_and_width_applies() {
    let sim = rest_support::home().await;
    let conn = connect(ssh_addr(&sim), "admin+ct511w4098h", "secret", T)
        .await
        .unwrap();
    let mut sh = conn.shell(80).await;
    sh.read_until("[admin@sim-0001] > ", T)
        .await
        .expect("the user is admin, not admin+ct…");
    let out = sh
        .command("/interface print detail where name=ether1", "] > ")
        .await;
    let ether1 = out.lines().find(|l| l.contains("name=\"ether1\"")).unwrap();
    assert!(
        ether1.contains("link-downs="),
        "511 columns: one line per item: {out}"
    );
    // Exec with the default width wraps detail output at 80 columns.
    let plain = connect(ssh_addr(&sim), "admin", "secret", T).await.unwrap();
    let (out, _) = plain
        .exec("/interface print detail where name=ether1")
        .await;
    assert!(out.lines().count() > 3, "{out}");
    assert!(out.lines().all(|l| l.chars().count() <= 80), "{out}");
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn passwords_and_users_come_from_the_model() {
    let sim = rest_support::home().await;
    let addr = ssh_addr(&sim);
    assert!(matches!(
        connect(addr, "admin", "wrong", T).await,
        Err(ConnectError::Rejected)
    ));
    assert!(matches!(
        connect(addr, "nobody", "secret", T).await,
        Err(ConnectError::Rejected)
    ));
    // A user created over REST logs in over SSH; disabling it locks it out.
    let (status, _) = sim
        .put(
            "/user",
            serde_json::json!({"name": "ops", "group": "read", "password": "ops-pass"}),
        )
        .await;
    assert_eq!(status.as_u16(), 201);
    let ops = connect(addr, "ops", "ops-pass", T).await.unwrap();
    let (out, _) = ops.exec("/system identity set name=hacked").await;
    assert_eq!(out, "not enough permissions (9)\r\n");
    let (out, _) = ops.exec("/system identity print").await;
    assert_eq!(out, "  name: sim-0001\r\n");
    let admin = connect(addr, "admin", "secret", T).await.unwrap();
    let (out, _) = admin.exec("/user disable [find name=ops]").await;
    assert_eq!(out, "");
    assert!(matches!(
        connect(addr, "ops", "ops-pass", T).await,
        Err(ConnectError::Rejected)
    ));
    // Logins are logged as RouterOS logs them.
    let (log, _) = admin.exec("/log print where message~\"via ssh\"").await;
    assert!(
        log.contains("user admin logged in from 127.0.0.1 via ssh"),
        "{log}"
    );
    assert!(
        log.contains("login failure for user admin from 127.0.0.1 via ssh"),
        "{log}"
    );
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn host_key_matches_the_manifest_and_changes_on_regeneration() {
    let sim = rest_support::home().await;
    let addr = ssh_addr(&sim);
    let conn = connect(addr, "admin", "secret", T).await.unwrap();
    let key = conn.host_key.clone().unwrap();
    let fp = key.fingerprint(russh::keys::HashAlg::Sha256).to_string();
    assert_eq!(
        fp, sim.dev.ssh_host_key_sha256,
        "manifest holds the OpenSSH SHA256 fingerprint"
    );
    assert!(fp.starts_with("SHA256:"));
    sim.fleet.devices()[0].regenerate_keys().unwrap();
    let again = connect(addr, "admin", "secret", T).await.unwrap();
    let fp2 = again
        .host_key
        .unwrap()
        .fingerprint(russh::keys::HashAlg::Sha256)
        .to_string();
    assert_ne!(fp, fp2);
    assert_eq!(fp2, sim.fleet.manifest().devices[0].ssh_host_key_sha256);
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn requests_are_counted_per_command() {
    let sim = rest_support::home().await;
    let conn = connect(ssh_addr(&sim), "admin", "secret", T).await.unwrap();
    conn.exec("/system identity print").await;
    let mut sh = conn.shell(80).await;
    sh.read_until("] > ", T).await.unwrap();
    sh.command("/ip address print", "] > ").await;
    let snap = sim.fleet.devices()[0].counters().snapshot();
    let ssh: Vec<_> = snap
        .requests
        .iter()
        .filter(|r| r.transport == routeros_sim::Transport::Ssh)
        .map(|r| (r.method.as_str(), r.path.as_str()))
        .collect();
    assert_eq!(
        ssh,
        vec![
            ("exec", "/system identity print"),
            ("shell", "/ip address print")
        ]
    );
    assert_eq!(
        snap.ssh_connections, 1,
        "one TCP connection for both channels"
    );
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn rest_and_console_see_the_same_configuration() {
    let sim = rest_support::home().await;
    let conn = connect(ssh_addr(&sim), "admin", "secret", T).await.unwrap();
    let (out, _) = conn
        .exec("/ip address add address=10.50.0.1/24 interface=ether2 comment=\"from ssh\"")
        .await;
    assert_eq!(out, "");
    let (_, body) = sim.get("/ip/address?comment=from%20ssh").await;
    assert_eq!(body[0]["address"], "10.50.0.1/24");
    assert_eq!(body[0]["network"], "10.50.0.0");
    let id = body[0][".id"].as_str().unwrap().to_string();
    let (status, _) = sim
        .patch(
            &format!("/ip/address/{id}"),
            serde_json::json!({"comment": "from rest"}),
        )
        .await;
    assert_eq!(status.as_u16(), 200);
    let (out, _) = conn
        .exec(&format!(":put [/ip address get {id} comment]"))
        .await;
    assert_eq!(out, "from rest\r\n");
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn critical_log_lines_are_echoed_to_open_consoles() {
    let sim = rest_support::home().await;
    let conn = connect(ssh_addr(&sim), "admin", "secret", T).await.unwrap();
    let mut sh = conn.shell(80).await;
    sh.read_until("[admin@sim-0001] > ", T).await.unwrap();
    assert!(matches!(
        connect(ssh_addr(&sim), "admin", "wrong", T).await,
        Err(ConnectError::Rejected)
    ));
    let out = sh
        .read_until("[admin@sim-0001] > ", T)
        .await
        .expect("the login failure is echoed, followed by a fresh prompt");
    assert!(
        out.contains(
            " echo: system,error,critical login failure for user admin from 127.0.0.1 via ssh\r\n"
        ),
        "{out:?}"
    );
    sim.fleet.shutdown().await;
}

#[tokio::test]
async fn interactive_output_is_paged_at_the_terminal_height() {
    let sim = rest_support::home().await;
    let conn = connect(ssh_addr(&sim), "admin", "secret", T).await.unwrap();
    // A 24-row PTY: 23 lines of output, then the pager prompt on the last row.
    let mut sh = conn.shell(80).await;
    sh.read_until("[admin@sim-0001] > ", T).await.unwrap();
    let long = ":for i from=1 to=60 do={:put \"line $i\"}";
    let out = sh.command(long, "-- [Q quit|D dump|down]").await;
    assert!(out.contains("line 23\r\n"), "{out}");
    assert!(!out.contains("line 24\r\n"), "{out}");
    // Down-arrow: one more line; space: the next page; q: back to the prompt.
    sh.send(b"\x1b[B").await;
    let out = sh.read_until("-- [Q quit|D dump|down]", T).await.unwrap();
    assert!(
        out.contains("line 24\r\n") && !out.contains("line 25"),
        "{out}"
    );
    sh.send(b" ").await;
    let out = sh.read_until("-- [Q quit|D dump|down]", T).await.unwrap();
    assert!(
        out.contains("line 25\r\n") && out.contains("line 47\r\n"),
        "{out}"
    );
    assert!(!out.contains("line 48"), "{out}");
    sh.send(b"q").await;
    let out = sh.read_until("[admin@sim-0001] > ", T).await.unwrap();
    assert!(!out.contains("line 48"), "q stops the output: {out}");
    // d dumps the rest.
    sh.send(format!("{long}\r\n").as_bytes()).await;
    sh.read_until("-- [Q quit|D dump|down]", T).await.unwrap();
    sh.send(b"d").await;
    let out = sh.read_until("[admin@sim-0001] > ", T).await.unwrap();
    assert!(out.contains("line 60\r\n"), "{out}");
    // `print without-paging` never stops.
    let out = sh
        .command("/interface print detail without-paging", "] > ")
        .await;
    assert!(!out.contains("-- [Q quit"), "{out}");
    assert!(out.contains("name=\"wg0\""), "{out}");
    // The same print with paging stops (it is longer than 23 lines).
    let out = sh
        .command("/interface print detail", "-- [Q quit|D dump|down]")
        .await;
    assert!(!out.contains("name=\"wg0\""), "{out}");
    sh.send(b"q").await;
    sh.read_until("[admin@sim-0001] > ", T).await.unwrap();
    // Exec requests never page.
    let (out, _) = conn.exec(long).await;
    assert!(
        out.ends_with("line 60\r\n") && !out.contains("-- [Q"),
        "{out}"
    );
    // The login name's height wins over the PTY's: 4098 rows, nothing to page.
    let tall = connect(ssh_addr(&sim), "admin+ct511w4098h", "secret", T)
        .await
        .unwrap();
    let mut sh = tall.shell(80).await;
    sh.read_until("[admin@sim-0001] > ", T).await.unwrap();
    let out = sh.command(long, "] > ").await;
    assert!(
        out.contains("line 60\r\n") && !out.contains("-- [Q"),
        "{out}"
    );
    sim.fleet.shutdown().await;
}
