//! `routeros-mcp key generate|rotate`.
//!
//! Rotation re-encrypts every credential in one database transaction. When the server manages the
//! key file, the new key is written to `<file>.next` first and renamed over the key file only after
//! the transaction commits; a crash in between is repaired on the next start (see
//! `context::finish_interrupted_rotation`), so the key on disk always opens the database.

use std::io::Write;

use anyhow::{Context as _, Result};
use vault::{ExposeSecret, KeyOrigin, MasterKey, SecretString};

use crate::UsageError;
use crate::cli::KeyCommand;
use crate::context::{Context, next_key_path};
use crate::secrets::read_env;

pub async fn run(ctx: &Context, cmd: KeyCommand) -> Result<()> {
    match cmd {
        KeyCommand::Generate { output_file } => {
            let key = MasterKey::generate()?;
            match output_file {
                Some(path) => {
                    key.write_new_file(&path)?;
                    eprintln!(
                        "wrote master key {} to {} (mode 0600)",
                        key.id(),
                        path.display()
                    );
                }
                None => {
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "{}", key.to_base64().expose_secret())?;
                    eprintln!("master key id {}", key.id());
                }
            }
            Ok(())
        }
        KeyCommand::Rotate {
            new_key_file,
            new_key_env,
        } => rotate(ctx, new_key_file, new_key_env).await,
    }
}

async fn rotate(
    ctx: &Context,
    new_key_file: Option<std::path::PathBuf>,
    new_key_env: Option<String>,
) -> Result<()> {
    let store = ctx.store().await?;
    let current = ctx.master_key()?;
    let provided = match (&new_key_file, &new_key_env) {
        (Some(path), _) => Some(MasterKey::read_file(path)?.0),
        (None, Some(var)) => Some(MasterKey::from_base64(
            &SecretString::from(read_env(var)?),
            var,
        )?),
        (None, None) => None,
    };
    if let Some(new) = &provided
        && new.id() == current.key.id()
    {
        return Err(UsageError(format!(
            "the new key is the key already in use ({}); generate a different one",
            new.id()
        ))
        .into());
    }
    // Where the new key will live once the database is re-encrypted.
    let managed_file = match (&provided, &current.origin) {
        (Some(_), _) => None,
        (None, KeyOrigin::Inline) => {
            return Err(UsageError(
                "the master key comes from ROUTEROS_MCP_MASTER_KEY, which this command cannot \
                 update: create a key with `routeros-mcp key generate --output-file PATH`, then run \
                 `routeros-mcp key rotate --new-key-file PATH` and point the configuration at it"
                    .into(),
            )
            .into());
        }
        (None, KeyOrigin::File(p) | KeyOrigin::DataDir(p) | KeyOrigin::Generated(p)) => {
            Some(p.clone())
        }
    };
    let new = match provided {
        Some(key) => key,
        None => MasterKey::generate()?,
    };
    if let Some(file) = &managed_file {
        new.write_new_file(&next_key_path(file))?;
    }
    let mut last_report = 0;
    let result = store
        .rotate_master_key(&current.key, &new, &ctx.audit(), |p| {
            // Progress on stderr about every tenth of the way.
            if p.done == p.total || p.done * 10 / p.total.max(1) > last_report {
                last_report = p.done * 10 / p.total.max(1);
                eprintln!("re-encrypted {}/{} credentials", p.done, p.total);
            }
            Ok(())
        })
        .await;
    let count = match result {
        Ok(n) => n,
        Err(e) => {
            if let Some(file) = &managed_file {
                let _ = std::fs::remove_file(next_key_path(file));
            }
            return Err(e)
                .context("key rotation failed; the old key is still in use for every credential");
        }
    };
    match &managed_file {
        Some(file) => {
            std::fs::rename(next_key_path(file), file)
                .with_context(|| format!("installing the new key at {}", file.display()))?;
            println!(
                "rotated {count} credentials from key {} to key {}; {} now holds the new key",
                current.key.id(),
                new.id(),
                file.display()
            );
        }
        None => println!(
            "rotated {count} credentials from key {} to key {}; now configure the new key \
             (ROUTEROS_MCP_MASTER_KEY or ROUTEROS_MCP_MASTER_KEY_FILE) — the old one no longer opens them",
            current.key.id(),
            new.id()
        ),
    }
    store.close().await;
    Ok(())
}
