//! `docs/configuration.md` carries the table of every setting; this test regenerates it from the
//! settings table and fails when the document is out of date (`UPDATE_DOCS=1` rewrites it).

#![allow(clippy::unwrap_used, clippy::expect_used)]

use settings::table::{self, ROWS};

const START: &str = "<!-- settings-table:start -->";
const END: &str = "<!-- settings-table:end -->";

fn render() -> String {
    let mut out = String::from(
        "| variable | file key | default | lab | staging | prod | meaning |\n|---|---|---|---|---|---|---|\n",
    );
    for row in ROWS {
        let profile = |env| {
            table::profile(env)
                .iter()
                .find(|(k, _)| *k == row.key)
                .map_or(String::new(), |(_, v)| format!("`{v}`"))
        };
        let default = match (row.default, row.secret) {
            (_, true) => "(secret)".to_owned(),
            (Some(""), _) => "(empty)".to_owned(),
            (Some(_), _) if row.key == "server.version" => "the release version".to_owned(),
            (Some(d), _) => format!("`{d}`"),
            (None, _) => "(unset)".to_owned(),
        };
        out.push_str(&format!(
            "| `{}` | `{}` | {} | {} | {} | {} | {} |\n",
            row.env,
            row.key,
            default,
            profile(domain::Environment::Lab),
            profile(domain::Environment::Staging),
            profile(domain::Environment::Prod),
            row.doc.replace('|', "\\|")
        ));
    }
    out
}

#[test]
fn the_configuration_document_lists_every_setting() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/configuration.md");
    let doc = std::fs::read_to_string(path).unwrap();
    let start = doc.find(START).expect("start marker") + START.len();
    let end = doc.find(END).expect("end marker");
    let expected = format!("\n{}", render());
    if doc[start..end] != expected {
        if std::env::var_os("UPDATE_DOCS").is_some() {
            let updated = format!("{}{}{}", &doc[..start], expected, &doc[end..]);
            std::fs::write(path, updated).unwrap();
        } else {
            panic!(
                "docs/configuration.md is out of date; run UPDATE_DOCS=1 cargo test -p settings --test docs"
            );
        }
    }
}
