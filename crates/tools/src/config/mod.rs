//! The `config` tools.

mod export;

pub use export::hide_in_export;

use crate::registry::{Handler, handler};

pub(crate) fn register(all: &mut Vec<Handler>) {
    all.push(handler!("config.export", export::run));
}
