//! `routeros-mcp backup run|list|show|fetch`: configuration backups on demand, and the stored
//! snapshots and binary backups. Text is shown with secrets hidden and script bodies withheld,
//! as tools show it; a binary backup and its password are only ever written to 0600 files.

use anyhow::Result;
use backup::{Backups, Trigger};
use futures::StreamExt;
use serde_json::{Value, json};
use vault::ExposeSecret;

use crate::cli::{BackupCommand, Output};
use crate::context::Context;
use crate::output::{self, or_dash};

/// Devices backed up at once.
const CONCURRENCY: usize = 8;

pub async fn run(ctx: &Context, cmd: BackupCommand) -> Result<()> {
    let fleet = ctx.fleet().await?;
    let store = fleet.store().clone();
    let backups = Backups::new(fleet, server::backups::options(ctx.settings()));
    let result = match cmd {
        BackupCommand::Run(args) if args.binary => {
            binary_run(
                &backups,
                &ctx.audit().actor,
                args.devices,
                args.output.output,
            )
            .await
        }
        BackupCommand::Run(args) => backup_run(&backups, args.devices, args.output.output).await,
        BackupCommand::List(args) => {
            let device = store.find_device(None, &args.device).await?;
            let rows = store
                .snapshot_list(&device.id.to_string(), 0, i64::from(args.limit))
                .await?;
            let binaries = store
                .binary_backup_list(&device.id.to_string(), i64::from(args.limit))
                .await?;
            let items: Vec<Value> = rows.iter().map(summary).collect();
            let binary_items: Vec<Value> = binaries.iter().map(binary_summary).collect();
            let mut table: Vec<(String, Vec<String>)> = rows
                .iter()
                .map(|r| {
                    (
                        r.taken_at.clone(),
                        vec![
                            r.id.clone(),
                            "export".into(),
                            r.taken_at.clone(),
                            r.cause.clone(),
                            or_dash(r.plan_id.as_deref()),
                            or_dash(r.changed_by.as_deref()),
                            menus(&r.changed_menus).join(" "),
                        ],
                    )
                })
                .chain(binaries.iter().map(|b| {
                    (
                        b.taken_at.clone(),
                        vec![
                            b.id.clone(),
                            "binary".into(),
                            b.taken_at.clone(),
                            "requested".into(),
                            "-".into(),
                            b.requested_by.clone(),
                            format!("{} bytes", b.size_bytes),
                        ],
                    )
                }))
                .collect();
            table.sort_by(|a, b| b.0.cmp(&a.0));
            table.truncate(args.limit as usize);
            output::print(
                args.output.output,
                &[
                    "ID",
                    "KIND",
                    "TAKEN",
                    "CAUSE",
                    "PLAN",
                    "BY",
                    "CHANGED MENUS / SIZE",
                ],
                table.into_iter().map(|(_, row)| row).collect(),
                &json!({
                    "device": device.name.to_string(),
                    "snapshots": items,
                    "binary_backups": binary_items,
                }),
            )
        }
        BackupCommand::Fetch(args) => fetch(&backups, args).await,
        BackupCommand::Show(args) => {
            let row = backups.snapshot(&args.id).await?;
            let device = store.find_device(None, &row.device_id).await?;
            let text = tools::hide_in_export(&backups.content(&row)?);
            let mut record = summary(&row);
            record["device"] = json!(device.name.to_string());
            record["text"] = json!(text);
            match args.output.output {
                Output::Json => output::print_record(Output::Json, vec![], &record),
                Output::Table => {
                    output::print_record(
                        Output::Table,
                        vec![
                            ("snapshot", row.id.clone()),
                            ("device", device.name.to_string()),
                            ("taken", row.taken_at.clone()),
                            ("cause", row.cause.clone()),
                            ("plan", or_dash(row.plan_id.as_deref())),
                            ("by", or_dash(row.changed_by.as_deref())),
                            ("encrypted", row.key_id.is_some().to_string()),
                        ],
                        &record,
                    )?;
                    println!();
                    for line in text.lines() {
                        println!("{}", domain::text::escape(line));
                    }
                    Ok(())
                }
            }
        }
    };
    store.close().await;
    result
}

