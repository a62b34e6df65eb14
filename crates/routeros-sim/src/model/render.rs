//! Turning stored items into what `print` shows: [`Record`]s.
//!
//! A record is the item's printable properties in the menu's detail order — stored values,
//! then defaults for what was never set, then live values the router computes (running flags,
//! counters, uptime). REST sorts the keys alphabetically with `.id` first; the console keeps the
//! menu order. Both go through [`render`], so what REST returns and what the console prints is
//! the same data.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::ser::{Serialize, SerializeMap, Serializer};

use super::ids::RosId;
use super::item::Item;
use super::routing::Routing;
use super::spec::{Access, MenuSpec, is_sensitive_name};
use super::state::RouterState;

/// Fills computed read-only properties of one item: `(name, value)` pairs pushed to `out`.
/// Names must be properties of the menu; values use REST spelling.
pub type ComputeFn = fn(&RenderCtx<'_>, &'static MenuSpec, &Item, &mut Vec<(&'static str, String)>);

/// One printed item (or a command's reply record).
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Record {
    /// The item id (`None` for singletons and command replies).
    pub id: Option<RosId>,
    /// Properties in menu order, REST spelling.
    pub props: Vec<(&'static str, String)>,
}

impl fmt::Debug for Record {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut m = f.debug_map();
        if let Some(id) = self.id {
            m.entry(&".id", &id);
        }
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

impl Record {
    /// A record without id.
    pub fn new() -> Self {
        Record::default()
    }

    /// Adds a property (builder style, for command replies).
    pub fn with(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.props.push((name, value.into()));
        self
    }

    /// The value of `name`; `.id` gives the id.
    pub fn get(&self, name: &str) -> Option<Cow<'_, str>> {
        if name == ".id" {
            return self.id.map(|i| Cow::Owned(i.to_string()));
        }
        self.props
            .iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| Cow::Borrowed(v.as_str()))
    }

    /// Whether `name` is `true`.
    pub fn is_true(&self, name: &str) -> bool {
        self.get(name).as_deref() == Some("true")
    }

    /// The key/value pairs REST returns: `.id` first, then alphabetical.
    pub fn rest_pairs(&self) -> Vec<(Cow<'_, str>, Cow<'_, str>)> {
        let mut out: Vec<(Cow<'_, str>, Cow<'_, str>)> = Vec::with_capacity(self.props.len() + 1);
        if let Some(id) = self.id {
            out.push((Cow::Borrowed(".id"), Cow::Owned(id.to_string())));
        }
        let mut sorted: Vec<&(&'static str, String)> = self.props.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        out.extend(
            sorted
                .into_iter()
                .map(|(k, v)| (Cow::Borrowed(*k), Cow::Borrowed(v.as_str()))),
        );
        out
    }

    /// Keeps only the properties in `proplist` (`.id` included only when listed).
    pub fn project(&mut self, proplist: &[String]) {
        if !proplist.iter().any(|p| p == ".id") {
            self.id = None;
        }
        self.props.retain(|(k, _)| proplist.iter().any(|p| p == k));
    }

    /// The REST JSON object of this record (keys in RouterOS order).
    pub fn to_json(&self) -> RestObject<'_> {
        RestObject(self)
    }
}

/// Serialises a [`Record`] as RouterOS does: a JSON object whose values are strings, `.id`
/// first, other keys in alphabetical order.
#[derive(Debug, Clone, Copy)]
pub struct RestObject<'a>(&'a Record);

impl Serialize for RestObject<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let rec = self.0;
        let mut sorted: Vec<&(&'static str, String)> = rec.props.iter().collect();
        sorted.sort_by(|a, b| a.0.cmp(b.0));
        let mut map =
            serializer.serialize_map(Some(sorted.len() + usize::from(rec.id.is_some())))?;
        if let Some(id) = rec.id {
            map.serialize_entry(".id", &id.to_string())?;
        }
        for (k, v) in sorted {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

/// What computing live values needs: the state, the time, and lazily derived facts shared by
/// all items of one print.
#[derive(Debug)]
pub struct RenderCtx<'a> {
    /// The configuration being printed.
    pub state: &'a RouterState,
    /// Simulated time since boot, in microseconds.
    pub uptime_us: u64,
    /// Simulated wall time.
    pub now: DateTime<Utc>,
    routing: OnceCell<Routing>,
}

impl<'a> RenderCtx<'a> {
    /// A context for printing from `state` now.
    pub fn new(state: &'a RouterState) -> Self {
        let clock = state.clock();
        RenderCtx {
            state,
            uptime_us: u64::try_from(clock.uptime().as_micros()).unwrap_or(u64::MAX),
            now: clock.now(),
            routing: OnceCell::new(),
        }
    }

    /// Interfaces, connected networks and route activity, derived once per print.
    pub fn routing(&self) -> &Routing {
        self.routing.get_or_init(|| Routing::build(self.state))
    }

    /// Uptime in whole seconds.
    pub fn uptime_secs(&self) -> u64 {
        self.uptime_us / 1_000_000
    }
}

/// Renders one stored item of `menu`: stored values, defaults and computed values, in the
/// menu's property order, printable properties only.
pub fn render(ctx: &RenderCtx<'_>, menu: &'static MenuSpec, item: &Item) -> Record {
    let mut computed: Vec<(&'static str, String)> = Vec::new();
    if let Some(f) = menu.compute {
        f(ctx, menu, item, &mut computed);
    }
    let mut props = Vec::with_capacity(menu.props.len());
    for p in menu.props {
        if !matches!(p.access, Access::ReadWrite | Access::ReadOnly) {
            continue;
        }
        let value = computed
            .iter()
            .find(|(k, _)| *k == p.name)
            .map(|(_, v)| v.clone())
            .or_else(|| item.get(p.name).map(str::to_string))
            .or_else(|| p.default.map(str::to_string));
        if let Some(v) = value {
            props.push((p.name, v));
        }
    }
    let id = match menu.kind {
        super::spec::MenuKind::Singleton => None,
        super::spec::MenuKind::List | super::spec::MenuKind::Ordered => Some(item.id()),
    };
    Record { id, props }
}
