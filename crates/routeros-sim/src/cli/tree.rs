//! The console's command tree: which menus exist, which commands each menu offers, and which
//! parameters each command takes.
//!
//! The menus and their properties come from the configuration model's menu table (so the CLI,
//! REST and the model never disagree about what exists); the commands per menu kind (`print`,
//! `add`, `set`, …, plus specials such as `/system reboot` or `/system script run`) and their
//! argument shapes are console knowledge and live here. The parser resolves every word against
//! this tree, including RouterOS's unambiguous-prefix abbreviations (`/ip addr pr`).

use std::collections::BTreeMap;

/// What kind of menu a node is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeKind {
    /// A directory with submenus only (`/ip`, `/system`).
    Dir,
    /// A menu of items with ids (`/ip/address`).
    List {
        /// Items keep their order and can be moved (firewall rules).
        ordered: bool,
        /// `add` exists.
        can_add: bool,
        /// `set` (and `enable`/`disable`, `unset`, `comment`) exist.
        can_set: bool,
        /// `remove` exists.
        can_remove: bool,
    },
    /// A menu with exactly one set of properties (`/system/identity`).
    Singleton {
        /// Properties can be changed.
        writable: bool,
    },
}

/// One menu of the tree.
#[derive(Debug, Clone)]
pub struct MenuInfo {
    /// Canonical path without leading slash (`ip/address`).
    pub path: String,
    /// Its kind.
    pub kind: NodeKind,
    /// Property names a user can set (`add`/`set` parameters).
    pub settable: Vec<String>,
    /// Every property name (for `get`, `print proplist=` and `where`).
    pub readable: Vec<String>,
}

/// How a command treats input after its arguments.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FilterMode {
    /// No filter expression.
    None,
    /// `where <expr>` may end the command (`print`).
    Where,
    /// Everything after the command is a filter expression, `where` optional (`find`).
    Find,
}

/// The argument shape of one command.
#[derive(Debug, Clone)]
pub struct CmdSpec {
    /// Canonical command name.
    pub name: &'static str,
    /// Unnamed parameters in order (`set 0 …` fills `numbers`).
    pub positional: &'static [&'static str],
    /// Valueless parameters (`print detail`).
    pub flags: &'static [&'static str],
    /// Other named parameters of the command itself.
    pub named: &'static [&'static str],
    /// Whether the menu's settable properties are parameters too (`add`, `set`).
    pub props: bool,
    /// Filter expression handling.
    pub filter: FilterMode,
}

const PRINT_FLAGS: &[&str] = &[
    "all",
    "as-value",
    "brief",
    "count-only",
    "detail",
    "dynamic",
    "show-ids",
    "static",
    "stats",
    "stats-detail",
    "terse",
    "value-list",
    "without-paging",
];
const PRINT_NAMED: &[&str] = &[
    "append",
    "file",
    "follow",
    "follow-only",
    "from",
    "interval",
    "proplist",
];
const EXPORT_FLAGS: &[&str] = &[
    "compact",
    "hide-sensitive",
    "show-sensitive",
    "terse",
    "verbose",
];

fn print_cmd() -> CmdSpec {
    CmdSpec {
        name: "print",
        positional: &[],
        flags: PRINT_FLAGS,
        named: PRINT_NAMED,
        props: false,
        filter: FilterMode::Where,
    }
}

