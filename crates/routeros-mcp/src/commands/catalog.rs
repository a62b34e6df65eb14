//! `routeros-mcp catalog validate|export|list|docs`.

use std::collections::HashMap;

use anyhow::{Context as _, Result};
use catalog::{Catalog, Visibility};
use serde_json::json;

use crate::cli::{CatalogCommand, Output};
use crate::context::Context;
use crate::{VerificationFailed, output};

/// The policy the current configuration applies.
pub fn policy(ctx: &Context, read_only: bool) -> catalog::Policy {
    server::setup::policy(ctx.settings(), read_only)
}

fn handlers_match(catalog: &Catalog) -> Result<(), String> {
    let handlers: HashMap<&'static str, tools::Handler> =
        tools::handlers().into_iter().map(|h| (h.name, h)).collect();
    mcp_server::check_one_to_one(catalog, &handlers)
}

pub fn run(ctx: &Context, cmd: CatalogCommand) -> Result<()> {
    match cmd {
        CatalogCommand::Validate { dir } => {
            let catalog = match &dir {
                Some(d) => Catalog::from_dir(d),
                None => Catalog::embedded(),
            }
            .map_err(|e| VerificationFailed(e.to_string()))?;
            handlers_match(&catalog).map_err(|e| {
                VerificationFailed(format!("tool catalog and handlers disagree: {e}"))
            })?;
            policy(ctx, false)
                .check(&catalog)
                .map_err(VerificationFailed)?;
            println!(
                "tool catalog valid: {} tools{}, every one with a handler",
                catalog.len(),
                dir.map(|d| format!(" in {}", d.display()))
                    .unwrap_or_default()
            );
            Ok(())
        }
        CatalogCommand::Export { output } => {
            let catalog = Catalog::embedded()?;
            if let Some(parent) = output.parent().filter(|p| !p.as_os_str().is_empty()) {
                std::fs::create_dir_all(parent)
                    .with_context(|| format!("creating {}", parent.display()))?;
            }
            let text = serde_json::to_string_pretty(&catalog.export())?;
            std::fs::write(&output, format!("{text}\n"))
                .with_context(|| format!("writing {}", output.display()))?;
            println!("wrote {} tools to {}", catalog.len(), output.display());
            Ok(())
        }
        CatalogCommand::Docs { output } => {
            let catalog = Catalog::embedded()?;
            std::fs::write(&output, catalog.markdown())
                .with_context(|| format!("writing {}", output.display()))?;
            println!("wrote {}", output.display());
            Ok(())
        }
        CatalogCommand::List(args) => {
            let catalog = Catalog::embedded()?;
            let policy = policy(ctx, false);
            let rows: Vec<_> = catalog
                .iter()
                .map(|s| {
                    let shown = match policy.visibility(s) {
                        Visibility::Visible => "shown".to_owned(),
                        Visibility::Hidden(why) => format!("hidden: {why}"),
                    };
                    (s.name.clone(), s.tier.to_string(), s.is_read_only(), shown)
                })
                .collect();
            let json = json!(rows.iter().map(|(n, t, r, s)| json!({"name": n, "tier": t, "read_only": r, "visibility": s})).collect::<Vec<_>>());
            output::print(
                args.output,
                &["TOOL", "TIER", "READ-ONLY", "VISIBILITY"],
                rows.into_iter()
                    .map(|(n, t, r, s)| vec![n, t, if r { "yes".into() } else { "no".into() }, s])
                    .collect(),
                &json,
            )?;
            if matches!(args.output, Output::Table) {
                println!("\n{} tools", catalog.len());
            }
            Ok(())
        }
    }
}
