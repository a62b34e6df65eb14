//! The `fleet.*` tools (fleet-wide reads).

use crate::registry::Handler;

pub(crate) fn register(_all: &mut Vec<Handler>) {}
