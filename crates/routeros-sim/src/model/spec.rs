//! The data-driven menu table: what each RouterOS menu is and which properties it has.
//!
//! A RouterOS menu (`/ip/address`, `/interface/bridge/port`, …) is fully described by a
//! [`MenuSpec`]: whether it is a singleton, a list or an ordered list, its properties with their
//! RouterOS type, default and access, the columns a console `print` shows, the flags of its
//! legend, which properties make an entry unique and with what failure, and whether items are
//! addressed by `name`. The REST server and the CLI interpreter both read these specs, so a menu
//! added to the table is immediately printable, writable and dumpable through every interface.
//!
//! Specs are `static` and shared by every simulated device; a device stores only item values.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::render::ComputeFn;
use super::state::WriteHook;
use super::value::PropType;

/// How a menu holds its items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuKind {
    /// Exactly one object without an id (`/system/identity`, `/ip/dns`); REST `GET` returns a
    /// bare object.
    Singleton,
    /// Items in id order.
    List,
    /// Items in a user-controlled order that matters (firewall rules): `add place-before=` and
    /// `move` change it.
    Ordered,
}

/// Who may read and write a property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Printed and settable.
    ReadWrite,
    /// Printed, never settable (writes answer `unknown parameter`).
    ReadOnly,
    /// Settable, never printed (passwords: RouterOS does not return them).
    WriteOnly,
    /// Internal simulator state, neither printed nor settable.
    Hidden,
}

/// One property of a menu.
#[derive(Debug, Clone, Copy)]
pub struct PropSpec {
    /// The RouterOS property name (`dst-address`).
    pub name: &'static str,
    /// Its type, which decides validation and normalisation.
    pub ty: PropType,
    /// The value printed when none was set; `None` means the property is omitted until set
    /// (RouterOS omits unset properties instead of printing empty values).
    pub default: Option<&'static str>,
    /// Read/write access.
    pub access: Access,
    /// `add` fails with `missing value(s) of argument(s)` without it.
    pub required: bool,
    /// Hidden by `export hide-sensitive` and fingerprinted in state dumps (keys, secrets).
    pub sensitive: bool,
    /// Changes by itself (counters, uptime, timestamps): left out of the default state dump so
    /// before/after comparisons see configuration only.
    pub volatile: bool,
}

impl PropSpec {
    /// A read-write property without a default.
    pub const fn new(name: &'static str, ty: PropType) -> Self {
        PropSpec {
            name,
            ty,
            default: None,
            access: Access::ReadWrite,
            required: false,
            sensitive: false,
            volatile: false,
        }
    }

    /// Sets the default value.
    pub const fn def(mut self, value: &'static str) -> Self {
        self.default = Some(value);
        self
    }

    /// Makes the property read-only.
    pub const fn ro(mut self) -> Self {
        self.access = Access::ReadOnly;
        self
    }

    /// Makes the property write-only (never printed).
    pub const fn write_only(mut self) -> Self {
        self.access = Access::WriteOnly;
        self
    }

    /// Makes the property internal to the simulator.
    pub const fn hidden(mut self) -> Self {
        self.access = Access::Hidden;
        self
    }

    /// Makes the property required on `add`.
    pub const fn req(mut self) -> Self {
        self.required = true;
        self
    }

    /// Marks the property sensitive.
    pub const fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }

    /// Marks the property volatile (read-only, changes by itself).
    pub const fn volatile(mut self) -> Self {
        self.volatile = true;
        self.access = Access::ReadOnly;
        self
    }

    /// Marks a writable property whose printed value changes by itself (`/system/clock time`).
    pub const fn live(mut self) -> Self {
        self.volatile = true;
        self
    }

    /// Whether `print` shows it.
    pub fn printable(&self) -> bool {
        matches!(self.access, Access::ReadWrite | Access::ReadOnly)
    }

    /// Whether `add`/`set` accept it.
    pub fn writable(&self) -> bool {
        matches!(self.access, Access::ReadWrite | Access::WriteOnly)
    }
}

/// One letter of a console `print` legend (`X - disabled`), shown when the property is `true`.
#[derive(Debug, Clone, Copy)]
pub struct FlagSpec {
    /// The letter printed in the flags column.
    pub letter: char,
    /// The legend word (v7 prints it upper case: `X - DISABLED`).
    pub word: &'static str,
    /// The boolean property the flag reflects.
    pub prop: &'static str,
}

