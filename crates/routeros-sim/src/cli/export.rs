//! `/export`: the configuration as a RouterOS script, in the layout RouterOS 7 writes.
//!
//! A header (`# <date> <time> by RouterOS <version>`, software id, model and serial number),
//! then one section per menu (`/ip address`) with `add …` lines for added items and `set …`
//! lines for built-in ones (`set [ find default-name=ether1 ] …`) and singletons. Compact (the
//! default) writes only values that differ from defaults; `verbose` writes every settable value.
//! Sensitive values (keys, secrets) are left out unless `show-sensitive`. Arguments are sorted
//! by name and long lines are wrapped near 80 columns with ` \` continuation lines indented by
//! four spaces; strings are quoted and escaped so that importing the export gives the same
//! configuration back.

use crate::model::{self as mspec, Access, Item, MenuKind, MenuSpec, RouterState};

/// What to export.
#[derive(Debug, Clone, Default)]
pub struct ExportOptions {
    /// Every settable value, defaults included.
    pub verbose: bool,
    /// Include sensitive values (hidden by default since RouterOS 7.1).
    pub show_sensitive: bool,
    /// One line per command with the full menu path, no wrapping.
    pub terse: bool,
    /// Only this menu and the menus below it (`/ip address export`).
    pub under: Option<String>,
}

/// Where RouterOS puts each menu in an export; menus not listed follow in table order.
const ORDER: &[&str] = &[
    "/interface/bridge",
    "/interface/ethernet",
    "/interface/wireguard",
    "/interface/vlan",
    "/interface/wifi/channel",
    "/interface/wifi/security",
    "/interface/wifi/configuration",
    "/interface/wifi",
    "/interface/list",
    "/ip/pool",
    "/ip/dhcp-server",
    "/interface/bridge/port",
    "/interface/bridge/vlan",
    "/interface/list/member",
    "/interface/wireguard/peers",
    "/ip/address",
    "/ip/dhcp-client",
    "/ip/dhcp-server/lease",
    "/ip/dhcp-server/network",
    "/ip/dns",
    "/ip/dns/static",
    "/ip/firewall/address-list",
    "/ip/firewall/filter",
    "/ip/firewall/mangle",
    "/ip/firewall/nat",
    "/ip/firewall/raw",
    "/ip/route",
    "/ip/service",
    "/ipv6/address",
    "/ipv6/route",
    "/system/clock",
    "/system/identity",
    "/system/logging",
    "/system/ntp/client",
    "/system/scheduler",
    "/system/script",
];

/// Menus RouterOS never exports (status, logs, accounts).
const NEVER: &[&str] = &[
    "/certificate",
    "/log",
    "/user",
    "/user/active",
    "/system/resource",
    "/system/routerboard",
    "/system/health",
    "/system/history",
];

/// Longest export line including the trailing `\`.
const WIDTH: usize = 80;

/// Exports `state`.
pub fn export(state: &RouterState, opts: &ExportOptions) -> String {
    let mut out = header(state);
    for menu in ordered_menus() {
        if let Some(under) = &opts.under
            && menu.path != under
            && !menu.path.starts_with(&format!("{under}/"))
        {
            continue;
        }
        let lines = menu_lines(state, menu, opts);
        if lines.is_empty() {
            continue;
        }
        let console_path = menu.path.replace('/', " ").trim().to_string();
        if opts.terse {
            for l in lines {
                out.push_str(&format!("/{console_path} {}\n", l.join(" ")));
            }
        } else {
            out.push_str(&format!("/{console_path}\n"));
            for l in lines {
                out.push_str(&wrap(&l));
            }
        }
    }
    out
}

fn ordered_menus() -> Vec<&'static MenuSpec> {
    let all = mspec::menus();
    let mut out: Vec<&'static MenuSpec> = ORDER
        .iter()
        .filter_map(|p| all.iter().find(|m| m.path == *p))
        .collect();
    for m in all {
        if !ORDER.contains(&m.path) {
            out.push(m);
        }
    }
    out.retain(|m| m.in_dump && !NEVER.contains(&m.path) && (m.can_set || m.can_add));
    out
}

