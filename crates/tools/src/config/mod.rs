//! The `config` tools.

use crate::registry::Handler;

pub(crate) fn register(_all: &mut Vec<Handler>) {}