fn simple(name: &'static str, positional: &'static [&'static str]) -> CmdSpec {
    CmdSpec {
        name,
        positional,
        flags: &[],
        named: &[],
        props: false,
        filter: FilterMode::None,
    }
}

fn export_cmd() -> CmdSpec {
    CmdSpec {
        name: "export",
        positional: &[],
        flags: EXPORT_FLAGS,
        named: &["file"],
        props: false,
        filter: FilterMode::None,
    }
}

/// The console command tree built from the model's menus.
#[derive(Debug, Clone, Default)]
pub struct Tree {
    nodes: BTreeMap<String, MenuInfo>,
}

impl Tree {
    /// Builds the tree; parent directories of every menu are added as [`NodeKind::Dir`].
    pub fn new(menus: impl IntoIterator<Item = MenuInfo>) -> Self {
        let mut nodes = BTreeMap::new();
        nodes.insert(
            String::new(),
            MenuInfo {
                path: String::new(),
                kind: NodeKind::Dir,
                settable: vec![],
                readable: vec![],
            },
        );
        for m in menus {
            let mut prefix = String::new();
            for part in m.path.split('/') {
                if !prefix.is_empty() {
                    prefix.push('/');
                }
                prefix.push_str(part);
                nodes.entry(prefix.clone()).or_insert_with(|| MenuInfo {
                    path: prefix.clone(),
                    kind: NodeKind::Dir,
                    settable: vec![],
                    readable: vec![],
                });
            }
            nodes.insert(m.path.clone(), m);
        }
        // Menus that hold only commands (`/tool traceroute`): no configuration, so not in the
        // model's table, but the console knows them.
        for dir in ["tool", "system/backup"] {
            nodes.entry(dir.to_owned()).or_insert_with(|| MenuInfo {
                path: dir.to_owned(),
                kind: NodeKind::Dir,
                settable: vec![],
                readable: vec![],
            });
        }
        Self { nodes }
    }

    /// The menu at `path`, if it exists.
    pub fn menu(&self, path: &str) -> Option<&MenuInfo> {
        self.nodes.get(path)
    }

    /// Names of the direct submenus of `path`.
    pub fn submenus(&self, path: &str) -> Vec<&str> {
        let prefix = if path.is_empty() {
            String::new()
        } else {
            format!("{path}/")
        };
        self.nodes
            .keys()
            .filter_map(|k| {
                let rest = k.strip_prefix(&prefix)?;
                (!rest.is_empty() && !rest.contains('/')).then_some(rest)
            })
            .collect()
    }

    /// The commands available in `path`.
    pub fn commands(&self, path: &str) -> Vec<CmdSpec> {
        let Some(node) = self.nodes.get(path) else {
            return Vec::new();
        };
        let has_disabled = node.settable.iter().any(|p| p == "disabled");
        let mut cmds = Vec::new();
        match node.kind {
            NodeKind::Dir => {
                cmds.push(export_cmd());
            }
            NodeKind::Singleton { writable } => {
                cmds.push(print_cmd());
                cmds.push(simple("get", &["value-name"]));
                cmds.push(export_cmd());
                if writable {
                    cmds.push(CmdSpec {
                        name: "set",
                        positional: &[],
                        flags: &[],
                        named: &[],
                        props: true,
                        filter: FilterMode::None,
                    });
                }
            }
            NodeKind::List {
                ordered,
                can_add,
                can_set,
                can_remove,
            } => {
                cmds.push(print_cmd());
                cmds.push(CmdSpec {
                    name: "find",
                    positional: &[],
                    flags: &[],
                    named: &[],
                    props: false,
                    filter: FilterMode::Find,
                });
                cmds.push(simple("get", &["numbers", "value-name"]));
                cmds.push(export_cmd());
                if can_add {
                    cmds.push(CmdSpec {
                        name: "add",
                        positional: &[],
                        flags: &[],
                        named: if ordered {
                            &["copy-from", "place-before"]
                        } else {
                            &["copy-from"]
                        },
                        props: true,
                        filter: FilterMode::None,
                    });
                }
                if can_set {
                    cmds.push(CmdSpec {
                        name: "set",
                        positional: &["numbers"],
                        flags: &[],
                        named: &[],
                        props: true,
                        filter: FilterMode::None,
                    });
                    cmds.push(simple("unset", &["numbers", "value-name"]));
                    cmds.push(simple("comment", &["numbers", "comment"]));
                    if has_disabled {
                        cmds.push(simple("enable", &["numbers"]));
                        cmds.push(simple("disable", &["numbers"]));
                    }
                }
                if can_remove {
                    cmds.push(simple("remove", &["numbers"]));
                }
                if ordered && can_set {
                    cmds.push(simple("move", &["numbers", "destination"]));
                }
                if crate::model::state::MAKE_STATIC.contains(&format!("/{path}").as_str()) {
                    cmds.push(simple("make-static", &["numbers"]));
                }
            }
        }
        match path {
            "" => {
                cmds.push(CmdSpec {
                    name: "ping",
                    positional: &["address"],
                    flags: &[],
                    named: &[
                        "count",
                        "interface",
                        "interval",
                        "size",
                        "src-address",
                        "ttl",
                        "vrf",
                    ],
                    props: false,
                    filter: FilterMode::None,
                });
                cmds.push(simple("quit", &[]));
            }
            "system" => {
                cmds.push(simple("reboot", &[]));
                cmds.push(simple("shutdown", &[]));
            }
            "system/backup" => cmds.push(CmdSpec {
                name: "save",
                positional: &[],
                flags: &["dont-encrypt"],
                named: &["name", "password", "encryption"],
                props: false,
                filter: FilterMode::None,
            }),
            "system/script" => cmds.push(CmdSpec {
                name: "run",
                positional: &["number"],
                flags: &[],
                named: &[],
                props: false,
                filter: FilterMode::None,
            }),
            "interface" => cmds.push(CmdSpec {
                name: "monitor-traffic",
                positional: &["interface"],
                flags: &["once"],
                named: &["duration"],
                props: false,
                filter: FilterMode::None,
            }),
            "tool" => cmds.push(CmdSpec {
                name: "traceroute",
                positional: &["address"],
                flags: &[],
                named: &["count", "max-hops", "src-address", "timeout"],
                props: false,
                filter: FilterMode::None,
            }),
            _ => {}
        }
        cmds
    }
}

/// The result of resolving one word at a menu.
#[derive(Debug, Clone)]
pub enum Resolved {
    /// A submenu (canonical full path).
    Menu(String),
    /// A command of the current menu.
    Command(CmdSpec),
}

impl Tree {
    /// Resolves `word` at `path`: exact names first, then an unambiguous prefix.
    pub fn resolve(&self, path: &str, word: &str) -> Option<Resolved> {
        let join = |name: &str| {
            if path.is_empty() {
                name.to_string()
            } else {
                format!("{path}/{name}")
            }
        };
        let subs = self.submenus(path);
        let cmds = self.commands(path);
        if let Some(s) = subs.iter().find(|s| **s == word) {
            return Some(Resolved::Menu(join(s)));
        }
        if let Some(c) = cmds.iter().find(|c| c.name == word) {
            return Some(Resolved::Command(c.clone()));
        }
        let sub_matches: Vec<&&str> = subs.iter().filter(|s| s.starts_with(word)).collect();
        let cmd_matches: Vec<&CmdSpec> = cmds.iter().filter(|c| c.name.starts_with(word)).collect();
        match (sub_matches.as_slice(), cmd_matches.as_slice()) {
            ([s], []) => Some(Resolved::Menu(join(s))),
            ([], [c]) => Some(Resolved::Command((*c).clone())),
            _ => None,
        }
    }
}

/// Expands an abbreviated parameter name among `candidates`: an exact match, else a unique prefix.
pub fn expand_name<'a>(
    word: &str,
    candidates: impl IntoIterator<Item = &'a str>,
) -> Option<&'a str> {
    let mut prefix_match: Option<&'a str> = None;
    let mut ambiguous = false;
    for c in candidates {
        if c == word {
            return Some(c);
        }
        if c.starts_with(word) {
            match prefix_match {
                Some(p) if p != c => ambiguous = true,
                _ => prefix_match = Some(c),
            }
        }
    }
    if ambiguous { None } else { prefix_match }
}
