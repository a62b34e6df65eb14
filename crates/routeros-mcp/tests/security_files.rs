//! Files that hold secrets, as the CLI treats them: a master key file others can read is refused
//! outside lab, and a device file with a mistyped password never has the password echoed.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

/// Runs the real binary with only the given environment (plus PATH) and `stdin`.
fn run(data: &Path, env: &[(&str, &str)], args: &[&str], stdin: &str) -> Run {
    use std::io::Write;
    let mut child = Command::new(env!("CARGO_BIN_EXE_routeros-mcp"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("ROUTEROS_MCP_DATA_DIR", data)
        .env("USER", "alice")
        .envs(env.iter().copied())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let _ = child.stdin.take().unwrap().write_all(stdin.as_bytes());
    let out = child.wait_with_output().unwrap();
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

fn add_args(name: &str) -> Vec<&str> {
    vec![
        "device",
        "add",
        name,
        "--address",
        "192.0.2.7",
        "--username",
        "mcp",
        "--password-stdin",
    ]
}

/// A key file in `dir` holding a fresh key, with the given mode.
fn key_file(dir: &Path, mode: u32) -> PathBuf {
    let generated = run(&dir.join("scratch"), &[], &["key", "generate"], "");
    assert_eq!(generated.code, 0, "{}", generated.stderr);
    let path = dir.join("master.key");
    std::fs::write(&path, generated.stdout.trim()).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    path
}

#[test]
fn a_master_key_file_others_can_read_is_refused_in_staging_and_prod() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let key = key_file(dir.path(), 0o644);
    let key_text = key.display().to_string();
    for env in ["staging", "prod"] {
        let vars = [
            ("MCP_ENV", env),
            ("ROUTEROS_MCP_MASTER_KEY_FILE", &key_text),
        ];
        let refused = run(&data, &vars, &add_args("r1"), "Pw-Sentinel-1\n");
        assert_ne!(refused.code, 0, "{env}: {}", refused.stdout);
        for needle in [key_text.as_str(), "mode 0644", "chmod 600", "MCP_ENV="] {
            assert!(refused.stderr.contains(needle), "{env}: {}", refused.stderr);
        }
        let check = run(&data, &vars, &["check"], "");
        assert_ne!(check.code, 0, "{env}: {}", check.stdout);
        let all = format!("{}{}", check.stdout, check.stderr);
        assert!(
            all.contains("mode 0644") && all.contains("chmod 600"),
            "{env}: {all}"
        );
    }
    // Lab warns and goes on.
    let lab = [
        ("MCP_ENV", "lab"),
        ("ROUTEROS_MCP_MASTER_KEY_FILE", &key_text),
    ];
    let added = run(&data, &lab, &add_args("r1"), "Pw-Sentinel-1\n");
    assert_eq!(added.code, 0, "{}", added.stderr);
    assert!(
        added.stderr.contains("warning: the master key file") && added.stderr.contains("0644"),
        "{}",
        added.stderr
    );
    // Group-readable is refused too; chmod 600 is the fix.
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let staging = [
        ("MCP_ENV", "staging"),
        ("ROUTEROS_MCP_MASTER_KEY_FILE", &key_text),
    ];
    let refused = run(&data, &staging, &add_args("r2"), "Pw-Sentinel-2\n");
    assert_ne!(refused.code, 0);
    assert!(refused.stderr.contains("mode 0640"), "{}", refused.stderr);
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();
    let added = run(&data, &staging, &add_args("r2"), "Pw-Sentinel-2\n");
    assert_eq!(added.code, 0, "{}", added.stderr);
    let listed = run(&data, &staging, &["device", "list"], "");
    assert!(
        listed.stdout.contains("r1") && listed.stdout.contains("r2"),
        "{}",
        listed.stdout
    );
}

#[test]
fn device_import_never_echoes_a_mistyped_password() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let file = dir.path().join("fleet.json");
    std::fs::write(
        &file,
        r#"[{"name": "r1", "address": "127.0.0.1", "username": "admin", "password": 12345678},
            {"name": "r2", "address": "127.0.0.1", "username": "admin", "password": "Pw-7",
             "ssh_port": "S3cret-In-Wrong-Field"}]"#,
    )
    .unwrap();
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = run(
        &data,
        &[],
        &["device", "import", file.to_str().unwrap()],
        "",
    );
    assert_ne!(out.code, 0);
    let all = format!("{}{}", out.stdout, out.stderr);
    assert!(
        all.contains("password must be a JSON string (in quotes), not a number"),
        "{all}"
    );
    assert!(
        all.contains("ssh_port must be a port number from 1 to 65535, not a string"),
        "{all}"
    );
    for secret in ["12345678", "S3cret-In-Wrong-Field"] {
        assert!(!all.contains(secret), "{secret} echoed:\n{all}");
    }
}
