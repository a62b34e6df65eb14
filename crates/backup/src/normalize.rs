//! An `/export` as a snapshot keeps it: one command per line, without what changes on every
//! export although the configuration did not.
//!
//! Dropped: the header's date line (`# 2025-03-24 14:13:48 by RouterOS 7.19.4`; its version is
//! kept apart), the `# software id`, `# system id` and `# serial number` comments (they follow
//! the licence and the hardware, and change when a CHR is re-licensed or a board is swapped, not
//! when anyone configures anything), empty `#` lines, status comments RouterOS writes between
//! commands (`# ether5 not running`, `# inactive`), and dynamic items (`dynamic=yes`), which the
//! router creates and removes on its own. `# model = …` stays: a configuration belongs to its
//! hardware. RouterOS's ` \` line continuations are joined, so a command is one line and a diff
//! never splits one.

use sha2::{Digest, Sha256};

/// A normalized export.
#[derive(Clone, PartialEq, Eq)]
pub struct Normalized {
    /// One command (or kept comment) per line, in export order.
    pub lines: Vec<String>,
    /// The RouterOS version from the header, when it had one.
    pub routeros_version: Option<String>,
}

impl std::fmt::Debug for Normalized {
    // The lines may hold secrets (an export with `show-sensitive`): only their count is shown.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Normalized")
            .field("lines", &self.lines.len())
            .field("routeros_version", &self.routeros_version)
            .finish()
    }
}

impl Normalized {
    /// The text as stored: the lines joined by `\n`.
    pub fn text(&self) -> String {
        self.lines.join("\n")
    }

    /// SHA-256 (hex) of [`Normalized::text`]: equal hashes, equal configurations.
    pub fn hash(&self) -> String {
        hash_text(&self.text())
    }
}

/// SHA-256 (hex) of a stored snapshot text.
pub fn hash_text(text: &str) -> String {
    hex::encode(Sha256::digest(text.as_bytes()))
}

/// `export` normalized.
pub fn normalize(export: &str) -> Normalized {
    let mut routeros_version = None;
    let mut lines = Vec::new();
    let mut in_header = true;
    for line in logical_lines(export) {
        let trimmed = line.trim();
        if line.starts_with('/') {
            in_header = false;
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            let comment = comment.trim();
            if in_header && let Some((_, version)) = comment.split_once(" by RouterOS ") {
                routeros_version = version.split_whitespace().next().map(str::to_owned);
                continue;
            }
            if in_header && comment.starts_with("model =") {
                lines.push(format!("# {comment}"));
            }
            // Everything else commented is volatile or status.
            continue;
        }
        if is_dynamic(trimmed) {
            continue;
        }
        lines.push(line);
    }
    Normalized {
        lines,
        routeros_version,
    }
}

/// Whether a command adds or sets a dynamic item.
fn is_dynamic(line: &str) -> bool {
    split_args(line).iter().any(|a| a == "dynamic=yes")
}

/// The export's lines with ` \` continuations joined into one line per command, blank lines
/// dropped.
pub fn logical_lines(export: &str) -> Vec<String> {
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

/// The line's arguments split on spaces outside quoted strings (escapes respected).
pub fn split_args(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut current = String::new();
    let mut in_string = false;
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                current.push(c);
                if let Some(next) = chars.next() {
                    current.push(next);
                }
            }
            '"' => {
                in_string = !in_string;
                current.push(c);
            }
            ' ' if !in_string => {
                if !current.is_empty() {
                    args.push(std::mem::take(&mut current));
                }
            }
            _ => current.push(c),
        }
    }
    if !current.is_empty() {
        args.push(current);
    }
    args
}

/// The console form of a `/menu path` header line up to its first command or argument
/// (`/ip firewall filter` → `/ip firewall filter`, `/system script add name=x` →
/// `/system script`), or `None` for a line that is not a header.
pub fn header_menu(line: &str) -> Option<String> {
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
    Some(format!("/{}", words.join(" ")))
}

/// The RouterOS path (`ip/firewall/filter`) of a console menu (`/ip firewall filter`), as
/// `routeros::secret` classifies properties by it.
pub fn menu_path(console: &str) -> String {
    console
        .trim_start_matches('/')
        .split_whitespace()
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!(
            "{}/../../../shared/routeros-fixtures/export/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        let alt = format!("/work/shared/routeros-fixtures/export/{name}");
        std::fs::read_to_string(&path)
            .or_else(|_| std::fs::read_to_string(&alt))
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    }

    #[test]
    fn the_recorded_exports_lose_only_their_volatile_header() {
        let raw = fixture("v6.48.6-ip-address-export-verbose.ntc.rsc");
        let n = normalize(&raw);
        assert_eq!(n.routeros_version.as_deref(), Some("6.48.6"));
        assert_eq!(
            n.lines,
            [
                "# model = RB750UPr2",
                "/ip address",
                "add address=10.159.1.159/30 disabled=no interface=ether2 network=10.159.1.158",
                "add address=10.80.90.5/27 comment=\"test comment\" disabled=yes interface=eth3_vlan1 network=10.80.90.0",
            ]
        );
        let text = n.text();
        for gone in ["jul/21/2023", "1234-ABCD", "AB12345CD789"] {
            assert!(!text.contains(gone), "{gone} kept");
        }

        let compact = normalize(&fixture("v6.42.5-export-compact.ansible.rsc"));
        assert!(!compact.text().contains("9EER-511K"));
        assert!(!compact.lines.iter().any(|l| l.starts_with('#')));
        assert_eq!(compact.lines[0], "/interface wireless security-profiles");
        // Every command of the recording survives.
        let commands = fixture("v6.42.5-export-compact.ansible.rsc")
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .count();
        assert_eq!(compact.lines.len(), commands);
    }

    #[test]
    fn the_same_configuration_exported_again_later_hashes_the_same() {
        let raw = fixture("v6.42.5-export-verbose.ansible.rsc");
        // The same router, exported a day later, re-licensed, with a status comment RouterOS
        // adds and a dynamic item that came and went.
        let later = raw
            .replace("# sep/25/2018 10:10:52", "# sep/26/2018 02:00:01")
            .replace("9EER-511K", "ZZZZ-0000")
            .replace(
                "/ip address\n",
                "/ip address\n# ether1 not running\nadd address=10.9.9.9/24 dynamic=yes interface=ether1\n",
            );
        assert_ne!(raw, later);
        assert_eq!(normalize(&raw).hash(), normalize(&later).hash());
        // A real change does not.
        let changed = raw.replace("192.168.88.1/24", "192.168.88.2/24");
        assert_ne!(normalize(&raw).hash(), normalize(&changed).hash());
        // Neither does one in a quoted value that merely mentions dynamic=yes.
        let comment = raw.replace("comment=defconf", "comment=\"dynamic=yes\"");
        assert_ne!(normalize(&raw).hash(), normalize(&comment).hash());
    }

    #[test]
    fn continuations_join_and_headers_name_menus() {
        let export = "# 2025-07-30 09:10:00 by RouterOS 7.19.4\n# software id = AB\n/system script\nadd name=a source=\"x \\\n    \\_y\"\n";
        let n = normalize(export);
        assert_eq!(n.routeros_version.as_deref(), Some("7.19.4"));
        assert_eq!(n.lines, ["/system script", "add name=a source=\"x \\_y\""]);
        assert_eq!(
            header_menu("/ip ipsec peer").as_deref(),
            Some("/ip ipsec peer")
        );
        assert_eq!(header_menu("add x=1"), None);
        assert_eq!(menu_path("/ip firewall filter"), "ip/firewall/filter");
    }
}