async fn backup_run(backups: &Backups, names: Vec<String>, format: Output) -> Result<()> {
    let store = backups.fleet().store();
    let mut devices = Vec::new();
    let mut results: Vec<Value> = Vec::new();
    if names.is_empty() {
        devices = store
            .list_devices(&store::DeviceFilter {
                status: Some(domain::DeviceStatus::Active),
                ..store::DeviceFilter::default()
            })
            .await?;
    }
    for name in &names {
        match store.find_device(None, name).await {
            Ok(d) => devices.push(d),
            Err(e) => {
                if matches!(format, Output::Table) {
                    println!("{name}: failed: {e}");
                }
                results.push(json!({"device": name, "status": "failed", "error": e.to_string()}));
            }
        }
    }
    let mut outcomes = futures::stream::iter(devices)
        .map(|d| async move {
            let outcome = backups.capture(&d, Trigger::Operator).await;
            (d, outcome)
        })
        .buffer_unordered(CONCURRENCY);
    while let Some((d, outcome)) = outcomes.next().await {
        let name = d.name.to_string();
        let entry = match outcome {
            Ok(c) => {
                let status = if c.stored { "changed" } else { "unchanged" };
                if matches!(format, Output::Table) {
                    let mut line = if c.stored {
                        format!(
                            "{name}: stored snapshot {} ({}{})",
                            c.snapshot_id,
                            c.cause,
                            if c.changed_menus.is_empty() {
                                String::new()
                            } else {
                                format!("; {}", c.changed_menus.join(", "))
                            }
                        )
                    } else {
                        format!("{name}: unchanged (snapshot {})", c.snapshot_id)
                    };
                    if let Some(drift) = &c.drift {
                        line.push_str(&format!(
                            "; DRIFT since {} in {}",
                            drift.since,
                            drift.menus.join(", ")
                        ));
                    }
                    println!("{}", domain::text::escape(&line));
                }
                json!({
                    "device": name, "status": status, "snapshot_id": c.snapshot_id,
                    "cause": c.cause, "plan_id": c.plan_id, "changed_menus": c.changed_menus,
                    "drift": c.drift.map(|d| json!({"menus": d.menus, "since": d.since})),
                    "pruned": c.pruned,
                })
            }
            Err(e) => {
                if matches!(format, Output::Table) {
                    println!("{}", domain::text::escape(&format!("{name}: failed: {e}")));
                }
                json!({"device": name, "status": "failed", "error": e.to_string()})
            }
        };
        results.push(entry);
    }
    let count = |s: &str| results.iter().filter(|r| r["status"] == s).count();
    let (changed, unchanged, failed) = (count("changed"), count("unchanged"), count("failed"));
    match format {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "devices": results,
                "summary": {"changed": changed, "unchanged": unchanged, "failed": failed},
            }))?
        ),
        Output::Table => println!(
            "{} devices: {changed} changed, {unchanged} unchanged, {failed} failed",
            results.len()
        ),
    }
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} devices could not be backed up",
            results.len()
        );
    }
    Ok(())
}