fn header(state: &RouterState) -> String {
    let now = state.clock().now().format("%Y-%m-%d %H:%M:%S");
    let get = |path: &str, prop: &str| -> Option<String> {
        let spec = mspec::menu(path)?;
        state.get(spec, None).ok()?.get(prop).map(|v| v.to_string())
    };
    let version = get("/system/resource", "version").unwrap_or_else(|| "7.16.2".into());
    let version = version.split_whitespace().next().unwrap_or("7").to_string();
    let mut h = format!("# {now} by RouterOS {version}\n");
    let software_id =
        get("/system/license", "software-id").unwrap_or_else(|| software_id(state.seed()));
    h.push_str(&format!("# software id = {software_id}\n#\n"));
    if get("/system/routerboard", "routerboard").as_deref() == Some("true") {
        if let Some(model) = get("/system/routerboard", "model") {
            h.push_str(&format!("# model = {model}\n"));
        }
        if let Some(serial) = get("/system/routerboard", "serial-number") {
            h.push_str(&format!("# serial number = {serial}\n"));
        }
    }
    h
}

/// A stable software id derived from the device seed (`ABCD-1234` shape).
pub fn software_id(seed: u64) -> String {
    const ALPHA: &[u8] = b"0123456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    let mut x = seed ^ 0x5DEE_CE66_D1CE_4E5B;
    let mut s = String::new();
    for i in 0..8 {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        if i == 4 {
            s.push('-');
        }
        s.push(ALPHA[(x >> 33) as usize % ALPHA.len()] as char);
    }
    s
}

/// Whether `item` is one the router made itself (ports, default services), exported with `set`.
fn builtin(menu: &MenuSpec, item: &Item) -> bool {
    !menu.can_add || item.is_true("builtin") || item.is_true("default")
}

/// Properties of built-in items that identify them or come from the factory (hardware facts,
/// default ports and rules); compact export leaves them out.
fn factory_prop(menu: &MenuSpec, item: &Item, name: &str, value: &str) -> bool {
    if matches!(
        name,
        "default-name" | "mac-address" | "orig-mac-address" | "type" | "builtin" | "default"
    ) {
        return true;
    }
    match (menu.path, name) {
        ("/interface/ethernet", "l2mtu" | "speed" | "advertise") => true,
        ("/ip/service", "port") => {
            let factory = match item.get("name").unwrap_or("") {
                "telnet" => "23",
                "ftp" => "21",
                "www" => "80",
                "ssh" => "22",
                "www-ssl" => "443",
                "api" => "8728",
                "winbox" => "8291",
                "api-ssl" => "8729",
                _ => "",
            };
            value == factory
        }
        ("/ip/service", "tls-version") => value == "any",
        ("/system/logging", "topics" | "action" | "prefix") => true,
        (
            "/system/logging/action",
            "target" | "memory-lines" | "disk-lines-per-file" | "remember",
        ) => true,
        ("/ppp/profile", "use-encryption") => true,
        ("/routing/bgp/template", "as") => value == "65530",
        ("/ip/vrf", "interfaces") | ("/ipv6/nd", "interface") => value == "all",
        ("/queue/type", "kind" | "pfifo-limit" | "pcq-rate" | "pcq-classifier") => true,
        ("/interface/wifi", "l2mtu" | "radio-mac") => true,
        ("/user/group", "policy" | "skin") => true,
        _ => false,
    }
}

fn include_prop(menu: &MenuSpec, name: &str, opts: &ExportOptions) -> bool {
    let Some(p) = menu.prop(name) else {
        return false;
    };
    match p.access {
        Access::ReadWrite => {}
        Access::WriteOnly => {
            if !(p.sensitive && opts.show_sensitive) {
                return false;
            }
        }
        Access::ReadOnly | Access::Hidden => return false,
    }
    !p.sensitive || opts.show_sensitive
}

