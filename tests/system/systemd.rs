//! The HTTP unit's start, as systemd runs it: the settings of `systemd/routeros-mcp.env.example`
//! and the unit's `Environment=`, `ExecStartPre=` (preflight) then `ExecStart=` with a
//! `NOTIFY_SOCKET`, which hears `READY=1`; SIGTERM then brings `STOPPING=1` and exit 0.
//!
//! Only what cannot be the same here is changed: the data directory (the test's), the port (a
//! free one), the master key file (the one the test's registry was made with) and the binary's
//! path.

use std::path::Path;
use std::process::Stdio;

use routeros_sim::profiles::Profile;

use crate::support::{Log, STEP, World};

/// `NAME=value` lines of an environment file (comments and blank lines skipped).
fn env_file(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim().to_owned(), v.trim().to_owned()))
        .collect()
}

/// The values of `key=` lines of the unit's `[Service]` section.
fn directives<'a>(unit: &'a str, key: &str) -> Vec<&'a str> {
    unit.lines()
        .filter_map(|l| l.strip_prefix(key)?.strip_prefix('='))
        .collect()
}

/// A unit command line with the installed binary replaced by the one under test.
fn command_of(line: &str) -> Vec<String> {
    let mut words = line.split_whitespace().map(str::to_owned);
    let program = words.next().expect("a command");
    assert!(
        program.ends_with("/routeros-mcp"),
        "the unit runs routeros-mcp: {line}"
    );
    words.collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_unit_starts_the_server_as_systemd_would() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let unit = std::fs::read_to_string(root.join("systemd/routeros-mcp-http.service")).unwrap();
    let example = std::fs::read_to_string(root.join("systemd/routeros-mcp.env.example")).unwrap();
    assert_eq!(directives(&unit, "Type"), ["notify"]);

    let world = World::start(&[Profile::Home]).await;
    let data = world.dir.path().join("data");
    let mut env: Vec<(String, String)> = directives(&unit, "Environment")
        .iter()
        .filter_map(|e| e.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect();
    env.extend(env_file(&example));
    let overrides = [
        ("ROUTEROS_MCP_DATA_DIR", data.display().to_string()),
        ("MCP_HTTP_PORT", "0".to_owned()),
        (
            "ROUTEROS_MCP_MASTER_KEY_FILE",
            data.join("master.key").display().to_string(),
        ),
    ];
    for (k, v) in &overrides {
        env.retain(|(key, _)| key != k);
        env.push(((*k).to_owned(), v.clone()));
    }
    assert!(
        env.iter().any(|(k, v)| k == "MCP_ENV" && v == "prod"),
        "the example is a production configuration"
    );
    let run = |args: &[String]| {
        let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_routeros-mcp"));
        cmd.args(args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        cmd
    };

    for pre in directives(&unit, "ExecStartPre") {
        let out = tokio::time::timeout(STEP, run(&command_of(pre)).output())
            .await
            .unwrap()
            .unwrap();
        assert!(
            out.status.success(),
            "{pre}:\n{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }

    let socket_path = world.dir.path().join("notify.sock");
    let socket = tokio::net::UnixDatagram::bind(&socket_path).unwrap();
    let start = directives(&unit, "ExecStart");
    assert_eq!(start.len(), 1);
    let mut server = run(&command_of(start[0]))
        .env("NOTIFY_SOCKET", &socket_path)
        .spawn()
        .unwrap();
    let log = Log::collect(server.stderr.take());
    let mut buf = vec![0u8; 512];
    let n = tokio::time::timeout(STEP, socket.recv(&mut buf))
        .await
        .unwrap_or_else(|_| panic!("no READY=1:\n{}", log.text()))
        .unwrap();
    assert_eq!(&buf[..n], b"READY=1");
    crate::lifecycle::signal(server.id().unwrap(), "TERM");
    loop {
        let n = tokio::time::timeout(STEP, socket.recv(&mut buf))
            .await
            .expect("STOPPING=1 follows")
            .unwrap();
        if &buf[..n] == b"STOPPING=1" {
            break;
        }
    }
    let status = tokio::time::timeout(STEP, server.wait())
        .await
        .unwrap()
        .unwrap();
    assert!(status.success(), "{status:?}\n{}", log.text());
    assert!(
        log.text().lines().all(|l| l.starts_with('{')),
        "LOG_FORMAT=json from the env file: one JSON object per line\n{}",
        log.text()
    );
    world.stop().await;
}