/// A set of properties that must be unique among a menu's items, with RouterOS's failure text
/// (without the `failure: ` prefix the error adds).
#[derive(Debug, Clone, Copy)]
pub struct UniqueSpec {
    /// The properties compared (all must be equal for a clash).
    pub keys: &'static [&'static str],
    /// What RouterOS answers, e.g. `already have such address`.
    pub message: &'static str,
}

/// A menu that shows a filtered part of another menu's items (`/interface/vlan` shows the
/// `/interface` items whose `type` is `vlan`). Ids are shared with the base menu, as on RouterOS.
#[derive(Debug, Clone, Copy)]
pub struct ViewSpec {
    /// The menu that stores the items.
    pub base: &'static str,
    /// The value of the base item's `type` property this view shows.
    pub type_value: &'static str,
}

/// One RouterOS menu.
#[derive(Debug, Clone, Copy)]
pub struct MenuSpec {
    /// The path in slash form, `/ip/firewall/filter`.
    pub path: &'static str,
    /// Singleton, list or ordered list.
    pub kind: MenuKind,
    /// Properties in the order `print detail` shows them.
    pub props: &'static [PropSpec],
    /// The columns a plain console `print` shows, in order.
    pub columns: &'static [&'static str],
    /// The flags legend of a console `print`.
    pub flags: &'static [FlagSpec],
    /// Uniqueness rules checked on `add` and `set`.
    pub unique: &'static [UniqueSpec],
    /// Items can be addressed by their `name` (REST `GET /rest/interface/ether1`,
    /// `numbers=www-ssl`).
    pub named: bool,
    /// `add` exists.
    pub can_add: bool,
    /// `remove` exists.
    pub can_remove: bool,
    /// `set` exists.
    pub can_set: bool,
    /// Items live in another menu's storage (interface type menus).
    pub view: Option<ViewSpec>,
    /// Part of the default (configuration-only) state dump.
    pub in_dump: bool,
    /// Fills computed read-only properties at print time.
    pub compute: Option<ComputeFn>,
    /// Menu-specific validation and derived values on `add`/`set`.
    pub on_write: Option<WriteHook>,
    /// The optional package the menu belongs to (`wifi-qcom`); `None` for menus every
    /// RouterOS 7 device has. A device without the package has no such menu.
    pub package: Option<&'static str>,
}

impl MenuSpec {
    const fn base(path: &'static str, kind: MenuKind, props: &'static [PropSpec]) -> Self {
        MenuSpec {
            path,
            kind,
            props,
            columns: &[],
            flags: &[],
            unique: &[],
            named: false,
            can_add: !matches!(kind, MenuKind::Singleton),
            can_remove: !matches!(kind, MenuKind::Singleton),
            can_set: true,
            view: None,
            in_dump: true,
            compute: None,
            on_write: None,
            package: None,
        }
    }

    /// A singleton menu.
    pub const fn singleton(path: &'static str, props: &'static [PropSpec]) -> Self {
        Self::base(path, MenuKind::Singleton, props)
    }

    /// A list menu.
    pub const fn list(path: &'static str, props: &'static [PropSpec]) -> Self {
        Self::base(path, MenuKind::List, props)
    }

    /// An ordered list menu.
    pub const fn ordered(path: &'static str, props: &'static [PropSpec]) -> Self {
        Self::base(path, MenuKind::Ordered, props)
    }

