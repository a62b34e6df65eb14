//! Building RouterOS console commands that cannot be subverted by the values in them.
//!
//! Every value that reaches the console — names, comments, addresses, scripts — is written as a
//! double-quoted string in which only letters, digits, space and `-._:/@,+` stand for themselves;
//! every other byte is written as the console's `\HH` hex escape (uppercase, as RouterOS
//! requires). Inside such a string nothing can end the string, start a variable (`$`), a command
//! substitution (`[`), a block (`{`), a new command (`;`, newline) or ask for help (`?`): a value
//! is stored exactly as given, whatever it contains. Menu paths, property names and ids are
//! validated types and never quoted.
//!
//! Reads use `print as-value` under `:serialize to=json` (RouterOS ≥ 7.13) so the answer is
//! machine-readable JSON rather than column-aligned text. Ping, traceroute and monitor-traffic
//! have no such form; their console output is read instead (see `output`).

use crate::types::{DeviceCommand, ExportOptions, MenuPath, PrintQuery, Props, RosId};

/// A property name (see [`crate::types::check_property_name`]): never quoted, so only plain
/// names pass.
pub fn check_property(name: &str) -> Result<&str, String> {
    crate::types::check_property_name(name)
}

/// `value` as a RouterOS string literal that is read back byte for byte.
pub fn quote(value: &str) -> String {
    let mut out = String::with_capacity(value.len() + 2);
    out.push('"');
    for byte in value.bytes() {
        let literal = byte.is_ascii_alphanumeric()
            || matches!(
                byte,
                b' ' | b'-' | b'.' | b'_' | b':' | b'/' | b'@' | b',' | b'+'
            );
        if literal {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("\\{byte:02X}"));
        }
    }
    out.push('"');
    out
}

fn assignments(props: &Props) -> Result<String, String> {
    let mut parts = Vec::with_capacity(props.len());
    for (k, v) in props {
        parts.push(format!("{}={}", check_property(k)?, quote(v)));
    }
    Ok(parts.join(" "))
}

/// Wraps an expression that yields an array so its value is printed as JSON.
fn as_json(expression: &str) -> String {
    format!(":put [:serialize to=json options=json.no-string-conversion value=[{expression}]]")
}

/// `print as-value` with the query's proplist and filters.
fn print_expression(menu: &MenuPath, query: &PrintQuery) -> Result<String, String> {
    query.check(menu)?;
    let mut expr = format!("{}/print as-value", menu.console());
    if let Some(props) = &query.proplist {
        let checked: Result<Vec<&str>, String> = props.iter().map(|p| check_property(p)).collect();
        expr.push_str(&format!(" proplist={}", checked?.join(",")));
    }
    if !query.filters.is_empty() {
        let mut conds = Vec::with_capacity(query.filters.len());
        for (k, v) in &query.filters {
            conds.push(format!("{}={}", check_property(k)?, quote(v)));
        }
        expr.push_str(&format!(" where {}", conds.join(" and ")));
    }
    Ok(expr)
}

pub(crate) fn print(menu: &MenuPath, query: &PrintQuery) -> Result<String, String> {
    Ok(as_json(&print_expression(menu, query)?))
}

/// What a read of a [`batch`] prints when it failed.
pub(crate) const READ_FAILED: &str = "routeros-mcp:failed";

/// The line printed before the answer of read `i` of a [`batch`].
fn marker(i: usize) -> String {
    format!("routeros-mcp:read:{i}")
}

/// Several JSON reads in one console command: each answer follows its own marker line, and a
/// read that fails prints [`READ_FAILED`] instead of stopping the others. A read that could not
/// be built (`Err`) is left out; its marker still appears, with nothing after it.
pub(crate) fn batch(reads: &[Result<String, String>]) -> String {
    let mut out = String::new();
    for (i, read) in reads.iter().enumerate() {
        out.push_str(&format!(":put {}; ", quote(&marker(i))));
        if let Ok(command) = read {
            out.push_str(&format!(
                ":do {{ {command} }} on-error={{ :put {} }}; ",
                quote(READ_FAILED)
            ));
        }
    }
    out.trim_end().to_owned()
}

