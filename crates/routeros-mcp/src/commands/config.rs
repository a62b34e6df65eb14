//! `routeros-mcp config show`: every setting, its effective value (secrets masked) and source.

use anyhow::Result;
use serde_json::json;

use crate::cli::{Output, OutputArgs};
use crate::context::Context;
use crate::output;

pub fn show(ctx: &Context, args: OutputArgs) -> Result<()> {
    let entries = &ctx.loaded.entries;
    let rows = entries
        .iter()
        .map(|e| {
            vec![
                e.env.to_owned(),
                e.display.clone().unwrap_or_else(|| "(unset)".into()),
                e.source.to_string(),
            ]
        })
        .collect();
    let json = json!({
        "environment": ctx.settings().environment,
        "config_file": ctx.loaded.config_file,
        "settings": entries.iter().map(|e| json!({
            "variable": e.env,
            "key": e.key,
            "value": e.display,
            "source": e.source.to_string(),
            "description": e.doc,
        })).collect::<Vec<_>>(),
        "warnings": ctx.loaded.warnings,
    });
    output::print(args.output, &["VARIABLE", "VALUE", "SOURCE"], rows, &json)?;
    if matches!(args.output, Output::Table) {
        match &ctx.loaded.config_file {
            Some(path) => println!("\nconfiguration file: {}", path.display()),
            None => println!("\nconfiguration file: none (use --config or ROUTEROS_MCP_CONFIG)"),
        }
    }
    Ok(())
}