/// Export spelling of a value: booleans `yes`/`no`, strings quoted when they need it.
fn export_value(menu: &MenuSpec, name: &str, raw: &str) -> String {
    if menu.prop(name).is_some_and(|p| p.ty.is_bool()) {
        return match raw {
            "true" => "yes".into(),
            "false" => "no".into(),
            other => other.into(),
        };
    }
    if needs_quotes(raw) {
        quote_export(raw)
    } else {
        raw.to_string()
    }
}

fn needs_quotes(s: &str) -> bool {
    s.is_empty()
        || !s
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.:/,@*!%+".contains(c))
}

/// Quotes for export: like `print detail`, and bytes outside printable ASCII as `\XX`.
pub fn quote_export(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("\\$"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_ascii() && !c.is_ascii_control() => out.push(c),
            c => {
                let mut buf = [0u8; 4];
                for b in c.encode_utf8(&mut buf).bytes() {
                    out.push_str(&format!("\\{b:02X}"));
                }
            }
        }
    }
    out.push('"');
    out
}

/// The command lines of one menu, each as words: the command, then `name=value` arguments.
fn menu_lines(
    state: &RouterState,
    menu: &'static MenuSpec,
    opts: &ExportOptions,
) -> Vec<Vec<String>> {
    let mut lines = Vec::new();
    let defaults = |name: &str| menu.prop(name).and_then(|p| p.default);
    let args_of = |item: &Item, builtin_item: bool, target_name: Option<&str>| -> Vec<String> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        let skip_builtin = |k: &str, v: &str| {
            builtin_item
                && (factory_prop(menu, item, k, v)
                    || (k == "name"
                        && (target_name == Some(v) || item.get("default-name") == Some(v))))
        };
        if opts.verbose {
            for p in menu.props {
                if !include_prop(menu, p.name, opts)
                    || (builtin_item && matches!(p.name, "default-name" | "builtin" | "default"))
                {
                    continue;
                }
                if let Some(v) = item.get(p.name).or(p.default) {
                    pairs.push((p.name.to_string(), v.to_string()));
                }
            }
        } else {
            for (k, v) in item.stored() {
                // A route always names its destination, even the default one.
                let always = menu.path == "/ip/route" && k == "dst-address";
                if !include_prop(menu, k, opts)
                    || skip_builtin(k, v)
                    || (defaults(k) == Some(v) && !always)
                {
                    continue;
                }
                pairs.push((k.to_string(), v.to_string()));
            }
        }
        pairs.sort_by(|a, b| a.0.cmp(&b.0));
        pairs
            .into_iter()
            .map(|(k, v)| format!("{k}={}", export_value(menu, &k, &v)))
            .collect()
    };
    match menu.kind {
        MenuKind::Singleton => {
            if let Some(item) = state.items(menu).next() {
                let args = args_of(item, false, None);
                if !args.is_empty() {
                    let mut l = vec!["set".to_string()];
                    l.extend(args);
                    lines.push(l);
                }
            }
        }
        MenuKind::List | MenuKind::Ordered => {
            for item in state.items(menu) {
                if item.is_true("dynamic") {
                    continue;
                }
                if builtin(menu, item) {
                    let named = item
                        .get("name")
                        .filter(|_| menu.named && item.get("default-name").is_none());
                    let args = args_of(item, true, named);
                    if args.is_empty() {
                        continue;
                    }
                    let target = if let Some(dn) = item.get("default-name") {
                        format!("[ find default-name={dn} ]")
                    } else if let Some(name) = named {
                        if needs_quotes(name) {
                            quote_export(name)
                        } else {
                            name.to_string()
                        }
                    } else {
                        "[ find ]".to_string()
                    };
                    let mut l = vec!["set".to_string(), target];
                    l.extend(args);
                    lines.push(l);
                } else {
                    let mut l = vec!["add".to_string()];
                    l.extend(args_of(item, false, None));
                    lines.push(l);
                }
            }
        }
    }
    lines
}

