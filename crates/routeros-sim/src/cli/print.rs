//! Console `print` output in the forms RouterOS 7 produces: the table (`Flags:` legend with the
//! flags actually shown, `Columns:` line, `;;; comment` rows, item numbers), `detail`
//! (`key=value` with strings quoted, wrapped to the terminal width, a blank line between items),
//! `terse` (one `key=value` line per item), `stats` / `stats-detail` (the counters plain and
//! detail prints leave out), singleton menus (right-aligned `key: value`) and `count-only`.
//!
//! Input is what the model renders for REST ([`Record`]s, REST spelling); the console spelling
//! differs only in presentation (`yes`/`no` for booleans, `988.3MiB` for memory sizes), and that
//! translation lives here so REST and the console always show the same data.

use crate::model::{FlagSpec, MenuKind, MenuSpec, PropSpec, PropType, Record};

/// One row of a print: the console item number (or `None` where RouterOS shows none) and the
/// rendered item.
#[derive(Debug, Clone)]
pub struct Row {
    /// Item number as `set 0` understands it.
    pub number: Option<usize>,
    /// The rendered item.
    pub record: Record,
}

/// Presentation options of one print.
#[derive(Debug, Clone, Copy)]
pub struct Style {
    /// Terminal width for wrapping `detail` output.
    pub width: usize,
    /// Show internal ids (`*1A`) instead of item numbers.
    pub show_ids: bool,
    /// A `print stats` table: counters grouped by thousands.
    pub stats: bool,
}

impl Default for Style {
    fn default() -> Self {
        Style {
            width: 80,
            show_ids: false,
            stats: false,
        }
    }
}

/// Properties whose REST value is a byte count the console shows humanised (`988.3MiB`).
const BYTE_SIZES: &[&str] = &[
    "free-memory",
    "total-memory",
    "free-hdd-space",
    "total-hdd-space",
];

/// The console spelling of a property value.
pub fn console_value(menu: &MenuSpec, prop: &str, raw: &str) -> String {
    let spec = menu.prop(prop);
    if spec.is_some_and(|p| p.ty.is_bool()) {
        return match raw {
            "true" => "yes".into(),
            "false" => "no".into(),
            other => other.into(),
        };
    }
    if menu.path == "/ip/firewall/connection" {
        match prop {
            "orig-rate" | "repl-rate" if raw.chars().all(|c| c.is_ascii_digit()) => {
                return bits_per_second(raw.parse().unwrap_or(0));
            }
            p if (p.ends_with("-packets") || p.ends_with("-bytes")) => return grouped(raw),
            _ => {}
        }
    }
    if menu.path == "/file"
        && prop == "size"
        && let Ok(bytes) = raw.parse::<u64>()
    {
        return human_bytes(bytes);
    }
    if menu.path == "/system/resource" {
        if BYTE_SIZES.contains(&prop)
            && let Ok(bytes) = raw.parse::<u64>()
        {
            return human_bytes(bytes);
        }
        match prop {
            "cpu-load" | "bad-blocks" if raw.chars().all(|c| c.is_ascii_digit()) => {
                return format!("{raw}%");
            }
            "cpu-frequency" if raw.chars().all(|c| c.is_ascii_digit()) => {
                return format!("{raw}MHz");
            }
            _ => {}
        }
    }
    raw.to_string()
}

/// `1760bps`, `6.4kbps`, `12.5Mbps`: rates as connection tracking prints them (recorded 7.x
/// `terse`): bits per second below 10 kbps, then one decimal in the next unit.
pub fn bits_per_second(bps: u64) -> String {
    let b = bps as f64;
    if bps < 10_000 {
        format!("{bps}bps")
    } else if bps < 10_000_000 {
        format!("{:.1}kbps", b / 1e3)
    } else if bps < 10_000_000_000 {
        format!("{:.1}Mbps", b / 1e6)
    } else {
        format!("{:.1}Gbps", b / 1e9)
    }
}