/// Splits the output of a [`batch`] of `count` reads into each read's text (`None` for a read
/// whose marker never appeared: the console refused the whole command).
pub(crate) fn sections(text: &str, count: usize) -> Vec<Option<String>> {
    let mut out: Vec<Option<String>> = vec![None; count];
    let mut current: Option<usize> = None;
    for line in text.lines() {
        if let Some(i) = (0..count).find(|i| line.trim() == marker(*i)) {
            out[i] = Some(String::new());
            current = Some(i);
            continue;
        }
        if let Some(section) = current.and_then(|i| out[i].as_mut()) {
            if !section.is_empty() {
                section.push('\n');
            }
            section.push_str(line);
        }
    }
    out
}

/// The same read for consoles without `:serialize` (RouterOS 6 and 7 before 7.13): every
/// property on its own line as `key LENGTH value` (the value may span lines; its byte length
/// says where it ends), records ended by a `--` line. A singleton menu's keyed array is printed as
/// one record.
pub(crate) fn print_lines(menu: &MenuPath, query: &PrintQuery) -> Result<String, String> {
    Ok(lines_of(&print_expression(menu, query)?))
}

fn lines_of(expression: &str) -> String {
    let record = ":foreach k,v in=$r do={ :local s; :if ([:typeof $v] = \"array\") do={ :set s \"\"; \
        :foreach e in=$v do={ :if ([:len $s] > 0) do={ :set s ($s . \",\") }; :set s ($s . [:tostr $e]) } } \
        else={ :set s [:tostr $v] }; :put ($k . \" \" . [:len $s] . \" \" . $s) }; :put \"--\"";
    format!(
        ":local x [{expression}]; :if ([:typeof ($x->0)] = \"array\") do={{ :foreach r in=$x do={{ {record} }} }} \
         else={{ :local r $x; {record} }}"
    )
}

pub(crate) fn get_lines(menu: &MenuPath, id: &RosId) -> String {
    lines_of(&format!("{}/print as-value where .id={id}", menu.console()))
}

pub(crate) fn get(menu: &MenuPath, id: &RosId) -> String {
    as_json(&format!("{}/print as-value where .id={id}", menu.console()))
}

pub(crate) fn add(
    menu: &MenuPath,
    props: &Props,
    place_before: Option<&RosId>,
) -> Result<String, String> {
    let mut cmd = format!(":put [{}/add {}", menu.console(), assignments(props)?);
    if let Some(before) = place_before {
        cmd.push_str(&format!(" place-before={before}"));
    }
    cmd.push(']');
    Ok(cmd)
}

pub(crate) fn set(menu: &MenuPath, id: Option<&RosId>, props: &Props) -> Result<String, String> {
    Ok(match id {
        Some(id) => format!("{}/set {id} {}", menu.console(), assignments(props)?),
        None => format!("{}/set {}", menu.console(), assignments(props)?),
    })
}

pub(crate) fn remove(menu: &MenuPath, id: &RosId) -> String {
    format!("{}/remove {id}", menu.console())
}

pub(crate) fn item_command(
    menu: &MenuPath,
    command: &str,
    id: Option<&RosId>,
    args: &Props,
) -> Result<String, String> {
    let command = crate::types::check_command(command)?;
    let mut text = format!("{}/{command}", menu.console());
    if let Some(id) = id {
        text.push_str(&format!(" {id}"));
    }
    if !args.is_empty() {
        text.push(' ');
        text.push_str(&assignments(args)?);
    }
    Ok(text)
}

pub(crate) fn move_items(menu: &MenuPath, ids: &[RosId], destination: Option<&RosId>) -> String {
    let list: Vec<&str> = ids.iter().map(RosId::as_str).collect();
    match destination {
        Some(dest) => format!(
            "{}/move {} destination={dest}",
            menu.console(),
            list.join(",")
        ),
        None => format!("{}/move {}", menu.console(), list.join(",")),
    }
}

pub(crate) fn run(command: &DeviceCommand) -> Result<String, String> {
    Ok(match command {
        DeviceCommand::Ping {
            address,
            count,
            interface,
        } => {
            let iface = interface
                .as_ref()
                .map(|i| format!(" interface={}", quote(i)))
                .unwrap_or_default();
            format!("/ping address={} count={count}{iface}", quote(address))
        }
        DeviceCommand::Traceroute { address, count } => {
            format!("/tool/traceroute address={} count={count}", quote(address))
        }
        DeviceCommand::MonitorTraffic { interfaces } => {
            let list: Vec<String> = interfaces.iter().map(|i| quote(i)).collect();
            format!(
                "/interface/monitor-traffic interface={} once",
                list.join(",")
            )
        }
        DeviceCommand::RunScript { script } => match RosId::parse(script) {
            Ok(id) => format!("/system/script/run {id}"),
            Err(_) => format!("/system/script/run {}", quote(script)),
        },
    })
}