/// Wraps one command line at [`WIDTH`]: breaks between arguments or after `name=`, and inside
/// quoted strings (never inside an escape; a space starting a continuation becomes `\_`, and a
/// `\n` escape always starts a new line, as RouterOS does).
fn wrap(words: &[String]) -> String {
    // Atoms: (text, space_before, inside_string)
    let mut atoms: Vec<(String, bool, bool)> = Vec::new();
    for (i, w) in words.iter().enumerate() {
        let space = i > 0;
        match w.split_once('=') {
            Some((k, v)) if v.starts_with('"') && !w.starts_with('[') => {
                atoms.push((format!("{k}=\""), space, false));
                let inner = &v[1..v.len().saturating_sub(1)];
                let mut chars = inner.chars().peekable();
                while let Some(c) = chars.next() {
                    if c == '\\' {
                        let mut esc = String::from("\\");
                        let upper_hex = |c: char| c.is_ascii_digit() || ('A'..='F').contains(&c);
                        if let Some(n) = chars.next() {
                            esc.push(n);
                            if upper_hex(n)
                                && let Some(&m) = chars.peek()
                                && upper_hex(m)
                            {
                                esc.push(m);
                                chars.next();
                            }
                        }
                        atoms.push((esc, false, true));
                    } else {
                        atoms.push((c.to_string(), false, true));
                    }
                }
                atoms.push(("\"".to_string(), false, false));
            }
            Some((k, v)) if !w.starts_with('[') => {
                atoms.push((format!("{k}="), space, false));
                atoms.push((v.to_string(), false, false));
            }
            _ => atoms.push((w.clone(), space, false)),
        }
    }
    let mut out = String::new();
    let mut line = String::new();
    let mut line_len = 0usize;
    let mut at_line_start = true;
    for (text, space, in_string) in atoms {
        let force = in_string && text == "\\n" && !at_line_start;
        let needed = text.chars().count() + usize::from(space);
        if force || (!at_line_start && line_len + needed > WIDTH - 2) {
            out.push_str(&line);
            // Between arguments the separating space stays before the backslash.
            if space {
                out.push(' ');
            }
            out.push_str("\\\n");
            line = "    ".to_string();
            line_len = 4;
            at_line_start = true;
        }
        if space && !at_line_start {
            line.push(' ');
            line_len += 1;
        }
        if at_line_start && in_string && text == " " {
            line.push_str("\\_");
            line_len += 2;
        } else {
            line.push_str(&text);
            line_len += text.chars().count();
        }
        at_line_start = false;
    }
    out.push_str(&line);
    out.push('\n');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_and_escapes() {
        assert!(!needs_quotes("192.168.88.1/24"));
        assert!(!needs_quotes("!LAN"));
        assert!(needs_quotes("defconf: drop"));
        assert!(needs_quotes(""));
        assert_eq!(quote_export("a \"b\" $c\nd"), "\"a \\\"b\\\" \\$c\\nd\"");
        assert_eq!(quote_export("é"), "\"\\C3\\A9\"");
    }

    #[test]
    fn wrapping_breaks_after_name_and_inside_strings() {
        let words: Vec<String> = vec![
            "add".into(),
            "dont-require-permissions=no".into(),
            "name=preparation".into(),
            "owner=admin".into(),
            "policy=ftp,reboot,read,write,policy,test,password,sniff,sensitive,romon".into(),
        ];
        let text = wrap(&words);
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "add dont-require-permissions=no name=preparation owner=admin policy=\\"
        );
        assert_eq!(
            lines[1],
            "    ftp,reboot,read,write,policy,test,password,sniff,sensitive,romon"
        );
        assert!(lines.iter().all(|l| l.chars().count() <= WIDTH));

        let long = format!("source=\"{}\\n:put 1\"", "x ".repeat(60));
        let text = wrap(&["add".into(), long]);
        assert!(text.lines().all(|l| l.chars().count() <= WIDTH), "{text}");
        assert!(text.contains("\\\n    \\n:put 1\""), "{text}");
        assert!(
            text.contains("\\_") || !text.contains("\\\n     "),
            "{text}"
        );
    }
}