/// `988.3MiB`-style sizes: KiB below 10 MiB, MiB below 10 GiB, GiB above, one decimal.
pub fn human_bytes(bytes: u64) -> String {
    const KIB: f64 = 1024.0;
    let b = bytes as f64;
    if bytes < 10 * 1024 {
        format!("{bytes}B")
    } else if b < 10.0 * KIB * KIB {
        format!("{:.1}KiB", b / KIB)
    } else if b < 10.0 * KIB * KIB * KIB {
        format!("{:.1}MiB", b / (KIB * KIB))
    } else {
        format!("{:.1}GiB", b / (KIB * KIB * KIB))
    }
}

/// Quotes a string as `print detail` and `export` do when needed: `"…"` with `\"`, `\\`, `\$`,
/// control characters as `\n`, `\r`, `\t` or `\XX`.
pub fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '$' => out.push_str("\\$"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\{:02X}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Whether `print detail` quotes a value: RouterOS quotes free-text strings (`name`,
/// `log-prefix`, script `source`, …), a few read-only strings (`type`, `default-name`) and any
/// text with a blank (`version="7.19.4 (stable)"`); words that are really choices or references
/// (`chain`, `protocol`, `interface`), numbers and addresses stay bare.
fn quoted_in_detail(spec: Option<&PropSpec>, value: &str) -> bool {
    text_with_blank(spec, value) || quoted_name(spec)
}

/// Whether `print terse` quotes a value: the free-text strings of [`quoted_in_detail`] except the
/// interface names (`name=ether1` as recorded) and text with a blank. The comment stays bare in
/// both (`comment=this is a comment`).
fn quoted_in_terse(spec: Option<&PropSpec>, value: &str) -> bool {
    text_with_blank(spec, value)
        || (quoted_name(spec)
            && !matches!(
                spec.map(|p| p.name),
                Some("name" | "default-name" | "type" | "ifname")
            ))
}

/// Text with a blank, other than the comment, derived status words and timestamps
/// (`last-link-up-time=2024-10-08 11:14:36` stays bare, as recorded).
fn text_with_blank(spec: Option<&PropSpec>, value: &str) -> bool {
    matches!(spec, Some(p) if matches!(p.ty, PropType::Text)
        && !matches!(p.name, "comment" | "gateway-status")
        && !p.name.ends_with("time")
        && value.contains(' '))
}

/// Properties `print terse` leaves out although `detail` shows them: the Linux device of an
/// interface (recorded 7.x terse output has none).
fn detail_only(menu: &MenuSpec, name: &str) -> bool {
    menu.path == "/interface" && matches!(name, "ifname" | "ifindex" | "id")
}

/// Optional settings a console print leaves out while they hold their default (RouterOS prints
/// them once they are set): recorded 7.x firewall rules show no `log=no log-prefix=""` and
/// recorded leases no `lease-time=0s block-access=no use-src-mac=no`. REST still returns them.
fn hidden_at_default(menu: &MenuSpec, name: &str, value: &str) -> bool {
    match (menu.path, name, value) {
        (_, "log", "false") | (_, "log-prefix", "") => detail_layout(menu),
        ("/ip/dhcp-server/lease", "lease-time", "0s")
        | ("/ip/dhcp-server/lease", "block-access" | "use-src-mac", "false") => true,
        _ => false,
    }
}

fn quoted_name(spec: Option<&PropSpec>) -> bool {
    match spec {
        Some(p) if matches!(p.ty, PropType::Text) => matches!(
            p.name,
            "name"
                | "identity"
                | "platform"
                | "board"
                | "software-id"
                | "interface-name"
                | "system-description"
                | "default-name"
                | "type"
                | "ifname"
                | "log-prefix"
                | "source"
                | "on-event"
                | "owner"
                | "host-name"
                | "client-id"
                | "message"
                | "common-name"
                | "subject-alt-name"
        ),
        _ => false,
    }
}

/// Interface counters, in the order `print stats-detail` shows them.
const INTERFACE_COUNTERS: &[&str] = &[
    "rx-byte",
    "tx-byte",
    "rx-packet",
    "tx-packet",
    "rx-drop",
    "tx-drop",
    "tx-queue-drop",
    "rx-error",
    "tx-error",
    "fp-rx-byte",
    "fp-tx-byte",
    "fp-rx-packet",
    "fp-tx-packet",
];

/// The counters of a menu: left out of plain and detail prints, shown by `print stats` and
/// `print stats-detail` (with the properties that name the item first).
pub fn stats_props(menu: &MenuSpec) -> (&'static [&'static str], &'static [&'static str]) {
    if menu.path == "/interface" {
        (&["name"], INTERFACE_COUNTERS)
    } else if detail_layout(menu) {
        (&["chain", "action"], &["bytes", "packets"])
    } else {
        (&[], &[])
    }
}