pub(crate) fn export(options: &ExportOptions) -> String {
    let sensitive = if options.show_sensitive {
        "show-sensitive"
    } else {
        "hide-sensitive"
    };
    if options.verbose {
        format!("/export {sensitive} verbose")
    } else {
        format!("/export {sensitive}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_leaves_nothing_the_console_could_interpret() {
        let hostile = "a\"; /system reboot; :put $x [/user print] {x} ?\n\\ end";
        let q = quote(hostile);
        assert!(q.starts_with('"') && q.ends_with('"'));
        let inner = &q[1..q.len() - 1];
        for c in ['"', ';', '$', '[', ']', '{', '}', '?', '\n'] {
            assert!(!inner.contains(c), "{c:?} survived in {q}");
        }
        // Backslashes only ever start a two-digit uppercase hex escape.
        let mut chars = inner.chars().peekable();
        while let Some(c) = chars.next() {
            if c == '\\' {
                let hi = chars.next().unwrap();
                let lo = chars.next().unwrap();
                assert!(
                    hi.is_ascii_hexdigit()
                        && lo.is_ascii_hexdigit()
                        && !hi.is_ascii_lowercase()
                        && !lo.is_ascii_lowercase()
                );
            }
        }
        assert_eq!(quote("ether1 uplink"), "\"ether1 uplink\"");
        assert_eq!(quote("10.0.0.1/24"), "\"10.0.0.1/24\"");
        assert_eq!(quote("é"), "\"\\C3\\A9\"");
        assert_eq!(quote(""), "\"\"");
    }

    #[test]
    fn a_batch_marks_each_read_and_splits_back() {
        let reads = vec![
            Ok(":put [x]".to_owned()),
            Err("bad".to_owned()),
            Ok(":put [y]".to_owned()),
        ];
        assert_eq!(
            batch(&reads),
            ":put \"routeros-mcp:read:0\"; :do { :put [x] } on-error={ :put \"routeros-mcp:failed\" }; \
             :put \"routeros-mcp:read:1\"; \
             :put \"routeros-mcp:read:2\"; :do { :put [y] } on-error={ :put \"routeros-mcp:failed\" };"
        );
        let text = "routeros-mcp:read:0\n[{\"a\":1}]\nrouteros-mcp:read:1\nrouteros-mcp:read:2\nrouteros-mcp:failed";
        assert_eq!(
            sections(text, 3),
            [
                Some("[{\"a\":1}]".to_owned()),
                Some(String::new()),
                Some("routeros-mcp:failed".to_owned())
            ]
        );
        assert_eq!(
            sections("bad command name zzz (line 1 column 40)", 2),
            [None, None]
        );
    }

    #[test]
    fn commands_are_shaped_as_the_console_expects() {
        let menu = MenuPath::parse("ip/address").unwrap();
        let props = Props::from([
            ("address".into(), "10.0.0.1/24".into()),
            ("comment".into(), "a;b".into()),
        ]);
        assert_eq!(
            add(&menu, &props, None).unwrap(),
            ":put [/ip/address/add address=\"10.0.0.1/24\" comment=\"a\\3Bb\"]"
        );
        let id = RosId::parse("*1A").unwrap();
        assert_eq!(remove(&menu, &id), "/ip/address/remove *1A");
        assert_eq!(
            print(
                &menu,
                &PrintQuery::all()
                    .filter("interface", "ether1")
                    .proplist(&["address"])
            )
            .unwrap(),
            ":put [:serialize to=json options=json.no-string-conversion value=[/ip/address/print as-value proplist=address where interface=\"ether1\"]]"
        );
        assert!(print(&menu, &PrintQuery::all().filter("x y", "1")).is_err());
        let ppp = MenuPath::parse("ppp/secret").unwrap();
        for key in ["<password", "password", "-password", "#|"] {
            let q = PrintQuery::all().filter(key, "m");
            assert!(print(&ppp, &q).is_err(), "{key}");
            assert!(print_lines(&ppp, &q).is_err(), "{key}");
        }
        assert!(
            set(
                &menu,
                Some(&id),
                &Props::from([("bad;name".into(), "1".into())])
            )
            .is_err()
        );
    }
}
