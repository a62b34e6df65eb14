//! Differences between two normalized exports, grouped by RouterOS menu.
//!
//! Each export is cut into sections at its `/menu` header lines; the lines of a menu on each side
//! are compared on their own, so a diff reads `/ip firewall filter: -1 +1` rather than as one
//! long text, and a rule moved between menus shows in both. Lines are compared as stored and only
//! then passed through the caller's `hide` (secrets, script bodies), so a changed password shows
//! as a changed line whose value is hidden on both sides.

use similar::{ChangeTag, TextDiff};

use crate::normalize::header_menu;

/// Lines before any menu header (the kept `# model` comment).
pub const HEADER_SECTION: &str = "(header)";

/// How one menu differs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MenuDiff {
    /// Console form: `/ip firewall filter`.
    pub menu: String,
    pub added: usize,
    pub removed: usize,
    /// Unified-diff lines: `@@ -a,b +c,d @@` hunk heads, then `+`, `-` or ` ` and the line.
    pub lines: Vec<String>,
}

/// The sections of an export: (console menu, its lines without the header), in export order;
/// a menu that appears twice is one section.
pub fn sections(lines: &[String]) -> Vec<(String, Vec<&str>)> {
    let mut out: Vec<(String, Vec<&str>)> = Vec::new();
    let mut current = HEADER_SECTION.to_owned();
    for line in lines {
        if let Some(menu) = header_menu(line) {
            current = menu;
            let rest = line[1..]
                .split_whitespace()
                .skip(current.split_whitespace().count())
                .count();
            // `/ip address add …` on one line (terse form): the command is part of the section.
            if rest == 0 {
                if !out.iter().any(|(m, _)| *m == current) {
                    out.push((current.clone(), Vec::new()));
                }
                continue;
            }
        }
        match out.iter_mut().find(|(m, _)| *m == current) {
            Some((_, ls)) => ls.push(line),
            None => out.push((current.clone(), vec![line])),
        }
    }
    out
}

/// The menus whose lines differ between `old` and `new`, in the order they appear (new first).
pub fn changed_menus(old: &[String], new: &[String]) -> Vec<String> {
    diff(old, new, 0, |_, l| l.to_owned())
        .into_iter()
        .map(|d| d.menu)
        .collect()
}

/// How `new` differs from `old`, menu by menu, with `context` unchanged lines around each
/// change; `hide(menu_path, line)` rewrites every line shown.
pub fn diff(
    old: &[String],
    new: &[String],
    context: usize,
    hide: impl Fn(&str, &str) -> String,
) -> Vec<MenuDiff> {
    let old_sections = sections(old);
    let new_sections = sections(new);
    let mut menus: Vec<&str> = new_sections.iter().map(|(m, _)| m.as_str()).collect();
    for (m, _) in &old_sections {
        if !menus.contains(&m.as_str()) {
            menus.push(m);
        }
    }
    let lines_of = |sections: &[(String, Vec<&str>)], menu: &str| -> Vec<String> {
        sections
            .iter()
            .find(|(m, _)| m == menu)
            .map(|(_, ls)| ls.iter().map(|l| format!("{l}\n")).collect())
            .unwrap_or_default()
    };
    let mut out = Vec::new();
    for menu in menus {
        let a = lines_of(&old_sections, menu);
        let b = lines_of(&new_sections, menu);
        if a == b {
            continue;
        }
        let a_refs: Vec<&str> = a.iter().map(String::as_str).collect();
        let b_refs: Vec<&str> = b.iter().map(String::as_str).collect();
        let td = TextDiff::from_slices(&a_refs, &b_refs);
        let path = crate::normalize::menu_path(menu);
        let mut d = MenuDiff {
            menu: menu.to_owned(),
            added: 0,
            removed: 0,
            lines: Vec::new(),
        };
        for group in td.grouped_ops(context) {
            let (Some(first), Some(last)) = (group.first(), group.last()) else {
                continue;
            };
            let old_range = first.old_range().start..last.old_range().end;
            let new_range = first.new_range().start..last.new_range().end;
            // As `diff -u` numbers them: an empty range names the line before it.
            let start = |r: &std::ops::Range<usize>| r.start + usize::from(!r.is_empty());
            d.lines.push(format!(
                "@@ -{},{} +{},{} @@",
                start(&old_range),
                old_range.len(),
                start(&new_range),
                new_range.len()
            ));
            for op in &group {
                for change in td.iter_changes(op) {
                    let sign = match change.tag() {
                        ChangeTag::Delete => {
                            d.removed += 1;
                            '-'
                        }
                        ChangeTag::Insert => {
                            d.added += 1;
                            '+'
                        }
                        ChangeTag::Equal => ' ',
                    };
                    let line = change.value().trim_end_matches('\n');
                    d.lines.push(format!("{sign}{}", hide(&path, line)));
                }
            }
        }
        out.push(d);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_owned).collect()
    }

    #[test]
    fn differences_are_grouped_by_menu() {
        let old = lines(
            "# model = RB5009\n/ip address\nadd address=10.0.0.1/24 interface=ether1\n/ip firewall filter\nadd action=accept chain=input comment=a\nadd action=drop chain=input comment=b\n/system identity\nset name=r1",
        );
        let new = lines(
            "# model = RB5009\n/ip address\nadd address=10.0.0.1/24 interface=ether1\n/ip firewall filter\nadd action=accept chain=input comment=a\nadd action=accept chain=input comment=new\nadd action=drop chain=input comment=b\n/ip route\nadd gateway=10.0.0.254",
        );
        let d = diff(&old, &new, 1, |_, l| l.to_owned());
        let menus: Vec<&str> = d.iter().map(|m| m.menu.as_str()).collect();
        assert_eq!(
            menus,
            ["/ip firewall filter", "/ip route", "/system identity"]
        );
        assert_eq!((d[0].added, d[0].removed), (1, 0));
        assert_eq!(
            d[0].lines,
            [
                "@@ -1,2 +1,3 @@",
                " add action=accept chain=input comment=a",
                "+add action=accept chain=input comment=new",
                " add action=drop chain=input comment=b",
            ]
        );
        assert_eq!(d[1].lines, ["@@ -0,0 +1,1 @@", "+add gateway=10.0.0.254"]);
        assert_eq!((d[2].added, d[2].removed), (0, 1));
        assert_eq!(
            changed_menus(&old, &new),
            ["/ip firewall filter", "/ip route", "/system identity"]
        );
        assert!(changed_menus(&old, &old).is_empty());
    }

    #[test]
    fn lines_are_hidden_after_comparing() {
        let old = lines("/ppp secret\nadd name=u password=old1");
        let new = lines("/ppp secret\nadd name=u password=new2");
        let d = diff(&old, &new, 0, |menu, l| {
            assert_eq!(menu, "ppp/secret");
            l.replace("old1", "(hidden)").replace("new2", "(hidden)")
        });
        assert_eq!(d.len(), 1, "a changed secret is a change");
        let text = d[0].lines.join("\n");
        assert!(!text.contains("old1") && !text.contains("new2"), "{text}");
        assert_eq!((d[0].added, d[0].removed), (1, 1));
    }
}
