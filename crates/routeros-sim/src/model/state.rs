//! The configuration of one simulated router and every operation on it.
//!
//! [`RouterState`] holds the items of every menu and implements the console's menu commands —
//! `print`, `get`, `find`, `add`, `set`, `unset`, `remove`, `move`, `enable`, `disable` — with
//! RouterOS's validation and failures. The REST server and the CLI interpreter call exactly these
//! methods, so the two interfaces can never disagree about what a command does.
//!
//! Ids are allocated per storage menu and never reused. Dynamic items the router derives itself
//! (connected routes) are kept in step with the configuration after every change.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;

use serde::ser::{Serialize, SerializeMap, Serializer};
use sha2::{Digest, Sha256};

use super::error::RosError;
use super::ids::RosId;
use super::item::Item;
use super::query::Query;
use super::render::{Record, RenderCtx, render};
use super::spec::{Access, MenuKind, MenuSpec, menu, menu_index, menus, storage_of};
use super::value::{PropType, RefSpec, normalize, parse_prefix};
use crate::clock::SimClock;

/// The properties of an item the device derives from its configuration, in print order.
type DerivedProps = Vec<(&'static str, String)>;

/// Menu-specific validation and derived values, run on the candidate item of an `add` or `set`
/// before uniqueness is checked.
pub type WriteHook = fn(&WriteCtx<'_>, &mut Item) -> Result<(), RosError>;

/// What a [`WriteHook`] may look at.
#[derive(Debug)]
pub struct WriteCtx<'a> {
    /// The configuration before the write.
    pub state: &'a RouterState,
    /// The menu written through.
    pub menu: &'static MenuSpec,
    /// The properties this write sets explicitly.
    pub explicit: &'a [&'static str],
    /// `true` for `add`, `false` for `set`.
    pub adding: bool,
}

impl WriteCtx<'_> {
    /// Whether this write sets `name` explicitly.
    pub fn sets(&self, name: &str) -> bool {
        self.explicit.contains(&name)
    }
}

/// Validated properties of a write, and the `place-before` reference if one was given.
type ParsedArgs = (Vec<(&'static str, String)>, Option<String>);

#[derive(Debug, Clone, Default)]
pub(super) struct Table {
    pub(super) items: Vec<Item>,
    /// Last id handed out to a configured item.
    last_id: u32,
    /// Last id handed out to a dynamic item (offset from [`RosId::DYNAMIC_BASE`]).
    last_dynamic: u32,
}

/// A user who passed authentication, with the policies of their group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserInfo {
    /// Login name.
    pub name: String,
    /// Group name (`full`, `read`, `write`, …).
    pub group: String,
    /// The group's policies (`read`, `write`, `rest-api`, `ssh`, …).
    pub policies: Vec<String>,
}

impl UserInfo {
    /// Whether the user's group has `policy`.
    pub fn has(&self, policy: &str) -> bool {
        self.policies.iter().any(|p| p == policy)
    }
}

/// Why a login failed (RouterOS tells the client only "invalid user name or password").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginFailure {
    /// No enabled user with that name and password.
    BadCredentials,
    /// The user's group lacks the policy for this access method (`ssh`, `rest-api`, …).
    PolicyDenied,
}

/// The configuration and live state of one router.
#[derive(Debug, Clone)]
pub struct RouterState {
    tables: Vec<Table>,
    clock: SimClock,
    seed: u64,
    generation: u64,
    /// Optional packages installed (`wifi-qcom`): menus of other optional packages do not
    /// exist on this device.
    packages: Vec<&'static str>,
}

const LOG_MEMORY_LINES: usize = 1000;

/// Menus whose dynamic entries RouterOS lets an operator remove (a lease is released, a learned
/// ARP entry or a timed address-list entry is dropped). Elsewhere dynamic entries are the
/// router's own and `remove` fails.
const DYNAMIC_REMOVABLE: &[&str] = &[
    "/ip/dhcp-server/lease",
    "/ip/arp",
    "/ip/firewall/address-list",
];

/// Menus with `make-static`, which turns a dynamic entry into configuration.
pub(crate) const MAKE_STATIC: &[&str] = &["/ip/dhcp-server/lease", "/ip/arp"];

fn text<K: AsRef<str>, V: AsRef<str>>(args: &[(K, V)]) -> impl Iterator<Item = (&str, &str)> {
    args.iter().map(|(k, v)| (k.as_ref(), v.as_ref()))
}

impl RouterState {
    /// An empty router (singletons present with defaults) on `clock`; `seed` feeds values the
    /// router generates itself (keys, MAC addresses, counters).
    pub fn new(clock: SimClock, seed: u64) -> Self {
        let mut tables = vec![Table::default(); menus().len()];
        for (i, m) in menus().iter().enumerate() {
            if m.kind == MenuKind::Singleton {
                tables[i].items.push(Item::new(RosId::new(0)));
            }
        }
        RouterState {
            tables,
            clock,
            seed,
            generation: 0,
            packages: Vec::new(),
        }
    }

    /// Installs an optional package, making its menus exist on this device.
    pub fn install_package(&mut self, name: &'static str) {
        if !self.packages.contains(&name) {
            self.packages.push(name);
            self.packages.sort_unstable();
        }
    }

    /// The optional packages installed, sorted.
    pub fn packages(&self) -> &[&'static str] {
        &self.packages
    }

    /// Whether `spec` exists on this device (its package, if any, is installed).
    pub fn has_menu(&self, spec: &MenuSpec) -> bool {
        spec.package.is_none_or(|p| self.packages.contains(&p))
    }

