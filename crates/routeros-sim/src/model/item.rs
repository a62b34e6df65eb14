//! Stored items: an id and the values that were set.
//!
//! An item keeps only the values written to it (plus values the router derived on write, like
//! an address's `network`); defaults and live values are filled in when it is printed. That
//! keeps a thousand simulated routers small, and it is also how `unset` works: dropping the
//! stored value makes the default visible again.

use std::fmt;

use super::ids::RosId;
use super::spec::is_sensitive_name;

/// One stored item of a menu.
#[derive(Clone, PartialEq, Eq)]
pub struct Item {
    id: RosId,
    props: Vec<(&'static str, Box<str>)>,
}

impl fmt::Debug for Item {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        m.entry(&".id", &self.id);
        for (k, v) in &self.props {
            if is_sensitive_name(k) {
                m.entry(k, &"<redacted>");
            } else {
                m.entry(k, v);
            }
        }
        m.finish()
    }
}

impl Item {
    /// A new item without values.
    pub fn new(id: RosId) -> Self {
        Item {
            id,
            props: Vec::new(),
        }
    }

    /// The item's id.
    pub fn id(&self) -> RosId {
        self.id
    }

    /// The stored value of `name`, if one was set.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.props
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.as_ref())
    }

    /// Whether the stored value of `name` is `true`.
    pub fn is_true(&self, name: &str) -> bool {
        self.get(name) == Some("true")
    }

    /// Stores `value` under `name` (names come from the menu table, hence `'static`).
    pub fn set(&mut self, name: &'static str, value: impl Into<Box<str>>) {
        let value = value.into();
        match self.props.iter_mut().find(|(k, _)| *k == name) {
            Some(slot) => slot.1 = value,
            None => self.props.push((name, value)),
        }
    }

    /// Drops the stored value of `name`.
    pub fn unset(&mut self, name: &str) {
        self.props.retain(|(k, _)| *k != name);
    }

    /// The stored values, in the order they were first set.
    pub fn stored(&self) -> impl Iterator<Item = (&'static str, &str)> {
        self.props.iter().map(|(k, v)| (*k, v.as_ref()))
    }
}