    /// Sets the console columns.
    pub const fn columns(mut self, columns: &'static [&'static str]) -> Self {
        self.columns = columns;
        self
    }

    /// Sets the flags legend.
    pub const fn flags(mut self, flags: &'static [FlagSpec]) -> Self {
        self.flags = flags;
        self
    }

    /// Sets the uniqueness rules.
    pub const fn unique(mut self, unique: &'static [UniqueSpec]) -> Self {
        self.unique = unique;
        self
    }

    /// Items are addressed by name.
    pub const fn named(mut self) -> Self {
        self.named = true;
        self
    }

    /// A menu of built-in entries: no `add`, no `remove`.
    pub const fn fixed(mut self) -> Self {
        self.can_add = false;
        self.can_remove = false;
        self
    }

    /// A status menu: nothing writable, not configuration.
    pub const fn read_only(mut self) -> Self {
        self.can_add = false;
        self.can_remove = false;
        self.can_set = false;
        self.in_dump = false;
        self
    }

    /// Makes this menu a typed view of `base`.
    pub const fn view_of(mut self, base: &'static str, type_value: &'static str) -> Self {
        self.view = Some(ViewSpec { base, type_value });
        self
    }

    /// Leaves the menu out of the configuration dump (it repeats another menu's items).
    pub const fn not_dumped(mut self) -> Self {
        self.in_dump = false;
        self
    }

    /// Sets the compute hook.
    pub const fn compute(mut self, f: ComputeFn) -> Self {
        self.compute = Some(f);
        self
    }

    /// Sets the write hook.
    pub const fn on_write(mut self, f: WriteHook) -> Self {
        self.on_write = Some(f);
        self
    }

    /// Makes the menu part of an optional package.
    pub const fn package(mut self, name: &'static str) -> Self {
        self.package = Some(name);
        self
    }

    /// The property called `name`, if the menu has it.
    pub fn prop(&self, name: &str) -> Option<&'static PropSpec> {
        let props: &'static [PropSpec] = self.props;
        props.iter().find(|p| p.name == name)
    }

    /// The path segments after the leading slash (`["ip", "address"]`).
    pub fn segments(&self) -> impl Iterator<Item = &'static str> {
        self.path.trim_start_matches('/').split('/')
    }
}

/// Every menu the simulator knows, in a stable order: the core table, then the rest.
pub fn menus() -> &'static [MenuSpec] {
    static ALL: OnceLock<Vec<MenuSpec>> = OnceLock::new();
    ALL.get_or_init(|| {
        super::menus::MENUS
            .iter()
            .chain(super::menus_more::MENUS)
            .copied()
            .collect()
    })
}

fn index() -> &'static HashMap<&'static str, usize> {
    static INDEX: OnceLock<HashMap<&'static str, usize>> = OnceLock::new();
    INDEX.get_or_init(|| {
        menus()
            .iter()
            .enumerate()
            .map(|(i, m)| (m.path, i))
            .collect()
    })
}

/// Looks a menu up by path. Accepts `/ip/address`, `ip/address` and the console's
/// space-separated form `/ip address`.
pub fn menu(path: &str) -> Option<&'static MenuSpec> {
    let trimmed = path.trim();
    let mut canonical = String::with_capacity(trimmed.len() + 1);
    for seg in trimmed.split(['/', ' ']).filter(|s| !s.is_empty()) {
        canonical.push('/');
        canonical.push_str(seg);
    }
    index().get(canonical.as_str()).map(|&i| &menus()[i])
}

/// The position of a menu in [`menus`]; the state stores items per position.
pub fn menu_index(spec: &MenuSpec) -> usize {
    // Every MenuSpec handed out comes from the registry, so its path is indexed.
    index().get(spec.path).copied().unwrap_or(usize::MAX)
}

/// The menu that stores `spec`'s items (itself, or the base of a view).
pub fn storage_of(spec: &'static MenuSpec) -> &'static MenuSpec {
    match spec.view {
        Some(v) => menu(v.base).unwrap_or(spec),
        None => spec,
    }
}

/// Whether a property of this name is sensitive in any menu (passwords, keys, secrets); `Debug`
/// output of items and records redacts such values.
pub fn is_sensitive_name(name: &str) -> bool {
    static NAMES: OnceLock<Vec<&'static str>> = OnceLock::new();
    NAMES
        .get_or_init(|| {
            let mut v: Vec<&'static str> = menus()
                .iter()
                .flat_map(|m| m.props.iter())
                .filter(|p| p.sensitive)
                .map(|p| p.name)
                .collect();
            v.sort_unstable();
            v.dedup();
            v
        })
        .binary_search(&name)
        .is_ok()
}

/// The sub-menus directly below `path` (`/ip` → `address`, `route`, …), for console
/// navigation and completion.
pub fn children(path: &str) -> Vec<&'static str> {
    let prefix = if path == "/" {
        "/".to_string()
    } else {
        format!("{}/", path.trim_end_matches('/'))
    };
    let mut out: Vec<&'static str> = menus()
        .iter()
        .filter_map(|m| m.path.strip_prefix(prefix.as_str()))
        .map(|rest| rest.split('/').next().unwrap_or(rest))
        .collect();
    out.sort_unstable();
    out.dedup();
    out
}