    /// The menu at `path` if it exists on this device.
    pub fn menu(&self, path: &str) -> Option<&'static MenuSpec> {
        menu(path).filter(|m| self.has_menu(m))
    }

    /// The device clock.
    pub fn clock(&self) -> &SimClock {
        &self.clock
    }

    /// The seed of values the router generates.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    /// A counter bumped by every configuration change (cheap change detection).
    pub fn generation(&self) -> u64 {
        self.generation
    }

    fn table(&self, spec: &'static MenuSpec) -> &Table {
        &self.tables[menu_index(storage_of(spec))]
    }

    pub(super) fn table_mut(&mut self, spec: &'static MenuSpec) -> &mut Table {
        &mut self.tables[menu_index(storage_of(spec))]
    }

    // ----------------------------------------------------------------------------------------
    // Reading
    // ----------------------------------------------------------------------------------------

    /// The stored items of `spec` in print order (a view shows its type only).
    pub fn items(&self, spec: &'static MenuSpec) -> impl Iterator<Item = &Item> {
        let filter = spec.view.map(|v| v.type_value);
        self.table(spec)
            .items
            .iter()
            .filter(move |it| filter.is_none_or(|t| it.get("type") == Some(t)))
    }

    /// The stored items of the menu at `path` (nothing for an unknown path).
    pub fn items_of(&self, path: &str) -> Box<dyn Iterator<Item = &Item> + '_> {
        match menu(path) {
            Some(spec) => Box::new(self.items(spec)),
            None => Box::new(std::iter::empty()),
        }
    }

    /// One stored item of `spec`.
    pub fn item(&self, spec: &'static MenuSpec, id: RosId) -> Option<&Item> {
        self.items(spec).find(|it| it.id() == id)
    }

    /// The ids of `spec` in print order (the console numbers items by this order).
    pub fn ids(&self, spec: &'static MenuSpec) -> Vec<RosId> {
        self.items(spec).map(Item::id).collect()
    }

    /// Prints `spec`: every item rendered, filtered by `query`, reduced to `proplist`.
    pub fn print(
        &self,
        spec: &'static MenuSpec,
        query: Option<&Query>,
        proplist: Option<&[String]>,
    ) -> Vec<Record> {
        let ctx = RenderCtx::new(self);
        let mut out = Vec::new();
        for it in self.items(spec) {
            let mut rec = render(&ctx, spec, it);
            if let Some(q) = query
                && !q.matches(spec, &rec)
            {
                continue;
            }
            if let Some(p) = proplist {
                rec.project(p);
            }
            out.push(rec);
        }
        out
    }

    /// Prints one item (`None` for a singleton).
    pub fn get(&self, spec: &'static MenuSpec, id: Option<RosId>) -> Result<Record, RosError> {
        let ctx = RenderCtx::new(self);
        let item = match (spec.kind, id) {
            (MenuKind::Singleton, _) => self.items(spec).next(),
            (MenuKind::List | MenuKind::Ordered, Some(id)) => self.item(spec, id),
            (MenuKind::List | MenuKind::Ordered, None) => None,
        };
        item.map(|it| render(&ctx, spec, it))
            .ok_or(RosError::NoSuchItem)
    }

    /// Resolves one item reference: an id (`*1A`) or, in named menus, a name.
    pub fn resolve(&self, spec: &'static MenuSpec, reference: &str) -> Result<RosId, RosError> {
        let reference = reference.trim();
        if let Some(id) = RosId::parse(reference) {
            return self
                .item(spec, id)
                .map(Item::id)
                .ok_or(RosError::NoSuchItem);
        }
        if spec.named
            && let Some(it) = self
                .items(spec)
                .find(|it| it.get("name") == Some(reference))
        {
            return Ok(it.id());
        }
        Err(RosError::NoSuchItem)
    }

    /// Resolves a comma-separated list of references (`numbers=*1,*2,ether3`).
    pub fn resolve_list(
        &self,
        spec: &'static MenuSpec,
        references: &str,
    ) -> Result<Vec<RosId>, RosError> {
        references
            .split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|r| self.resolve(spec, r))
            .collect()
    }

    /// The ids of the items whose printed record satisfies `pred` (console `find`).
    pub fn find(
        &self,
        spec: &'static MenuSpec,
        mut pred: impl FnMut(&Record) -> bool,
    ) -> Vec<RosId> {
        let ctx = RenderCtx::new(self);
        self.items(spec)
            .filter(|it| pred(&render(&ctx, spec, it)))
            .map(Item::id)
            .collect()
    }

    // ----------------------------------------------------------------------------------------
    // Writing
    // ----------------------------------------------------------------------------------------

    /// Parses, validates and normalises `args` for a write to `spec`. `place-before` is not a
    /// property and is returned apart.
    fn parse_args<K: AsRef<str>, V: AsRef<str>>(
        &self,
        spec: &'static MenuSpec,
        args: &[(K, V)],
    ) -> Result<ParsedArgs, RosError> {
        let mut out: Vec<(&'static str, String)> = Vec::new();
        let mut place_before = None;
        for (k, v) in text(args) {
            if k == "place-before" && spec.kind == MenuKind::Ordered {
                place_before = Some(v.to_string());
                continue;
            }
            let prop = spec
                .props
                .iter()
                .find(|p| p.name == k && p.writable())
                .ok_or_else(|| RosError::UnknownParameter(k.to_string()))?;
            let value = normalize(&prop.ty, prop.name, v)?;
            self.check_refs(&prop.ty, prop.name, &value)?;
            match out.iter_mut().find(|(n, _)| *n == prop.name) {
                Some(slot) => slot.1 = value,
                None => out.push((prop.name, value)),
            }
        }
        Ok((out, place_before))
    }

    fn check_refs(&self, ty: &PropType, arg: &str, value: &str) -> Result<(), RosError> {
        match ty {
            PropType::Ref(r) => self.check_ref(r, arg, value),
            PropType::Gateway => {
                for word in value.split(',').filter(|w| !w.is_empty()) {
                    let ok = if let Some((ip, iface)) = word.split_once('%') {
                        ip.parse::<Ipv4Addr>().is_ok() && self.name_exists("/interface", iface)
                    } else {
                        word.parse::<Ipv4Addr>().is_ok() || self.name_exists("/interface", word)
                    };
                    if !ok {
                        return Err(RosError::InvalidValue(arg.to_string()));
                    }
                }
                Ok(())
            }
            _ => Ok(()),
        }
    }

    fn check_ref(&self, r: &RefSpec, arg: &str, value: &str) -> Result<(), RosError> {
        let words: Vec<&str> = if r.list {
            value.split(',').filter(|s| !s.is_empty()).collect()
        } else {
            vec![value]
        };
        for w in words {
            let w = if r.negatable {
                w.strip_prefix('!').unwrap_or(w)
            } else {
                w
            };
            if r.also.contains(&w) || self.name_exists(r.menu, w) {
                continue;
            }
            return Err(RosError::InputDoesNotMatch(arg.to_string()));
        }
        Ok(())
    }

    /// Whether an item called `name` exists in the menu at `path`.
    pub fn name_exists(&self, path: &str, name: &str) -> bool {
        self.items_of(path).any(|it| it.get("name") == Some(name))
    }

    fn effective<'a>(spec: &MenuSpec, item: &'a Item, key: &str) -> Option<&'a str> {
        item.get(key)
            .or_else(|| spec.prop(key).and_then(|p| p.default))
    }

    fn check_unique(&self, spec: &'static MenuSpec, candidate: &Item) -> Result<(), RosError> {
        for u in spec.unique {
            let mine: Vec<Option<&str>> = u
                .keys
                .iter()
                .map(|k| Self::effective(spec, candidate, k))
                .collect();
            if mine.iter().all(Option::is_none) {
                continue;
            }
            let clash = self.table(spec).items.iter().any(|other| {
                other.id() != candidate.id()
                    && u.keys
                        .iter()
                        .zip(&mine)
                        .all(|(k, m)| Self::effective(spec, other, k) == *m)
            });
            if clash {
                return Err(RosError::Failure(u.message.to_string()));
            }
        }
        Ok(())
    }

    pub(super) fn next_id(&mut self, spec: &'static MenuSpec) -> RosId {
        let t = self.table_mut(spec);
        t.last_id += 1;
        RosId::new(t.last_id)
    }

    fn next_dynamic_id(&mut self, spec: &'static MenuSpec) -> RosId {
        let t = self.table_mut(spec);
        t.last_dynamic += 1;
        RosId::new(RosId::DYNAMIC_BASE.wrapping_add(t.last_dynamic))
    }

    /// Console `add`: validates, normalises, checks required and unique properties, and
    /// inserts the item (before `place-before` in ordered menus). Returns the new id.
    pub fn add<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        spec: &'static MenuSpec,
        args: &[(K, V)],
    ) -> Result<RosId, RosError> {
        if !spec.can_add {
            return Err(RosError::NotAcceptable("add".into()));
        }
        let (props, place_before) = self.parse_args(spec, args)?;
        let before = match &place_before {
            Some(r) => Some(self.resolve(spec, r)?),
            None => None,
        };
        let missing: Vec<String> = spec
            .props
            .iter()
            .filter(|p| p.required && !props.iter().any(|(n, _)| *n == p.name))
            .map(|p| p.name.to_string())
            .collect();
        if !missing.is_empty() {
            return Err(RosError::MissingValues(missing));
        }
        // The id is only consumed once the add succeeds.
        let t = self.table(spec);
        let id = RosId::new(t.last_id + 1);
        let mut item = Item::new(id);
        if let Some(v) = spec.view {
            item.set("type", v.type_value);
        }
        let explicit: Vec<&'static str> = props.iter().map(|(n, _)| *n).collect();
        for (n, v) in props {
            item.set(n, v);
        }
        if let Some(hook) = spec.on_write {
            let ctx = WriteCtx {
                state: self,
                menu: spec,
                explicit: &explicit,
                adding: true,
            };
            hook(&ctx, &mut item)?;
        }
        self.check_unique(spec, &item)?;
        let id = self.next_id(spec);
        let t = self.table_mut(spec);
        let pos = before
            .and_then(|b| t.items.iter().position(|it| it.id() == b))
            .unwrap_or(t.items.len());
        t.items.insert(pos, item);
        self.after_change(spec);
        Ok(id)
    }

    /// Console `set` on one item (`None` for a singleton).
    pub fn set<K: AsRef<str>, V: AsRef<str>>(
        &mut self,
        spec: &'static MenuSpec,
        id: Option<RosId>,
        args: &[(K, V)],
    ) -> Result<(), RosError> {
        if !spec.can_set {
            return Err(RosError::NotAcceptable("set".into()));
        }
        let (props, place_before) = self.parse_args(spec, args)?;
        if place_before.is_some() {
            return Err(RosError::UnknownParameter("place-before".into()));
        }
        let current = self.locate(spec, id)?;
        let mut item = current.clone();
        let old_name = item.get("name").map(str::to_string);
        let explicit: Vec<&'static str> = props.iter().map(|(n, _)| *n).collect();
        for (n, v) in props {
            item.set(n, v);
        }
        if let Some(hook) = spec.on_write {
            let ctx = WriteCtx {
                state: self,
                menu: spec,
                explicit: &explicit,
                adding: false,
            };
            hook(&ctx, &mut item)?;
        }
        self.check_unique(spec, &item)?;
        let new_name = item.get("name").map(str::to_string);
        self.replace(spec, item);
        if let (Some(old), Some(new)) = (old_name, new_name)
            && old != new
            && spec.named
        {
            self.rename_references(storage_of(spec).path, spec, &old, &new);
        }
        self.after_change(spec);
        Ok(())
    }

    /// Console `unset`: drops stored values so defaults show again.
    pub fn unset<S: AsRef<str>>(
        &mut self,
        spec: &'static MenuSpec,
        id: Option<RosId>,
        names: &[S],
    ) -> Result<(), RosError> {
        if !spec.can_set {
            return Err(RosError::NotAcceptable("unset".into()));
        }
        let mut props: Vec<&'static str> = Vec::new();
        for n in names {
            let n = n.as_ref();
            let p = spec
                .props
                .iter()
                .find(|p| p.name == n && p.access == Access::ReadWrite && !p.required)
                .ok_or_else(|| RosError::UnknownParameter(n.to_string()))?;
            props.push(p.name);
        }
        let mut item = self.locate(spec, id)?.clone();
        for p in props {
            item.unset(p);
        }
        self.check_unique(spec, &item)?;
        self.replace(spec, item);
        self.after_change(spec);
        Ok(())
    }

    fn locate(&self, spec: &'static MenuSpec, id: Option<RosId>) -> Result<&Item, RosError> {
        match (spec.kind, id) {
            (MenuKind::Singleton, _) => self.items(spec).next().ok_or(RosError::NoSuchItem),
            (MenuKind::List | MenuKind::Ordered, Some(id)) => {
                self.item(spec, id).ok_or(RosError::NoSuchItem)
            }
            (MenuKind::List | MenuKind::Ordered, None) => {
                Err(RosError::MissingValues(vec!["numbers".into()]))
            }
        }
    }

    fn replace(&mut self, spec: &'static MenuSpec, item: Item) {
        let t = self.table_mut(spec);
        if let Some(slot) = t.items.iter_mut().find(|it| it.id() == item.id()) {
            *slot = item;
        }
    }

    /// Renames references to an item of `storage_path` called `old` in every menu whose
    /// properties refer to it (RouterOS references by id, so names follow renames).
    fn rename_references(&mut self, storage_path: &str, renamed: &MenuSpec, old: &str, new: &str) {
        for (i, m) in menus().iter().enumerate() {
            if m.view.is_some() {
                continue;
            }
            let refs: Vec<(&'static str, RefSpec)> = m
                .props
                .iter()
                .filter_map(|p| match p.ty {
                    PropType::Ref(r) => {
                        let target = menu(r.menu).map(|t| storage_of(t).path);
                        (target == Some(storage_path) || r.menu == renamed.path)
                            .then_some((p.name, r))
                    }
                    _ => None,
                })
                .collect();
            // Views store their items in the base table; their reference properties must be
            // renamed there too.
            let view_refs: Vec<(&'static str, RefSpec)> = menus()
                .iter()
                .filter(|v| v.view.is_some_and(|vs| vs.base == m.path))
                .flat_map(|v| v.props.iter())
                .filter_map(|p| match p.ty {
                    PropType::Ref(r) => {
                        let target = menu(r.menu).map(|t| storage_of(t).path);
                        (target == Some(storage_path)).then_some((p.name, r))
                    }
                    _ => None,
                })
                .collect();
            let gateway_props: Vec<&'static str> = if storage_path == "/interface" {
                m.props
                    .iter()
                    .filter(|p| p.ty == PropType::Gateway)
                    .map(|p| p.name)
                    .collect()
            } else {
                Vec::new()
            };
            if refs.is_empty() && view_refs.is_empty() && gateway_props.is_empty() {
                continue;
            }
            for it in &mut self.tables[i].items {
                for (name, r) in refs.iter().chain(view_refs.iter()) {
                    if let Some(v) = it.get(name) {
                        let renamed = rename_words(v, old, new, r.list || r.negatable);
                        if renamed != v {
                            it.set(name, renamed);
                        }
                    }
                }
                for name in &gateway_props {
                    if let Some(v) = it.get(name) {
                        let renamed = rename_words(v, old, new, true);
                        if renamed != v {
                            it.set(name, renamed);
                        }
                    }
                }
            }
        }
    }

    /// Console `remove`.
    pub fn remove(&mut self, spec: &'static MenuSpec, ids: &[RosId]) -> Result<(), RosError> {
        if !spec.can_remove {
            return Err(RosError::NotAcceptable("remove".into()));
        }
        for id in ids {
            let it = self.item(spec, *id).ok_or(RosError::NoSuchItem)?;
            if it.is_true("dynamic") && !DYNAMIC_REMOVABLE.contains(&spec.path) {
                return Err(RosError::Failure("can not remove dynamic entry".into()));
            }
            if it.is_true("builtin") || it.is_true("default") {
                return Err(RosError::Failure("can not remove builtin entry".into()));
            }
        }
        let t = self.table_mut(spec);
        t.items.retain(|it| !ids.contains(&it.id()));
        self.after_change(spec);
        Ok(())
    }

    /// Console `move`: places `ids` (in that order) before `destination`, or at the end.
    pub fn move_items(
        &mut self,
        spec: &'static MenuSpec,
        ids: &[RosId],
        destination: Option<RosId>,
    ) -> Result<(), RosError> {
        if spec.kind != MenuKind::Ordered {
            return Err(RosError::NotAcceptable("move".into()));
        }
        for id in ids.iter().chain(destination.iter()) {
            if self.item(spec, *id).is_none() {
                return Err(RosError::NoSuchItem);
            }
        }
        let t = self.table_mut(spec);
        let mut moved = Vec::with_capacity(ids.len());
        for id in ids {
            if let Some(pos) = t.items.iter().position(|it| it.id() == *id) {
                moved.push(t.items.remove(pos));
            }
        }
        let pos = destination
            .and_then(|d| t.items.iter().position(|it| it.id() == d))
            .unwrap_or(t.items.len());
        for (i, it) in moved.into_iter().enumerate() {
            t.items.insert(pos + i, it);
        }
        self.after_change(spec);
        Ok(())
    }

    /// Console `make-static` (`/ip/dhcp-server/lease`, `/ip/arp`): the dynamic entries become
    /// configuration, keeping their ids and values.
    pub fn make_static(&mut self, spec: &'static MenuSpec, ids: &[RosId]) -> Result<(), RosError> {
        if !MAKE_STATIC.contains(&spec.path) {
            return Err(RosError::NotAcceptable("make-static".into()));
        }
        for id in ids {
            if self.item(spec, *id).is_none() {
                return Err(RosError::NoSuchItem);
            }
        }
        let t = self.table_mut(spec);
        for it in t.items.iter_mut().filter(|it| ids.contains(&it.id())) {
            it.unset("dynamic");
        }
        self.after_change(spec);
        Ok(())
    }

    /// Console `enable`.
    pub fn enable(&mut self, spec: &'static MenuSpec, ids: &[RosId]) -> Result<(), RosError> {
        self.set_disabled(spec, ids, false)
    }

    /// Console `disable`.
    pub fn disable(&mut self, spec: &'static MenuSpec, ids: &[RosId]) -> Result<(), RosError> {
        self.set_disabled(spec, ids, true)
    }

    fn set_disabled(
        &mut self,
        spec: &'static MenuSpec,
        ids: &[RosId],
        disabled: bool,
    ) -> Result<(), RosError> {
        let cmd = if disabled { "disable" } else { "enable" };
        if !spec.can_set || spec.prop("disabled").is_none_or(|p| !p.writable()) {
            return Err(RosError::NotAcceptable(cmd.into()));
        }
        for id in ids {
            if self.item(spec, *id).is_none() {
                return Err(RosError::NoSuchItem);
            }
        }
        let value = if disabled { "true" } else { "false" };
        for id in ids {
            self.set(spec, Some(*id), &[("disabled", value)])?;
        }
        Ok(())
    }

    /// Bookkeeping after any configuration change: bump the generation and keep derived
    /// dynamic items (connected routes) in step.
    fn after_change(&mut self, spec: &'static MenuSpec) {
        self.generation += 1;
        let store = storage_of(spec).path;
        if store == "/interface" || store == "/ip/address" {
            self.refresh_connected_routes();
        }
        if matches!(
            store,
            "/interface"
                | "/ip/address"
                | "/routing/ospf/instance"
                | "/routing/ospf/area"
                | "/routing/ospf/interface-template"
                | "/routing/ospf/neighbor"
        ) {
            self.refresh_ospf_interfaces();
        }
    }

    /// Recomputes `/routing/ospf/interface` from the interface templates, as RouterOS does:
    /// one dynamic entry per enabled address that an enabled template of an enabled area
    /// matches — by interface (`interfaces=`), by network (`networks=`), by both when both are
    /// set. The entry takes the template's network type, cost, priority and timers; its state
    /// is `passive` or `ptp` where the template says so, else the router's role in the
    /// segment's DR election as its neighbours report it (`dr`, `bdr`, `dr-other`; `dr` when it
    /// has no neighbour there). Entries keep their ids while their template and address stay.
    pub fn refresh_ospf_interfaces(&mut self) {
        let Some(spec) = menu("/routing/ospf/interface") else {
            return;
        };
        // Most routers run no OSPF: nothing to look at on their address and interface changes.
        if self.table(spec).items.is_empty()
            && self
                .items_of("/routing/ospf/interface-template")
                .next()
                .is_none()
        {
            return;
        }
        let enabled = |it: &&Item| !it.is_true("disabled");
        let areas: Vec<String> = self
            .items_of("/routing/ospf/area")
            .filter(enabled)
            .filter(|a| {
                a.get("instance").is_some_and(|i| {
                    self.items_of("/routing/ospf/instance")
                        .any(|x| x.get("name") == Some(i) && !x.is_true("disabled"))
                })
            })
            .filter_map(|a| a.get("name").map(str::to_string))
            .collect();
        let addresses: Vec<(RosId, Ipv4Addr, u8, String)> = self
            .items_of("/ip/address")
            .filter(enabled)
            .filter_map(|a| {
                let (ip, len) = parse_prefix(a.get("address")?)?;
                let iface = a.get("interface")?;
                Some((a.id(), ip, len, iface.to_string()))
            })
            .filter(|(_, _, _, iface)| self.name_exists("/interface", iface))
            .collect();
        let neighbours: Vec<(Ipv4Addr, String, String)> = self
            .items_of("/routing/ospf/neighbor")
            .filter_map(|n| {
                let addr = n.get("address")?.parse().ok()?;
                let field = |k: &str| n.get(k).unwrap_or("").to_string();
                Some((addr, field("dr"), field("bdr")))
            })
            .collect();
        let mut wanted: Vec<(String, DerivedProps)> = Vec::new();
        for t in self
            .items_of("/routing/ospf/interface-template")
            .filter(enabled)
        {
            let Some(area) = t.get("area").filter(|a| areas.iter().any(|x| x == a)) else {
                continue;
            };
            let list = |k: &str| -> Vec<String> {
                t.get(k)
                    .unwrap_or("")
                    .split(',')
                    .map(str::trim)
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect()
            };
            let (ifaces, networks) = (list("interfaces"), list("networks"));
            let nets: Vec<(Ipv4Addr, u8)> =
                networks.iter().filter_map(|n| parse_prefix(n)).collect();
            let get = |k: &str, d: &str| t.get(k).unwrap_or(d).to_string();
            let kind = get("type", "broadcast");
            for (addr_id, ip, len, iface) in &addresses {
                let by_iface = ifaces.iter().any(|i| i == iface || i == "all");
                let by_net = nets
                    .iter()
                    .any(|(n, l)| super::value::contains(*n, *l, *ip));
                let matched = match (ifaces.is_empty(), nets.is_empty()) {
                    (true, true) => true,
                    (false, true) => by_iface,
                    (true, false) => by_net,
                    (false, false) => by_iface && by_net,
                };
                if !matched {
                    continue;
                }
                let state = if t.is_true("passive") {
                    "passive".to_string()
                } else if kind == "broadcast" || kind == "nbma" {
                    let own = ip.to_string();
                    let on_segment: Vec<_> = neighbours
                        .iter()
                        .filter(|(a, _, _)| super::value::contains(*ip, *len, *a))
                        .collect();
                    // Alone on the segment, or elected: DR.
                    if on_segment.is_empty() || on_segment.iter().any(|(_, dr, _)| *dr == own) {
                        "dr".to_string()
                    } else if on_segment.iter().any(|(_, _, bdr)| *bdr == own) {
                        "bdr".to_string()
                    } else {
                        "dr-other".to_string()
                    }
                } else {
                    kind.clone()
                };
                let mut props = vec![
                    ("address", format!("{ip}%{iface}")),
                    ("area", area.to_string()),
                    ("state", state),
                    ("network-type", kind.clone()),
                    ("cost", get("cost", "1")),
                ];
                if kind == "broadcast" || kind == "nbma" {
                    props.push(("priority", get("priority", "128")));
                }
                props.push(("hello-interval", get("hello-interval", "10s")));
                props.push(("dead-interval", get("dead-interval", "40s")));
                props.push(("dynamic", "true".to_string()));
                wanted.push((format!("{}/{}", t.id(), addr_id), props));
            }
        }
        let old = &self.table(spec).items;
        let mut last_dynamic = self.table(spec).last_dynamic;
        let mut items = Vec::with_capacity(wanted.len());
        for (origin, props) in wanted {
            // An entry keeps its id while its template and address stay.
            let id = match old
                .iter()
                .find(|it| it.get("origin") == Some(origin.as_str()))
            {
                Some(it) => it.id(),
                None => {
                    last_dynamic += 1;
                    RosId::new(RosId::DYNAMIC_BASE.wrapping_add(last_dynamic))
                }
            };
            let mut it = Item::new(id);
            for (k, v) in props {
                it.set(k, v);
            }
            it.set("origin", origin);
            items.push(it);
        }
        if items == *old {
            return;
        }
        let t = self.table_mut(spec);
        t.last_dynamic = last_dynamic;
        t.items = items;
        self.generation += 1;
    }

    /// Recomputes the dynamic connected routes from the addresses: one per enabled address on
    /// an existing interface, as RouterOS does (`DAc` in `/ip/route print`).
    pub fn refresh_connected_routes(&mut self) {
        let Some(route_spec) = menu("/ip/route") else {
            return;
        };
        let Some(addr_spec) = menu("/ip/address") else {
            return;
        };
        let mut wanted: Vec<(RosId, String, String, String)> = Vec::new();
        for a in self.items(addr_spec) {
            if a.is_true("disabled") {
                continue;
            }
            let (Some(addr), Some(iface)) = (a.get("address"), a.get("interface")) else {
                continue;
            };
            if !self.name_exists("/interface", iface) {
                continue;
            }
            let Some((ip, len)) = parse_prefix(addr) else {
                continue;
            };
            let net = super::value::mask(ip, len);
            wanted.push((
                a.id(),
                format!("{net}/{len}"),
                iface.to_string(),
                format!("{ip}%{iface}"),
            ));
        }
        let origin_of = |it: &Item| it.get("origin").and_then(RosId::parse);
        let mut changed = false;
        // Drop connected routes whose address went away.
        {
            let keep: Vec<RosId> = wanted.iter().map(|w| w.0).collect();
            let t = self.table_mut(route_spec);
            let before = t.items.len();
            t.items.retain(|it| {
                !it.is_true("connect") || origin_of(it).is_some_and(|o| keep.contains(&o))
            });
            changed |= t.items.len() != before;
        }
        for (origin, dst, iface, local) in wanted {
            let existing = self
                .table(route_spec)
                .items
                .iter()
                .position(|it| it.is_true("connect") && origin_of(it) == Some(origin));
            match existing {
                Some(pos) => {
                    let t = self.table_mut(route_spec);
                    let it = &mut t.items[pos];
                    if it.get("dst-address") != Some(dst.as_str())
                        || it.get("gateway") != Some(iface.as_str())
                    {
                        it.set("dst-address", dst);
                        it.set("gateway", iface.clone());
                        it.set("immediate-gw", iface);
                        it.set("local-address", local);
                        changed = true;
                    }
                }
                None => {
                    let id = self.next_dynamic_id(route_spec);
                    let mut it = Item::new(id);
                    it.set("dst-address", dst);
                    it.set("gateway", iface.clone());
                    it.set("immediate-gw", iface);
                    it.set("local-address", local);
                    it.set("distance", "0");
                    it.set("scope", "10");
                    it.set("dynamic", "true");
                    it.set("connect", "true");
                    it.set("origin", origin.to_string());
                    self.table_mut(route_spec).items.push(it);
                    changed = true;
                }
            }
        }
        if changed {
            self.generation += 1;
        }
    }

    // ----------------------------------------------------------------------------------------
    // Trusted writes (profiles, the device itself)
    // ----------------------------------------------------------------------------------------

    /// Inserts an item without validation, for profiles that generate known-good configuration
    /// (thousands of rules would otherwise pay a uniqueness scan each). Property names must exist
    /// in the menu. Items with `dynamic=true` get ids from the dynamic range.
    pub fn insert_raw(&mut self, path: &str, props: &[(&str, &str)]) -> Result<RosId, RosError> {
        let spec = menu(path).ok_or(RosError::NoSuchCommandPrefix)?;
        let dynamic = props.iter().any(|(k, v)| *k == "dynamic" && *v == "true");
        let id = if dynamic {
            self.next_dynamic_id(spec)
        } else {
            self.next_id(spec)
        };
        let mut item = Item::new(id);
        if let Some(v) = spec.view {
            item.set("type", v.type_value);
        }
        for (k, v) in props {
            let p = spec
                .props
                .iter()
                .find(|p| p.name == *k)
                .ok_or_else(|| RosError::UnknownParameter((*k).to_string()))?;
            item.set(p.name, *v);
        }
        match spec.kind {
            MenuKind::Singleton => {
                let t = self.table_mut(spec);
                let mut merged = t
                    .items
                    .first()
                    .cloned()
                    .unwrap_or_else(|| Item::new(RosId::new(0)));
                for (k, v) in item.stored() {
                    merged.set(k, v);
                }
                t.items = vec![merged];
            }
            MenuKind::List | MenuKind::Ordered => self.table_mut(spec).items.push(item),
        }
        self.after_change(spec);
        Ok(id)
    }

    /// Sets one stored value without validation (live values the device maintains, such as a
    /// user's `last-logged-in` or a scheduler's `run-count`). Does not count as a configuration
    /// change unless the property is configuration.
    pub fn set_raw(
        &mut self,
        spec: &'static MenuSpec,
        id: Option<RosId>,
        name: &str,
        value: &str,
    ) -> Result<(), RosError> {
        let p = spec
            .props
            .iter()
            .find(|p| p.name == name)
            .ok_or_else(|| RosError::UnknownParameter(name.to_string()))?;
        let kind = spec.kind;
        let t = self.table_mut(spec);
        let item = match (kind, id) {
            (MenuKind::Singleton, _) => t.items.first_mut(),
            (_, Some(id)) => t.items.iter_mut().find(|it| it.id() == id),
            (_, None) => None,
        }
        .ok_or(RosError::NoSuchItem)?;
        item.set(p.name, value);
        if !p.volatile {
            self.generation += 1;
        }
        Ok(())
    }

    /// Appends a line to `/log` (RouterOS keeps the last 1000 lines in memory).
    pub fn log(&mut self, topics: &str, message: &str) {
        let Some(spec) = menu("/log") else {
            return;
        };
        let time = self.clock.now().format("%Y-%m-%d %H:%M:%S").to_string();
        let id = self.next_id(spec);
        let mut it = Item::new(id);
        it.set("time", time);
        it.set("topics", topics);
        it.set("message", message);
        let t = self.table_mut(spec);
        t.items.push(it);
        if t.items.len() > LOG_MEMORY_LINES {
            let excess = t.items.len() - LOG_MEMORY_LINES;
            t.items.drain(..excess);
        }
    }

    /// Forgets what a reboot forgets: the in-memory log.
    pub fn clear_log(&mut self) {
        if let Some(spec) = menu("/log") {
            self.table_mut(spec).items.clear();
        }
    }

    // ----------------------------------------------------------------------------------------
    // Users
    // ----------------------------------------------------------------------------------------

    /// Checks a login against `/user` and `/user/group`: the user exists, is enabled, the
    /// password matches and the group has `policy` (`rest-api`, `ssh`, …).
    pub fn authenticate(
        &self,
        name: &str,
        password: &str,
        policy: &str,
    ) -> Result<UserInfo, LoginFailure> {
        let user = self
            .items_of("/user")
            .find(|u| u.get("name") == Some(name))
            .ok_or(LoginFailure::BadCredentials)?;
        if user.is_true("disabled") {
            return Err(LoginFailure::BadCredentials);
        }
        let stored = user.get("password").unwrap_or("");
        if !constant_time_eq(stored.as_bytes(), password.as_bytes()) {
            return Err(LoginFailure::BadCredentials);
        }
        let group = user.get("group").unwrap_or("read").to_string();
        let policies: Vec<String> = self
            .items_of("/user/group")
            .find(|g| g.get("name") == Some(group.as_str()))
            .and_then(|g| g.get("policy"))
            .unwrap_or("")
            .split(',')
            .filter(|p| !p.is_empty() && !p.starts_with('!'))
            .map(str::to_string)
            .collect();
        let info = UserInfo {
            name: name.to_string(),
            group,
            policies,
        };
        if !info.has(policy) {
            return Err(LoginFailure::PolicyDenied);
        }
        Ok(info)
    }

    /// Records a successful login the way RouterOS does: `last-logged-in` and a log line
    /// `user admin logged in from 10.0.0.5 via rest-api`.
    pub fn record_login(&mut self, user: &str, from: &str, via: &str) {
        let now = self.clock.now().format("%Y-%m-%d %H:%M:%S").to_string();
        if let Some(spec) = menu("/user") {
            let id = self
                .items(spec)
                .find(|u| u.get("name") == Some(user))
                .map(Item::id);
            if let Some(id) = id {
                // `last-logged-in` is a known volatile property of /user.
                let _ = self.set_raw(spec, Some(id), "last-logged-in", &now);
            }
        }
        self.log(
            "system,info,account",
            &format!("user {user} logged in from {from} via {via}"),
        );
    }

    /// Opens a `/user/active` entry for a login of `user` from `address` over `via` (`ssh`,
    /// `rest-api`). Sessions are live state, not configuration: they change no generation.
    pub fn open_session(&mut self, user: &str, address: &str, via: &str) -> Option<RosId> {
        let spec = menu("/user/active")?;
        let group = self
            .items_of("/user")
            .find(|u| u.get("name") == Some(user))
            .and_then(|u| u.get("group"))
            .unwrap_or("read")
            .to_string();
        let when = self.clock.now().format("%Y-%m-%d %H:%M:%S").to_string();
        let id = self.next_id(spec);
        let mut item = Item::new(id);
        item.set("when", when);
        item.set("name", user);
        item.set("address", address);
        item.set("via", via);
        item.set("group", group);
        self.table_mut(spec).items.push(item);
        Some(id)
    }

    /// Closes a `/user/active` entry (the session ended).
    pub fn close_session(&mut self, id: RosId) {
        if let Some(spec) = menu("/user/active") {
            self.table_mut(spec).items.retain(|it| it.id() != id);
        }
    }

    // ----------------------------------------------------------------------------------------
    // State dump
    // ----------------------------------------------------------------------------------------

    /// The whole configuration as a stable, serialisable tree: menu path → object (singletons)
    /// or list of items. Without `volatile`, only configuration: no status menus, no dynamic
    /// items, no counters or timestamps. Sensitive values (passwords, keys) appear as a short
    /// SHA-256 fingerprint so changes stay visible without revealing them.
    pub fn dump(&self, volatile: bool) -> StateDump {
        let ctx = RenderCtx::new(self);
        let mut out = BTreeMap::new();
        for spec in menus() {
            if (!volatile && !spec.in_dump) || !self.has_menu(spec) {
                continue;
            }
            let mut records = Vec::new();
            for it in self.items(spec) {
                if !volatile && it.is_true("dynamic") {
                    continue;
                }
                let mut rec = render(&ctx, spec, it);
                rec.props
                    .retain(|(k, _)| spec.prop(k).is_some_and(|p| volatile || !p.volatile));
                for p in spec.props.iter().filter(|p| p.sensitive) {
                    let stored = it.get(p.name);
                    match stored {
                        Some(v) if !v.is_empty() => {
                            let fp = fingerprint(v);
                            match rec.props.iter_mut().find(|(k, _)| *k == p.name) {
                                Some(slot) => slot.1 = fp,
                                None => rec.props.push((p.name, fp)),
                            }
                        }
                        _ => {}
                    }
                }
                records.push(rec);
            }
            let entry = match spec.kind {
                MenuKind::Singleton => match records.into_iter().next() {
                    Some(r) => DumpMenu::Object(r),
                    None => continue,
                },
                MenuKind::List | MenuKind::Ordered => DumpMenu::List(records),
            };
            out.insert(spec.path, entry);
        }
        StateDump(out)
    }
}

