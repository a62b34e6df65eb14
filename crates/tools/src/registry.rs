//! The handler table: every tool category's `HANDLERS`, in one list. The server checks it
//! against the catalog both ways at startup (a schema without a handler, or a handler without a
//! schema, is a build defect a test catches). A new category adds one line here; a new tool in
//! a category adds one line to that category's `tools!` list.

pub use crate::toolkit::{Caller, Handler, ToolFuture};

/// Every handler, sorted by tool name.
pub fn handlers() -> Vec<Handler> {
    let mut all: Vec<Handler> = [
        crate::config::HANDLERS,
        crate::device::HANDLERS,
        crate::dhcp::HANDLERS,
        crate::diagnostics::HANDLERS,
        crate::dns::HANDLERS,
        crate::firewall::HANDLERS,
        crate::fleet::HANDLERS,
        crate::interface::HANDLERS,
        crate::ip::HANDLERS,
        crate::log::HANDLERS,
        crate::plan::HANDLERS,
        crate::routeros::HANDLERS,
        crate::routing::HANDLERS,
        crate::runbook::HANDLERS,
        crate::system::HANDLERS,
        crate::wireguard::HANDLERS,
    ]
    .concat();
    all.sort_by_key(|h| h.name);
    all
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// `category.tool` lives in `src/category/tool.rs` (and its schema in
    /// `tool-schemas/category/tool.json`), so a tool is found from its name alone.
    #[test]
    fn every_tool_lives_at_the_path_its_name_gives() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"));
        let handlers = super::handlers();
        assert!(handlers.len() >= 40, "{}", handlers.len());
        for h in &handlers {
            let (category, tool) = h.name.split_once('.').unwrap_or(("", h.name));
            let source = root.join("src").join(category).join(format!("{tool}.rs"));
            assert!(source.is_file(), "{}: no {}", h.name, source.display());
            let schema = root
                .join("../../tool-schemas")
                .join(category)
                .join(format!("{tool}.json"));
            assert!(schema.is_file(), "{}: no {}", h.name, schema.display());
        }
        let mut names: Vec<&str> = handlers.iter().map(|h| h.name).collect();
        names.dedup();
        assert_eq!(names.len(), handlers.len(), "a tool is registered twice");
    }
}
