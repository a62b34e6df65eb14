//! Unified diffs between two versions of a runbook.

use runbook::unified_diff;

#[test]
fn shows_changed_lines_with_context_and_counts() {
    let old = crate::MINIMAL;
    let new = old
        .replace("version: 1.0.0", "version: 1.1.0")
        .replace("Fix it by hand.", "Fix it by hand.\nThen tell the owner.");
    let d = unified_diff("minimal 1.0.0", old, "minimal 1.1.0", &new);
    assert_eq!((d.added, d.removed), (2, 1));
    assert!(
        d.unified
            .starts_with("--- minimal 1.0.0\n+++ minimal 1.1.0\n@@ -2,7 +2,7 @@\n"),
        "{}",
        d.unified
    );
    assert!(d.unified.contains("\n-version: 1.0.0\n+version: 1.1.0\n"));
    assert!(
        d.unified
            .contains("\n Fix it by hand.\n+Then tell the owner.\n")
    );
    let same = unified_diff("a", old, "b", old);
    assert!(same.is_empty() && same.unified.is_empty());
}

#[test]
fn control_characters_are_escaped_and_large_texts_finish() {
    let d = unified_diff("a", "one\ntwo\n", "b", "one\ntw\u{1b}[2Jo\n");
    assert!(d.unified.contains("+tw\\e[2Jo"), "{}", d.unified);
    assert!(domain::text::find_control(&d.unified.replace('\n', "")).is_none());
    let big_a: String = (0..20_000).map(|i| format!("line {i}\n")).collect();
    let big_b: String = (0..20_000)
        .map(|i| format!("line {}\n", i * 7 % 20_000))
        .collect();
    let start = std::time::Instant::now();
    let d = unified_diff("a", &big_a, "b", &big_b);
    assert!(d.added > 0 && d.removed > 0);
    assert!(start.elapsed() < std::time::Duration::from_secs(10));
}