/// The columns of `print stats`: the naming properties and the counters RouterOS tabulates
/// (the fast-path counters only appear in `stats-detail`).
pub fn stats_columns(menu: &MenuSpec) -> Vec<&'static str> {
    let (naming, counters) = stats_props(menu);
    naming
        .iter()
        .chain(counters.iter().filter(|c| !c.starts_with("fp-")))
        .copied()
        .collect()
}

fn stats_only(menu: &MenuSpec, name: &str) -> bool {
    stats_props(menu).1.contains(&name)
}

/// `83 436 528`: counters in `print stats` tables are grouped by thousands with blanks.
fn grouped(raw: &str) -> String {
    if raw.len() <= 3 || !raw.chars().all(|c| c.is_ascii_digit()) {
        return raw.to_string();
    }
    let mut out = String::with_capacity(raw.len() + raw.len() / 3);
    for (i, c) in raw.chars().enumerate() {
        if i > 0 && (raw.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// Menus whose plain `print` uses the detail layout (rules have too many properties for a
/// table): firewall rule menus.
pub fn detail_layout(menu: &MenuSpec) -> bool {
    matches!(
        menu.path,
        "/ip/firewall/filter"
            | "/ip/firewall/nat"
            | "/ip/firewall/mangle"
            | "/ip/firewall/raw"
            | "/ipv6/firewall/filter"
            | "/ipv6/firewall/mangle"
            | "/ipv6/firewall/raw"
    )
}

/// Menus where dynamic items get no console number (routes): only static ones can be edited.
pub fn dynamic_unnumbered(menu: &MenuSpec) -> bool {
    matches!(menu.path, "/ip/route" | "/ipv6/route")
}

/// `/log print`: one `time topics message` line per entry, no header.
pub fn log(menu: &MenuSpec, rows: &[Row]) -> String {
    let _ = menu;
    let mut out = String::new();
    for r in rows {
        let g = |k: &str| r.record.get(k).map(|v| v.to_string()).unwrap_or_default();
        out.push_str(&format!(
            " {} {} {}\n",
            g("time"),
            g("topics"),
            g("message")
        ));
    }
    out
}

fn is_numeric(spec: Option<&PropSpec>) -> bool {
    matches!(
        spec.map(|p| &p.ty),
        Some(PropType::Int { .. }) | Some(PropType::IntOr { .. })
    )
}

/// The legend position ("group") of every flag of the menu. Flags in one position are mutually
/// exclusive states and share a column, written `X - disabled, I - invalid`; positions are
/// separated by `;` in the legend.
fn flag_positions(menu: &MenuSpec) -> Vec<usize> {
    let flags = menu.flags;
    let route = matches!(menu.path, "/ip/route" | "/ipv6/route");
    let mut pos: Vec<usize> = Vec::with_capacity(flags.len());
    let mut next = 0;
    for (i, f) in flags.iter().enumerate() {
        let earlier = &flags[..i];
        let partner = match f.letter {
            'I' | 'R' => earlier.iter().position(|e| e.letter == 'X'),
            'A' if route => earlier
                .iter()
                .position(|e| e.letter == 'X' || e.letter == 'I'),
            c if route && c.is_ascii_lowercase() => {
                earlier.iter().position(|e| e.letter.is_ascii_lowercase())
            }
            _ => None,
        };
        match partner {
            Some(j) => pos.push(pos[j]),
            None => {
                pos.push(next);
                next += 1;
            }
        }
    }
    pos
}

/// The legend line. `used`: which flags to list (None = all, as `detail` prints, in lower case;
/// tables list the flags shown, in upper case).
fn legend(menu: &MenuSpec, used: Option<&[bool]>) -> Option<String> {
    let positions = flag_positions(menu);
    let mut out = String::new();
    let mut last_group = None;
    for (i, f) in menu.flags.iter().enumerate() {
        if used.is_some_and(|u| !u[i]) {
            continue;
        }
        let word = if used.is_some() {
            f.word.to_uppercase()
        } else {
            f.word.to_string()
        };
        match last_group {
            None => {}
            Some(g) if g == positions[i] => out.push_str(", "),
            Some(_) => out.push_str("; "),
        }
        out.push_str(&format!("{} - {}", f.letter, word));
        last_group = Some(positions[i]);
    }
    (!out.is_empty()).then(|| format!("Flags: {out}"))
}

fn flag_on(record: &Record, f: &FlagSpec) -> bool {
    record.is_true(f.prop)
}

/// The flag characters of one row over the given group positions.
fn flag_cells(menu: &MenuSpec, record: &Record, groups: &[usize]) -> String {
    let positions = flag_positions(menu);
    groups
        .iter()
        .map(|g| {
            menu.flags
                .iter()
                .enumerate()
                .find(|(i, f)| positions[*i] == *g && flag_on(record, f))
                .map_or(' ', |(_, f)| f.letter)
        })
        .collect()
}

fn all_groups(menu: &MenuSpec) -> Vec<usize> {
    let mut g = flag_positions(menu);
    g.dedup();
    g.sort_unstable();
    g.dedup();
    g
}

fn label(row: &Row, style: &Style) -> String {
    if style.show_ids {
        return row.record.id.map(|i| i.to_string()).unwrap_or_default();
    }
    row.number.map(|n| n.to_string()).unwrap_or_default()
}

fn label_width(rows: &[Row], style: &Style, min: usize) -> usize {
    rows.iter()
        .map(|r| label(r, style).len())
        .max()
        .unwrap_or(1)
        .max(min)
}

/// A plain `print` of a list menu: the table, or — for menus without columns (firewall rules)
/// — the detail layout RouterOS uses for them.
pub fn table(menu: &MenuSpec, rows: &[Row], columns: &[&str], style: &Style) -> String {
    if columns.is_empty() {
        return detail(menu, rows, style);
    }
    if rows.is_empty() {
        return String::new();
    }
    let mut out = String::new();
    // Flags actually shown.
    let used: Vec<bool> = menu
        .flags
        .iter()
        .map(|f| rows.iter().any(|r| flag_on(&r.record, f)))
        .collect();
    let positions = flag_positions(menu);
    let mut groups: Vec<usize> = positions
        .iter()
        .enumerate()
        .filter(|(i, _)| used[*i])
        .map(|(_, g)| *g)
        .collect();
    groups.sort_unstable();
    groups.dedup();
    if let Some(l) = legend(menu, Some(&used)) {
        out.push_str(&l);
        out.push('\n');
    }
    // Columns with at least one value.
    let shown: Vec<&str> = columns
        .iter()
        .copied()
        .filter(|c| {
            rows.iter()
                .any(|r| r.record.get(c).is_some_and(|v| !v.is_empty()))
        })
        .collect();
    if shown.is_empty() {
        return out;
    }
    let headers: Vec<String> = shown.iter().map(|c| c.to_uppercase()).collect();
    out.push_str(&format!("Columns: {}\n", headers.join(", ")));
    let cells: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            shown
                .iter()
                .map(|c| {
                    r.record
                        .get(c)
                        .map(|v| {
                            if style.stats && stats_only(menu, c) {
                                grouped(&v)
                            } else {
                                console_value(menu, c, &v)
                            }
                        })
                        .unwrap_or_default()
                })
                .collect()
        })
        .collect();
    let widths: Vec<usize> = (0..shown.len())
        .map(|i| {
            cells
                .iter()
                .map(|row| row[i].chars().count())
                .max()
                .unwrap_or(0)
                .max(headers[i].len())
        })
        .collect();
    let numeric: Vec<bool> = shown.iter().map(|c| is_numeric(menu.prop(c))).collect();
    let lw = label_width(rows, style, 1);
    let fw = groups.len();
    let mut header = format!("{:>lw$} ", "#");
    if fw > 0 {
        header.push_str(&" ".repeat(fw + 1));
    }
    let hcells: Vec<String> = headers
        .iter()
        .enumerate()
        .map(|(i, h)| format!("{h:<w$}", w = widths[i]))
        .collect();
    header.push_str(&hcells.join("  "));
    out.push_str(&header);
    out.push('\n');
    for (row, vals) in rows.iter().zip(&cells) {
        if let Some(c) = row.record.get("comment").filter(|c| !c.is_empty()) {
            out.push_str(&format!(";;; {c}\n"));
        }
        let mut line = format!("{:>lw$} ", label(row, style));
        if fw > 0 {
            line.push_str(&flag_cells(menu, &row.record, &groups));
            line.push(' ');
        }
        let vcells: Vec<String> = vals
            .iter()
            .enumerate()
            .map(|(i, v)| {
                let w = widths[i];
                if numeric[i] {
                    format!("{v:>w$}")
                } else {
                    format!("{v:<w$}")
                }
            })
            .collect();
        line.push_str(&vcells.join("  "));
        out.push_str(&line);
        out.push('\n');
    }
    out
}

/// Connection tracking prints each address's port as a property of its own
/// (`src-address=10.0.0.1 src-port=443`, recorded 7.x `terse`), while the entry holds
/// `ip:port` as REST returns it.
fn console_props<'r>(
    menu: &MenuSpec,
    record: &'r Record,
) -> std::borrow::Cow<'r, [(&'static str, String)]> {
    if menu.path != "/ip/firewall/connection" {
        return std::borrow::Cow::Borrowed(&record.props);
    }
    let mut out = Vec::with_capacity(record.props.len() + 4);
    for (k, v) in &record.props {
        let port_key = match *k {
            "src-address" => Some("src-port"),
            "dst-address" => Some("dst-port"),
            "reply-src-address" => Some("reply-src-port"),
            "reply-dst-address" => Some("reply-dst-port"),
            _ => None,
        };
        match (port_key, v.rsplit_once(':')) {
            (Some(pk), Some((ip, port)))
                if ip.parse::<std::net::Ipv4Addr>().is_ok() && port.parse::<u16>().is_ok() =>
            {
                out.push((*k, ip.to_string()));
                out.push((pk, port.to_string()));
            }
            _ => out.push((*k, v.clone())),
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The `key=value` tokens of a record for `detail` (flag properties and the comment excluded).
fn detail_tokens(menu: &MenuSpec, record: &Record, proplist: Option<&[String]>) -> Vec<String> {
    console_props(menu, record)
        .iter()
        .filter(|(k, v)| {
            *k != "comment"
                && !menu.flags.iter().any(|f| f.prop == *k)
                && (proplist.is_some() || !stats_only(menu, k))
                && (proplist.is_some() || !hidden_at_default(menu, k, v))
        })
        .filter(|(k, _)| proplist.is_none_or(|pl| pl.iter().any(|p| p == k)))
        .map(|(k, v)| {
            let spec = menu.prop(k);
            let shown = if quoted_in_detail(spec, v) {
                quote(v)
            } else {
                console_value(menu, k, v)
            };
            format!("{k}={shown}")
        })
        .collect()
}

/// `print detail`.
pub fn detail(menu: &MenuSpec, rows: &[Row], style: &Style) -> String {
    detail_with(menu, rows, style, None)
}

/// `print detail proplist=…`.
pub fn detail_with(
    menu: &MenuSpec,
    rows: &[Row],
    style: &Style,
    proplist: Option<&[String]>,
) -> String {
    let mut out = String::new();
    if let Some(l) = legend(menu, None) {
        out.push_str(&l);
        out.push('\n');
    }
    let groups = all_groups(menu);
    let lw = label_width(rows, style, 2);
    let indent = lw
        + 1
        + if groups.is_empty() {
            0
        } else {
            groups.len() + 1
        };
    let width = style.width.max(indent + 20);
    for (n, row) in rows.iter().enumerate() {
        if n > 0 {
            out.push('\n');
        }
        let mut prefix = format!("{:>lw$} ", label(row, style));
        if !groups.is_empty() {
            prefix.push_str(&flag_cells(menu, &row.record, &groups));
            prefix.push(' ');
        }
        let mut lines: Vec<String> = Vec::new();
        let mut line = prefix;
        let mut fresh = true;
        if let Some(c) = row.record.get("comment").filter(|c| !c.is_empty()) {
            line.push_str(&format!(";;; {c}"));
            lines.push(std::mem::take(&mut line));
            line = " ".repeat(indent);
        }
        for tok in detail_tokens(menu, &row.record, proplist) {
            let len = line.chars().count();
            if !fresh && len + 1 + tok.chars().count() > width - 1 {
                lines.push(std::mem::take(&mut line));
                line = " ".repeat(indent);
                fresh = true;
            }
            if !fresh {
                line.push(' ');
            }
            line.push_str(&tok);
            fresh = false;
        }
        if !fresh || lines.is_empty() {
            lines.push(line);
        }
        for l in lines {
            out.push_str(l.trim_end());
            out.push('\n');
        }
    }
    out
}

/// `print terse`: one line per item, `comment=` first, free text quoted (see
/// [`quoted_in_terse`]). Flag positions run up to the last one any row uses; items without a
/// number (dynamic routes) start with their flags.
pub fn terse(menu: &MenuSpec, rows: &[Row], style: &Style, proplist: Option<&[String]>) -> String {
    let mut out = String::new();
    let positions = flag_positions(menu);
    let last_used = menu
        .flags
        .iter()
        .enumerate()
        .filter(|(_, f)| rows.iter().any(|r| flag_on(&r.record, f)))
        .map(|(i, _)| positions[i])
        .max();
    let groups: Vec<usize> = all_groups(menu)
        .into_iter()
        .filter(|g| last_used.is_some_and(|l| *g <= l))
        .collect();
    let numbered = rows.iter().any(|r| !label(r, style).is_empty());
    let lw = if numbered {
        label_width(rows, style, 2)
    } else {
        0
    };
    for row in rows {
        let mut line = if numbered {
            format!("{:>lw$} ", label(row, style))
        } else {
            String::new()
        };
        if !groups.is_empty() {
            line.push_str(&flag_cells(menu, &row.record, &groups));
            line.push(' ');
        }
        let mut toks = Vec::new();
        if let Some(c) = row.record.get("comment")
            && proplist.is_none_or(|pl| pl.iter().any(|p| p == "comment"))
        {
            toks.push(format!("comment={c}"));
        }
        for (k, v) in console_props(menu, &row.record).iter() {
            if *k == "comment" || menu.flags.iter().any(|f| f.prop == *k) {
                continue;
            }
            if proplist.is_some_and(|pl| !pl.iter().any(|p| p == k)) {
                continue;
            }
            if proplist.is_none()
                && (stats_only(menu, k) || detail_only(menu, k) || hidden_at_default(menu, k, v))
            {
                continue;
            }
            let shown = console_value(menu, k, v);
            if quoted_in_terse(menu.prop(k), &shown) {
                toks.push(format!("{k}={}", quote(&shown)));
            } else {
                toks.push(format!("{k}={shown}"));
            }
        }
        line.push_str(&toks.join(" "));
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// `print` of a singleton menu: `key: value` lines with right-aligned keys.
pub fn singleton(menu: &MenuSpec, record: &Record, proplist: Option<&[String]>) -> String {
    let props: Vec<&(&'static str, String)> = record
        .props
        .iter()
        .filter(|(k, _)| proplist.is_none_or(|pl| pl.iter().any(|p| p == k)))
        .collect();
    let w = props.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    for (k, v) in props {
        let line = format!("  {k:>w$}: {}", console_value(menu, k, v));
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Whether the menu prints as a singleton.
pub fn is_singleton(menu: &MenuSpec) -> bool {
    matches!(menu.kind, MenuKind::Singleton)
}