fn rename_words(value: &str, old: &str, new: &str, list: bool) -> String {
    if !list {
        return if value == old {
            new.to_string()
        } else {
            value.to_string()
        };
    }
    value
        .split(',')
        .map(|w| {
            let (neg, body) = match w.strip_prefix('!') {
                Some(b) => ("!", b),
                None => ("", w),
            };
            if body == old {
                format!("{neg}{new}")
            } else if let Some((ip, iface)) = body.split_once('%') {
                if iface == old {
                    format!("{neg}{ip}%{new}")
                } else {
                    w.to_string()
                }
            } else {
                w.to_string()
            }
        })
        .collect::<Vec<_>>()
        .join(",")
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A short, stable stand-in for a secret in dumps: `sha256:` and 16 hex digits.
pub fn fingerprint(secret: &str) -> String {
    let digest = Sha256::digest(secret.as_bytes());
    format!("sha256:{}", hex::encode(&digest[..8]))
}

/// One menu in a [`StateDump`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DumpMenu {
    /// A singleton menu.
    Object(Record),
    /// A list menu, in print order.
    List(Vec<Record>),
}

/// The configuration tree of a device, serialisable as JSON with stable ordering.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateDump(pub BTreeMap<&'static str, DumpMenu>);

impl StateDump {
    /// The dump of one menu.
    pub fn menu(&self, path: &str) -> Option<&DumpMenu> {
        self.0.get(path)
    }

    /// Compact JSON text (byte-identical for identical configurations).
    pub fn to_json_string(&self) -> String {
        serde_json::to_string(self).unwrap_or_else(|_| "{}".into())
    }
}

impl Serialize for DumpMenu {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            DumpMenu::Object(r) => r.to_json().serialize(serializer),
            DumpMenu::List(items) => {
                let objs: Vec<_> = items.iter().map(Record::to_json).collect();
                objs.serialize(serializer)
            }
        }
    }
}

impl Serialize for StateDump {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}
