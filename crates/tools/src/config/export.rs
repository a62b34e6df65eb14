//! `config.export`: the router's configuration as `/export` prints it, a page at a time.
//!
//! A whole export of an edge router is megabytes — far past any token budget — so this tool
//! never returns it at once: each page holds at most `limit` lines *and* at most
//! [`PAGE_CHARS`] characters, which keeps a page under the 5,000-token warning threshold
//! whatever the lines look like, and `cursor` continues. Lines are the export's commands with
//! RouterOS's ` \` continuations joined, so a command is never split across pages and a
//! `section` (`/ip firewall filter`, with its submenus) can be cut out cleanly.
//!
//! Secrets: the drivers ask for `hide-sensitive`, so RouterOS leaves keys and passwords out;
//! any that still appear (an older version, a property RouterOS does not flag) are replaced by
//! `"(hidden)"` here before the text leaves the server, and script bodies (`/system script`
//! `source`, `/system scheduler` `on-event`, …) by `"(withheld)"` — by the one definition in
//! `routeros::secret`, with each line read in the menu of the header above it.

use routeros::{ExportOptions, secret};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::paging::{decode_cursor, encode_cursor, scope};
use crate::{Ctx, ToolError, ToolOutput};

/// Lines per page when the caller does not say.
const DEFAULT_LINES: usize = 200;
/// The most lines a page may ask for.
const MAX_LINES: usize = 400;
/// The most characters (as JSON-escaped text) of export on one page. The result carries the
/// text twice (structured and rendered), and tokens are estimated at four characters each, so
/// 8,500 characters stay under 5,000 tokens with room for the other fields.
pub(crate) const PAGE_CHARS: usize = 8_500;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Params {
    device_id: String,
    section: Option<String>,
    limit: Option<u32>,
    cursor: Option<String>,
}

/// The export's lines with ` \` continuations joined into one line per command.
fn logical_lines(export: &str) -> Vec<String> {
    let mut lines = Vec::new();
    let mut pending: Option<String> = None;
    for raw in export.lines() {
        let raw = raw.trim_end_matches('\r');
        let mut line = match pending.take() {
            Some(mut head) => {
                head.push_str(raw.strip_prefix("    ").unwrap_or(raw.trim_start()));
                head
            }
            None => raw.to_owned(),
        };
        if line.ends_with('\\') && !line.starts_with('#') {
            line.pop();
            pending = Some(line);
        } else if !line.trim().is_empty() {
            lines.push(line);
        }
    }
    if let Some(rest) = pending.filter(|l| !l.trim().is_empty()) {
        lines.push(rest);
    }
    lines
}

/// `/ip firewall filter`, `ip/firewall/filter`, ` /IP  Firewall ` → `/ip firewall filter` form.
pub(crate) fn console_section(text: &str) -> Result<String, ToolError> {
    let words: Vec<String> = text
        .split(|c: char| c == '/' || c.is_whitespace())
        .filter(|w| !w.is_empty())
        .map(str::to_ascii_lowercase)
        .collect();
    let valid = words.iter().all(|w| {
        w.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
    });
    if words.is_empty() || !valid {
        return Err(ToolError::InvalidArguments(format!(
            "section \"{text}\" is not a menu path: use the form /ip firewall filter or ip/firewall/filter"
        )));
    }
    Ok(format!("/{}", words.join(" ")))
}

/// The lines of `section` and its submenus, header lines included.
pub(crate) fn section_lines(lines: Vec<String>, section: &str) -> Vec<String> {
    let mut inside = false;
    lines
        .into_iter()
        .filter(|l| {
            if l.starts_with('/') {
                let header = l.trim_end().to_ascii_lowercase();
                inside = header == section
                    || header
                        .strip_prefix(section)
                        .is_some_and(|rest| rest.starts_with(' '));
            }
            inside
        })
        .collect()
}

/// The words of a `/menu path` header line up to its first command or argument
/// (`/ip ipsec peer` → `ip/ipsec/peer`), or `None` for a line that is not a header.
pub(crate) fn header_menu(line: &str) -> Option<String> {
    let rest = line.strip_prefix('/')?;
    let words: Vec<&str> = rest
        .split_whitespace()
        .take_while(|w| {
            !w.contains('=')
                && !w.starts_with('[')
                && !matches!(
                    *w,
                    "add" | "set" | "remove" | "move" | "enable" | "disable" | "unset"
                )
        })
        .collect();
    Some(words.join("/"))
}

