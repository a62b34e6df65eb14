//! `routeros-mcp check`: the startup validation, run on demand, changing nothing.
//!
//! Each check reports ok, warn or FAIL with one line saying what it found and, on failure, what
//! to do. Checks that depend on an earlier failed one are reported as skipped.

use anyhow::Result;
use serde_json::json;
use store::Store;
use vault::{KeyRequest, VaultError};

use crate::VerificationFailed;
use crate::cli::{Output, OutputArgs};
use crate::context::Context;
use crate::output;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
enum Level {
    Ok,
    Warn,
    Fail,
    Skipped,
}

impl Level {
    fn label(self) -> &'static str {
        match self {
            Level::Ok => "ok",
            Level::Warn => "warn",
            Level::Fail => "FAIL",
            Level::Skipped => "skipped",
        }
    }
}

#[derive(Debug, serde::Serialize)]
struct Finding {
    check: &'static str,
    level: Level,
    detail: String,
}

#[derive(Debug, Default)]
struct Findings(Vec<Finding>);

impl Findings {
    fn add(&mut self, check: &'static str, level: Level, detail: impl Into<String>) {
        self.0.push(Finding {
            check,
            level,
            detail: detail.into(),
        });
    }
}

pub async fn run(ctx: &Context, args: OutputArgs) -> Result<()> {
    let mut f = Findings::default();
    let s = ctx.settings();
    f.add(
        "configuration",
        Level::Ok,
        format!(
            "environment {}, {}",
            s.environment,
            ctx.loaded.config_file.as_ref().map_or(
                "no configuration file".to_owned(),
                |p| format!("file {}", p.display())
            )
        ),
    );
    for w in &ctx.loaded.warnings {
        f.add("configuration", Level::Warn, w.clone());
    }

    let store = match ctx.open_store().await {
        Ok(store) => {
            f.add(
                "database",
                Level::Ok,
                format!("{} reachable", s.database.redacted()),
            );
            Some(store)
        }
        Err(e) => {
            f.add("database", Level::Fail, format!("{e:#}"));
            None
        }
    };
    match &store {
        Some(store) => {
            check_migrations(store, &mut f).await;
            check_key(ctx, store, &mut f).await;
            match store.verify_audit_chain().await {
                Ok(r) if r.is_intact() => f.add(
                    "audit chain",
                    Level::Ok,
                    format!("{} events intact", r.events_checked),
                ),
                Ok(r) => {
                    let b = r.first_break.unwrap_or(store::ChainBreak {
                        seq: 0,
                        reason: String::new(),
                    });
                    f.add(
                        "audit chain",
                        Level::Fail,
                        format!("broken at event #{}: {}", b.seq, b.reason),
                    );
                }
                Err(e) => f.add("audit chain", Level::Fail, e.to_string()),
            }
        }
        None => {
            for check in ["migrations", "master key", "audit chain"] {
                f.add(check, Level::Skipped, "needs the database");
            }
        }
    }
    if let Some(store) = store {
        store.close().await;
    }

    match args.output {
        Output::Json => output::print_record(Output::Json, vec![], &json!(f.0))?,
        Output::Table => {
            for finding in &f.0 {
                println!(
                    "{:>7}  {:<14} {}",
                    finding.level.label(),
                    finding.check,
                    finding.detail
                );
            }
        }
    }
    let failures = f.0.iter().filter(|x| x.level == Level::Fail).count();
    if failures > 0 {
        return Err(VerificationFailed(format!("{failures} check(s) failed")).into());
    }
    Ok(())
}

async fn check_migrations(store: &Store, f: &mut Findings) {
    let known = store.known_migrations();
    match store.applied_migrations().await {
        Ok(applied) => {
            let unknown: Vec<_> = applied.iter().filter(|m| !known.contains(m)).collect();
            let pending = known.iter().filter(|m| !applied.contains(m)).count();
            if !unknown.is_empty() {
                f.add(
                    "migrations",
                    Level::Fail,
                    format!(
                        "the database has migration {} that this release does not know: it was \
                         migrated by a newer release",
                        unknown[0].0
                    ),
                );
            } else if pending > 0 {
                f.add(
                    "migrations",
                    Level::Warn,
                    format!("{pending} pending; applied at startup or by `routeros-mcp migrate`"),
                );
            } else {
                f.add(
                    "migrations",
                    Level::Ok,
                    format!("up to date at {}", applied.last().map_or(0, |m| m.0)),
                );
            }
        }
        Err(e) => f.add("migrations", Level::Fail, e.to_string()),
    }
}

async fn check_key(ctx: &Context, store: &Store, f: &mut Findings) {
    let s = ctx.settings();
    let request = KeyRequest {
        inline: s.vault.master_key.as_ref(),
        file: s.vault.master_key_file.as_deref(),
        data_dir: &s.data_dir,
        generate_if_missing: false,
    };
    let lab_file = s.data_dir.join(vault::GENERATED_KEY_FILE);
    let loaded = match request.load() {
        Ok(k) => Ok(k),
        // In lab the generated key lives in the data dir; check reads it without creating one.
        Err(VaultError::Missing) if s.may_generate_master_key() && lab_file.exists() => {
            vault::MasterKey::read_file(&lab_file).map(|(key, file_status)| vault::LoadedKey {
                key,
                origin: vault::KeyOrigin::DataDir(lab_file.clone()),
                file_status,
            })
        }
        Err(e) => Err(e),
    };
    match loaded {
        Ok(key) => match store.verify_master_key(&key.key).await {
            Ok(n) => {
                f.add(
                    "master key",
                    Level::Ok,
                    format!(
                        "key {} from {} opens all {n} stored credentials",
                        key.key.id(),
                        key.origin
                    ),
                );
                if let Some(exposure) = key.exposure() {
                    match s.environment {
                        domain::Environment::Lab => f.add("master key", Level::Warn, exposure),
                        domain::Environment::Staging | domain::Environment::Prod => f.add(
                            "master key",
                            Level::Fail,
                            format!(
                                "{exposure} (MCP_ENV={} refuses a master key others can read)",
                                s.environment
                            ),
                        ),
                    }
                }
            }
            Err(e) => f.add("master key", Level::Fail, e.to_string()),
        },
        Err(VaultError::Missing) if s.may_generate_master_key() => f.add(
            "master key",
            Level::Warn,
            "none yet; lab generates one on first use",
        ),
        Err(e) => f.add("master key", Level::Fail, e.to_string()),
    }
}