async fn binary_run(
    backups: &Backups,
    actor: &str,
    names: Vec<String>,
    format: Output,
) -> Result<()> {
    let store = backups.fleet().store();
    let mut devices = Vec::new();
    let mut results: Vec<Value> = Vec::new();
    if names.is_empty() {
        devices = store
            .list_devices(&store::DeviceFilter {
                status: Some(domain::DeviceStatus::Active),
                ..store::DeviceFilter::default()
            })
            .await?;
    }
    for name in &names {
        match store.find_device(None, name).await {
            Ok(d) => devices.push(d),
            Err(e) => {
                if matches!(format, Output::Table) {
                    println!("{}", domain::text::escape(&format!("{name}: failed: {e}")));
                }
                results.push(json!({"device": name, "status": "failed", "error": e.to_string()}));
            }
        }
    }
    let mut outcomes = futures::stream::iter(devices)
        .map(|d| async move {
            let outcome = backups.binary(&d, actor).await;
            (d, outcome)
        })
        .buffer_unordered(CONCURRENCY);
    while let Some((d, outcome)) = outcomes.next().await {
        let name = d.name.to_string();
        let entry = match outcome {
            Ok(t) => {
                if matches!(format, Output::Table) {
                    println!(
                        "{name}: stored binary backup {} ({} bytes, sealed)",
                        t.backup_id, t.size_bytes
                    );
                }
                json!({
                    "device": name, "status": "stored", "backup_id": t.backup_id,
                    "size_bytes": t.size_bytes, "file_sha256": t.file_sha256, "pruned": t.pruned,
                })
            }
            Err(e) => {
                if matches!(format, Output::Table) {
                    println!("{}", domain::text::escape(&format!("{name}: failed: {e}")));
                }
                json!({"device": name, "status": "failed", "error": e.to_string()})
            }
        };
        results.push(entry);
    }
    let stored = results.iter().filter(|r| r["status"] == "stored").count();
    let failed = results.len() - stored;
    match format {
        Output::Json => println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "devices": results,
                "summary": {"stored": stored, "failed": failed},
            }))?
        ),
        Output::Table => println!(
            "{} devices: {stored} binary backups stored, {failed} failed",
            results.len()
        ),
    }
    if failed > 0 {
        anyhow::bail!(
            "{failed} of {} devices could not be backed up",
            results.len()
        );
    }
    Ok(())
}

async fn fetch(backups: &Backups, args: crate::cli::BackupFetch) -> Result<()> {
    let project: Option<domain::ProjectRef> = match &args.project {
        Some(p) => Some(
            p.parse()
                .map_err(|e| anyhow::anyhow!("--project {p:?}: {e}"))?,
        ),
        None => None,
    };
    let opened = backups.binary_open(&args.id, project.as_ref()).await?;
    let mut password_path = args.output.clone().into_os_string();
    password_path.push(".password");
    let password_path = std::path::PathBuf::from(password_path);
    write_private(&args.output, &opened.file)?;
    if let Err(e) = write_private(
        &password_path,
        format!("{}\n", opened.password.expose_secret()).as_bytes(),
    ) {
        let _ = std::fs::remove_file(&args.output);
        return Err(e);
    }
    println!(
        "wrote {} ({} bytes) and its password to {} (both mode 0600)",
        args.output.display(),
        opened.file.len(),
        password_path.display()
    );
    Ok(())
}

/// Creates `path` (never overwriting) readable by its owner only, and writes `bytes`.
fn write_private(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(path).map_err(|e| {
        anyhow::anyhow!(
            "cannot create {}: {e} (an existing file is never overwritten)",
            path.display()
        )
    })?;
    file.write_all(bytes)?;
    file.sync_all()?;
    Ok(())
}

fn binary_summary(b: &store::binary_backups::BinaryBackupRow) -> Value {
    json!({
        "id": b.id,
        "kind": "binary",
        "taken_at": b.taken_at,
        "requested_by": b.requested_by,
        "size_bytes": b.size_bytes,
        "file_sha256": b.file_sha256,
        "routeros_version": b.routeros_version,
    })
}

fn menus(json_text: &str) -> Vec<String> {
    serde_json::from_str(json_text).unwrap_or_default()
}

fn summary(r: &store::snapshots::SnapshotRow) -> Value {
    json!({
        "id": r.id,
        "taken_at": r.taken_at,
        "cause": r.cause,
        "plan_id": r.plan_id,
        "changed_by": r.changed_by,
        "changed_menus": menus(&r.changed_menus),
        "trigger": r.trigger_kind,
        "lines": r.line_count,
        "routeros_version": r.routeros_version,
        "encrypted": r.key_id.is_some(),
    })
}
