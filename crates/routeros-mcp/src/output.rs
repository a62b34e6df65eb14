//! Rendering command results as aligned tables for people or JSON for scripts.
//!
//! Table cells and record values can hold text from a caller or a router (plan titles,
//! comments, identities): they are printed with control characters made visible
//! ([`domain::text::escape`]) so no value can move the cursor, clear the screen or redraw a line.
//! JSON output needs no such care: its encoder escapes control characters itself.

use anyhow::Result;
use comfy_table::{ContentArrangement, Table, presets};

use crate::cli::Output;

/// Prints `rows` under `headers` as a table, or `json` as pretty JSON.
pub fn print(
    format: Output,
    headers: &[&str],
    rows: Vec<Vec<String>>,
    json: &serde_json::Value,
) -> Result<()> {
    match format {
        Output::Json => println!("{}", serde_json::to_string_pretty(json)?),
        Output::Table => println!("{}", table(headers, rows)),
    }
    Ok(())
}

/// Key/value pairs, one per line (for `show` commands).
pub fn print_record(
    format: Output,
    pairs: Vec<(&str, String)>,
    json: &serde_json::Value,
) -> Result<()> {
    match format {
        Output::Json => println!("{}", serde_json::to_string_pretty(json)?),
        Output::Table => {
            let width = pairs.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
            for (k, v) in pairs {
                println!("{k:>width$}: {}", domain::text::escape(&v));
            }
        }
    }
    Ok(())
}

pub fn table(headers: &[&str], rows: Vec<Vec<String>>) -> String {
    let mut t = Table::new();
    t.load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled)
        .set_header(headers.iter().map(|h| h.to_string()));
    for row in rows {
        t.add_row(
            row.into_iter()
                .map(|cell| domain::text::escape(&cell).into_owned()),
        );
    }
    // comfy-table pads every cell by one space; the outer padding helps nobody.
    t.to_string()
        .lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l).trim_end())
        .collect::<Vec<_>>()
        .join("\n")
}

/// `-` for an absent value.
pub fn or_dash(v: Option<&str>) -> String {
    v.filter(|s| !s.is_empty()).unwrap_or("-").to_owned()
}