/// The menu each line belongs to (from the last header line before it, or its own).
pub(crate) fn line_menus(lines: &[String]) -> Vec<String> {
    let mut current = String::new();
    lines
        .iter()
        .map(|l| {
            if let Some(m) = header_menu(l) {
                current = m;
            }
            current.clone()
        })
        .collect()
}

/// The line with the value of every secret property of `menu` replaced by `"(hidden)"` and
/// every script body by `"(withheld)"`, by the one definition in `routeros::secret`.
pub(crate) fn hide_secrets(menu: &str, line: &str) -> String {
    if line.starts_with('#') || !line.contains('=') {
        return line.to_owned();
    }
    fn placeholder<'a>(menu: &str, arg: &'a str) -> Option<(&'a str, &'static str)> {
        arg.split_once('=')
            .and_then(|(k, _)| secret::classify(menu, k).placeholder().map(|p| (k, p)))
    }
    let args = backup::normalize::split_args(line);
    if !args.iter().any(|a| placeholder(menu, a).is_some()) {
        return line.to_owned();
    }
    args.iter()
        .map(|a| match placeholder(menu, a) {
            Some((k, p)) => format!("{k}=\"{p}\""),
            None => a.clone(),
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A whole export with secrets hidden and script bodies withheld, one command per line (RouterOS
/// continuations joined), for readers that take it at once (`device://{id}/config`).
pub fn hide_in_export(export: &str) -> String {
    let lines = logical_lines(export);
    let menus = line_menus(&lines);
    lines
        .iter()
        .zip(&menus)
        .map(|(l, m)| hide_secrets(m, l))
        .collect::<Vec<_>>()
        .join("\n")
}

/// How many of `lines` (from the start) fit one page.
pub(crate) fn page_len(lines: &[String], limit: usize) -> usize {
    let mut chars = 0;
    let mut n = 0;
    for line in lines.iter().take(limit) {
        // The JSON-escaped length: its two quotes stand for the `\n` joining it to the next.
        let cost = Value::String(line.clone()).to_string().len();
        if n > 0 && chars + cost > PAGE_CHARS {
            break;
        }
        chars += cost;
        n += 1;
    }
    n
}

pub(crate) const HANDLER: crate::Handler = crate::toolkit::handler!("config.export", run);

pub(crate) async fn run(ctx: Ctx, p: Params) -> Result<ToolOutput, ToolError> {
    let section = p.section.as_deref().map(console_section).transpose()?;
    let limit = p
        .limit
        .map_or(DEFAULT_LINES, |l| usize::try_from(l).unwrap_or(MAX_LINES))
        .clamp(1, MAX_LINES);
    let query = scope(
        "config.export",
        &json!({"device_id": p.device_id, "section": section}),
    );
    let offset = match &p.cursor {
        Some(c) => decode_cursor(c, &query)?,
        None => 0,
    };
    let (dev, client) = crate::device(&ctx, &p.device_id).await?;
    let text = client.export(&ExportOptions::default()).await?;
    let mut lines = logical_lines(&text);
    if let Some(s) = &section {
        lines = section_lines(lines, s);
    }
    let total = lines.len();
    if offset > total {
        return Err(ToolError::InvalidArguments(format!(
            "cursor points past the end of the export ({total} lines): the configuration changed; start again without a cursor"
        )));
    }
    let n = page_len(&lines[offset..], limit);
    let menus = line_menus(&lines);
    let page: Vec<String> = lines[offset..offset + n]
        .iter()
        .zip(&menus[offset..offset + n])
        .map(|(l, m)| hide_secrets(m, l))
        .collect();
    let end = offset + n;
    let mut out = crate::device_ref(&dev);
    if let Some(s) = &section {
        out.insert("section".into(), json!(s));
    }
    out.insert(
        "from_line".into(),
        json!(if n == 0 { 0 } else { offset + 1 }),
    );
    out.insert("to_line".into(), json!(end));
    out.insert("total_lines".into(), json!(total));
    out.insert(
        "next_cursor".into(),
        if end < total {
            json!(encode_cursor(end, &query))
        } else {
            Value::Null
        },
    );
    if total == 0 {
        out.insert(
            "note".into(),
            json!(format!(
                "the export has no section {}: the menu holds only defaults (compact export), or the path is misspelled",
                section.as_deref().unwrap_or("/")
            )),
        );
    }
    out.insert("text".into(), json!(page.join("\n")));
    Ok(ToolOutput::new(Value::Object(out)))
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use routeros_sim::profiles::Profile;
    use serde_json::json;

    use super::*;
    use crate::Budget;
    use crate::testing::Harness;

    #[test]
    fn continuations_join_into_one_command_per_line() {
        let export = "# 2025-07-30 09:10:00 by RouterOS 7.19.4\n/system script\nadd dont-require-permissions=no name=preparation owner=admin policy=\\\n    ftp,reboot,read source=\"x \\\n    \\_y\"\n/ip dns\nset servers=1.1.1.1\n";
        assert_eq!(
            logical_lines(export),
            [
                "# 2025-07-30 09:10:00 by RouterOS 7.19.4",
                "/system script",
                "add dont-require-permissions=no name=preparation owner=admin policy=ftp,reboot,read source=\"x \\_y\"",
                "/ip dns",
                "set servers=1.1.1.1",
            ]
        );
    }

    #[test]
    fn secrets_that_slip_through_are_hidden() {
        let line = "add allowed-address=10.0.0.2/32 interface=wg0 preshared-key=\"abc def\\\"=\" public-key=PUB comment=\"password=x\"";
        assert_eq!(
            hide_secrets("interface/wireguard/peers", line),
            "add allowed-address=10.0.0.2/32 interface=wg0 preshared-key=\"(hidden)\" public-key=PUB comment=\"password=x\""
        );
        assert_eq!(
            hide_secrets(
                "ppp/secret",
                "add name=ppp1 password=hunter2 profile=default"
            ),
            "add name=ppp1 password=\"(hidden)\" profile=default"
        );
        assert_eq!(
            hide_secrets(
                "interface/wireless/security-profiles",
                "set [ find default-name=wlan1 ] wpa2-pre-shared-key=s3cret"
            ),
            "set [ find default-name=wlan1 ] wpa2-pre-shared-key=\"(hidden)\""
        );
        let plain = "add chain=input comment=\"key exchange\"";
        assert_eq!(hide_secrets("ip/firewall/filter", plain), plain);
    }

    #[test]
    fn the_whole_export_hides_by_the_menu_of_each_line() {
        let export = "# 2025-07-30 09:10:00 by RouterOS 7.19.4\n/system script\nadd name=fetch source=\"/tool fetch \\\n    user=u password=p\"\n/system scheduler\nadd name=s on-event=fetch\n/snmp community\nset [ find default=yes ] authentication-password=a1 encryption-password=e1\n/interface wifi\nset [ find default-name=wifi1 ] security.passphrase=wpa-s3cret\n/tool romon\nset secrets=r0mon\n/ethernet source\nadd source=kept\n";
        let hidden = hide_in_export(export);
        for secret in [
            "password=p",
            "a1",
            "e1",
            "wpa-s3cret",
            "r0mon",
            "on-event=fetch",
        ] {
            assert!(!hidden.contains(secret), "{secret} in {hidden}");
        }
        assert!(
            hidden.contains("add name=fetch source=\"(withheld)\""),
            "{hidden}"
        );
        assert!(
            hidden.contains("security.passphrase=\"(hidden)\""),
            "{hidden}"
        );
        assert!(
            hidden.contains("add source=kept"),
            "source is a script body only in /system script"
        );
        assert_eq!(
            header_menu("/ip ipsec peer").as_deref(),
            Some("ip/ipsec/peer")
        );
        assert_eq!(
            header_menu("/system script add name=x").as_deref(),
            Some("system/script")
        );
        assert_eq!(header_menu("add name=x"), None);
    }

    #[test]
    fn sections_are_named_like_the_console() {
        assert_eq!(
            console_section("ip/firewall/filter").unwrap(),
            "/ip firewall filter"
        );
        assert_eq!(console_section(" /IP  Firewall ").unwrap(), "/ip firewall");
        assert!(console_section("/").is_err());
        assert!(console_section("/ip; /system reboot").is_err());
        let lines: Vec<String> = [
            "/ip firewall address-list",
            "add a",
            "/ip firewall filter",
            "add b",
            "/ip firewall filterx",
            "add c",
            "/ip route",
            "add d",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            section_lines(lines.clone(), "/ip firewall filter"),
            ["/ip firewall filter", "add b"]
        );
        assert_eq!(section_lines(lines, "/ip firewall").len(), 6);
    }

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn the_edge_export_pages_under_the_warning_threshold() {
        let h = Harness::start(&[Profile::Edge, Profile::Home]).await;
        let budget = Budget {
            warning: 5_000,
            error: 50_000,
        };
        let first = h.ok("config.export", json!({"device_id": "r1"})).await;
        let total = first["total_lines"].as_u64().unwrap();
        assert!(total > 30_000, "rules, routes and lists: {total}");
        let text = first["text"].as_str().unwrap();
        assert!(text.starts_with("# "), "the export header first");
        assert!(text.contains("by RouterOS 7.19.4"), "{}", &text[..80]);
        assert_eq!(first["from_line"], 1);

        // The firewall filter section, page by page: each page under the warning threshold
        // and continuing exactly where the previous one stopped.
        let mut cursor: Option<String> = None;
        let mut seen: Vec<String> = Vec::new();
        for page_no in 1..=3 {
            let mut args =
                json!({"device_id": "r1", "section": "ip/firewall/filter", "limit": 400});
            if let Some(c) = &cursor {
                args["cursor"] = json!(c);
            }
            let out = h.call("config.export", args).await.unwrap();
            let finished = crate::budget::finish(out.clone(), &budget);
            assert!(
                !finished.warning,
                "page {page_no}: {} tokens",
                finished.estimated_tokens
            );
            let page = out.structured;
            assert_eq!(page["section"], "/ip firewall filter");
            assert_eq!(page["from_line"].as_u64().unwrap() as usize, seen.len() + 1);
            seen.extend(page["text"].as_str().unwrap().lines().map(str::to_owned));
            assert_eq!(page["to_line"].as_u64().unwrap() as usize, seen.len());
            assert!(
                seen.len() < 400 * page_no,
                "long lines end a page before the limit"
            );
            cursor = page["next_cursor"].as_str().map(str::to_owned);
        }
        let rules = h
            .ok(
                "firewall.list_filter_rules",
                json!({"device_id": "r1", "limit": 1, "fields": ["chain"]}),
            )
            .await;
        assert_eq!(
            h.ok(
                "config.export",
                json!({"device_id": "r1", "section": "/ip firewall filter", "limit": 1})
            )
            .await["total_lines"],
            rules["total"].as_u64().unwrap() + 1,
            "the section header and one line per rule"
        );
        assert_eq!(seen[0], "/ip firewall filter");
        assert!(
            seen[1..].iter().all(|l| l.starts_with("add ")),
            "one command per line"
        );
        assert_eq!(
            seen.iter().collect::<HashSet<_>>().len(),
            seen.len(),
            "no line twice"
        );

        // Secrets stay on the device; the WireGuard interface itself is exported.
        let wg_key = h.sim("r2").read_state(|s| {
            s.items_of("/interface/wireguard")
                .find_map(|i| i.get("private-key").map(str::to_owned))
                .unwrap()
        });
        let home = h
            .ok(
                "config.export",
                json!({"device_id": "r2", "section": "/interface wireguard", "limit": 400}),
            )
            .await;
        let text = home["text"].as_str().unwrap();
        assert!(text.contains("name=wg0"), "{text}");
        assert!(!text.contains(&wg_key), "{text}");
        let headers: HashSet<&str> = text.lines().filter(|l| l.starts_with('/')).collect();
        assert_eq!(
            headers,
            HashSet::from(["/interface wireguard", "/interface wireguard peers"])
        );

        let missing = h
            .ok(
                "config.export",
                json!({"device_id": "r2", "section": "/routing bgp connection"}),
            )
            .await;
        assert_eq!(missing["total_lines"], 0);
        assert!(missing["next_cursor"].is_null());
        let foreign = h
            .call(
                "config.export",
                json!({"device_id": "r1", "section": "/ip route", "cursor": first["next_cursor"]}),
            )
            .await
            .unwrap_err();
        assert!(foreign.to_string().contains("different query"), "{foreign}");
    }
}
