//! `/system backup save`, `/file` and SFTP as backup tools use them: save over REST or the
//! console, list and remove the file, fetch its bytes over SFTP.

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod rest_support;
mod ssh_support;

use std::net::SocketAddr;
use std::time::Duration;

use reqwest::StatusCode;
use rest_support::Sim;
use russh_sftp::client::SftpSession;
use serde_json::json;
use ssh_support::connect;
use tokio::io::AsyncReadExt;

const T: Duration = Duration::from_secs(20);

fn ssh_addr(sim: &Sim) -> SocketAddr {
    SocketAddr::new(sim.dev.address.parse().unwrap(), sim.dev.ssh_port)
}

async fn sftp(
    sim: &Sim,
    user: &str,
    pass: &str,
) -> Result<(ssh_support::Conn, SftpSession), String> {
    let conn = connect(ssh_addr(sim), user, pass, T).await.unwrap();
    let channel = conn.handle.channel_open_session().await.unwrap();
    channel
        .request_subsystem(true, "sftp")
        .await
        .map_err(|e| e.to_string())?;
    let session = tokio::time::timeout(T, SftpSession::new(channel.into_stream()))
        .await
        .map_err(|_| "timed out".to_string())?
        .map_err(|e| e.to_string())?;
    Ok((conn, session))
}

async fn fetch(s: &SftpSession, name: &str) -> Result<Vec<u8>, String> {
    let mut f = s.open(name).await.map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    f.read_to_end(&mut out).await.map_err(|e| e.to_string())?;
    Ok(out)
}

#[tokio::test]
async fn a_rest_backup_is_listed_fetched_over_sftp_and_removed() {
    let sim = rest_support::home().await;
    let (st, body) = sim
        .post(
            "/system/backup/save",
            json!({"name": "nightly", "password": "S3cret-pw", "encryption": "aes-sha256"}),
        )
        .await;
    assert_eq!(st, StatusCode::OK, "{body}");
    assert_eq!(body, json!([]));

    let (st, files) = sim.get("/file").await;
    assert_eq!(st, StatusCode::OK);
    let file = files
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "nightly.backup")
        .expect("listed")
        .clone();
    assert_eq!(file["type"], "backup");
    let size: usize = file["size"].as_str().unwrap().parse().unwrap();
    assert!(file["creation-time"].is_string() && file["last-modified"].is_string());
    assert!(file.get("contents-base64").is_none());

    let (_conn, session) = sftp(&sim, "admin", "secret").await.unwrap();
    let names: Vec<String> = session
        .read_dir("/")
        .await
        .unwrap()
        .map(|e| e.file_name())
        .collect();
    assert!(names.contains(&"nightly.backup".to_string()), "{names:?}");
    let bytes = fetch(&session, "nightly.backup").await.unwrap();
    assert_eq!(bytes.len(), size);
    assert!(!String::from_utf8_lossy(&bytes).contains("/interface"));
    let dev = sim.fleet.device(&sim.dev.name).unwrap();
    assert!(dev.read_state(|s| routeros_sim::backup::is_backup_of(s, &bytes, Some("S3cret-pw"))));
    assert!(!dev.read_state(|s| routeros_sim::backup::is_backup_of(s, &bytes, Some("guess"))));

    // Read-only: no uploads, no removals over SFTP.
    assert!(session.create("upload.rsc").await.is_err());
    assert!(session.remove_file("nightly.backup").await.is_err());

    let (st, _) = sim
        .delete(&format!("/file/{}", file[".id"].as_str().unwrap()))
        .await;
    assert_eq!(st, StatusCode::NO_CONTENT);
    let (_, files) = sim.get("/file").await;
    assert!(files.as_array().unwrap().is_empty());
    let err = fetch(&session, "nightly.backup").await.unwrap_err();
    assert!(err.to_lowercase().contains("no such file"), "{err}");
}

#[tokio::test]
async fn the_console_saves_and_prints_files() {
    let sim = rest_support::home().await;
    let conn = connect(ssh_addr(&sim), "admin", "secret", T).await.unwrap();
    let (out, _) = conn
        .exec("/system backup save name=console password=pw123 encryption=aes-sha256")
        .await;
    assert_eq!(out.trim(), "Configuration backup saved");
    let (out, _) = conn.exec("/file print").await;
    assert!(
        out.contains("console.backup") && out.contains("backup"),
        "{out}"
    );
    let (out, _) = conn.exec("/system backup save name=x colour=red").await;
    assert!(out.contains("colour"), "{out}");
    let (out, _) = conn.exec("/file remove console.backup").await;
    assert_eq!(out.trim(), "");
    let (_, files) = sim.get("/file").await;
    assert!(files.as_array().unwrap().is_empty(), "{files}");
}

#[tokio::test]
async fn sftp_and_backups_need_their_policies() {
    let sim = rest_support::home().await;
    let (st, _) = sim
        .put(
            "/user/group",
            json!({"name": "noftp", "policy": "ssh,read,write,rest-api,sensitive"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = sim
        .put(
            "/user",
            json!({"name": "ops", "group": "noftp", "password": "ops-pass"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let Err(err) = sftp(&sim, "ops", "ops-pass").await else {
        panic!("SFTP granted without the ftp policy");
    };
    assert!(!err.is_empty());

    let (st, _) = sim
        .put(
            "/user/group",
            json!({"name": "ro", "policy": "ssh,read,rest-api,ftp"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (st, _) = sim
        .put(
            "/user",
            json!({"name": "viewer", "group": "ro", "password": "v-pass"}),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let resp = sim
        .client
        .post(sim.http("/system/backup/save"))
        .basic_auth("viewer", Some("v-pass"))
        .json(&json!({"name": "no"}))
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_client_error());
    let (_, files) = sim.get("/file").await;
    assert!(files.as_array().unwrap().is_empty(), "{files}");
}
