//! The device-side auto-revert: a `/system/scheduler` entry, created before a risky change, whose
//! script undoes the plan's changes on that device unless the server removes the entry first —
//! RouterOS's equivalent of `commit confirmed`. It runs on the device itself, so it restores the
//! device even when the change cut the server off.
//!
//! The script is the plan's inverse operations in reverse order, each idempotent (it looks before
//! it writes) and wrapped in `:do { } on-error={}` so one failing step cannot stop the rest;
//! then the entry removes itself. The whole script runs only while its entry is enabled: the
//! server confirms by disabling the entry first (see the apply's confirm step), so a run the
//! scheduler starts after that point changes nothing. Values are quoted with the driver's console quoting, so no
//! value can end a command or start another.

use routeros::ssh::{check_property, quote};

use crate::model::{Change, Inverse, ItemRef, Props};

/// The scheduler entry of a plan on a device.
pub fn entry_name(plan_id: &str) -> String {
    format!("routeros-mcp-revert-{plan_id}")
}

fn menu(path: &str) -> String {
    format!("/{}", path.trim_matches('/'))
}

/// `k="v" and k2="v2"` for `find where`.
fn condition(props: &Props) -> String {
    props
        .iter()
        .filter(|(k, _)| check_property(k).is_ok())
        .map(|(k, v)| format!("{k}={}", quote(v)))
        .collect::<Vec<_>>()
        .join(" and ")
}

fn assignments(props: &Props) -> String {
    props
        .iter()
        .filter(|(k, _)| check_property(k).is_ok())
        .map(|(k, v)| format!("{k}={}", quote(v)))
        .collect::<Vec<_>>()
        .join(" ")
}

/// An expression that yields the item (an id or a find).
fn item(path: &str, r: &ItemRef) -> Option<String> {
    match r {
        ItemRef::Id(id) if routeros::RosId::parse(id).is_ok() => Some(id.clone()),
        ItemRef::Match(props) if !props.is_empty() => Some(format!(
            "[:pick [{} find where {}] 0]",
            menu(path),
            condition(props)
        )),
        _ => None,
    }
}

fn guarded(statement: &str) -> String {
    format!(":do {{ {statement} }} on-error={{}}")
}

/// The script lines undoing one inverse step. `created` is the id an add produced, when known.
fn lines(inv: &Inverse, created: Option<&str>) -> Vec<String> {
    match inv {
        Inverse::Absent {
            menu: path,
            id,
            matching,
        } => {
            let mut out = Vec::new();
            if let Some(id) = id
                .as_deref()
                .or(created)
                .filter(|id| routeros::RosId::parse(id).is_ok())
            {
                out.push(guarded(&format!("{} remove {id}", menu(path))));
            }
            if !matching.is_empty() {
                out.push(guarded(&format!(
                    "{m} remove [{m} find where {}]",
                    condition(matching),
                    m = menu(path)
                )));
            }
            out
        }
        Inverse::Props {
            menu: path,
            target,
            set,
            unset,
        } => {
            let m = menu(path);
            let subject = match target {
                ItemRef::Singleton => Some(String::new()),
                other => item(path, other).map(|i| format!(" {i}")),
            };
            let Some(subject) = subject else {
                return Vec::new();
            };
            let mut out = Vec::new();
            if !set.is_empty() {
                out.push(guarded(&format!("{m} set{subject} {}", assignments(set))));
            }
            for name in unset.iter().filter(|n| check_property(n).is_ok()) {
                out.push(guarded(&format!("{m} unset{subject} value-name={name}")));
            }
            out
        }
        Inverse::Present {
            menu: path,
            props,
            place_before,
        } => {
            let m = menu(path);
            let add = format!("{m} add {}", assignments(props));
            let placed = place_before
                .as_ref()
                .and_then(|r| item(path, r))
                .map(|at| format!("{add} place-before={at}"));
            // Placed where it was when that neighbour still exists, else at the end.
            let body = match placed {
                Some(placed) => format!(":do {{ {placed} }} on-error={{ {add} }}"),
                None => add,
            };
            vec![guarded(&format!(
                ":if ([:len [{m} find where {}]] = 0) do={{ {body} }}",
                condition(props)
            ))]
        }
        Inverse::Position {
            menu: path,
            target,
            place_before,
        } => {
            let m = menu(path);
            let Some(subject) = item(path, target) else {
                return Vec::new();
            };
            match place_before.as_ref().and_then(|r| item(path, r)) {
                Some(at) => vec![guarded(&format!("{m} move {subject} destination={at}"))],
                None => vec![guarded(&format!("{m} move {subject}"))],
            }
        }
    }
}

/// The whole revert script for a device's changes (applied in order), newest undone first.
/// `created` gives the ids adds produced so far (by change seq).
pub fn revert_script(
    plan_id: &str,
    changes: &[&Change],
    created: &(dyn Fn(u32) -> Option<String> + Send + Sync),
) -> String {
    let mut out = vec![format!(
        ":log warning {}",
        quote(&format!(
            "routeros-mcp: plan {plan_id} was not confirmed; reverting it"
        ))
    )];
    for change in changes.iter().rev() {
        let id = created(change.seq);
        for inv in &change.inverse {
            out.extend(lines(inv, id.as_deref()));
        }
    }
    out.push(format!(
        "/system/scheduler remove [/system/scheduler find where name={}]",
        quote(&entry_name(plan_id))
    ));
    // The server confirms by disabling the entry before it removes it: a run that starts after
    // that (the scheduler had already picked it) does nothing.
    format!(
        ":if ([:len [/system/scheduler find where name={} and disabled=no]] > 0) do={{\n{}\n}}",
        quote(&entry_name(plan_id)),
        out.join("\n")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn props(pairs: &[(&str, &str)]) -> Props {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn each_inverse_becomes_a_guarded_idempotent_line() {
        let absent = Inverse::Absent {
            menu: "ip/dns/static".into(),
            id: None,
            matching: props(&[("name", "a\"; /system reboot"), ("address", "10.0.0.5")]),
        };
        let l = lines(&absent, Some("*A"));
        assert_eq!(l[0], ":do { /ip/dns/static remove *A } on-error={}");
        assert_eq!(
            l[1],
            ":do { /ip/dns/static remove [/ip/dns/static find where address=\"10.0.0.5\" and name=\"a\\22\\3B /system reboot\"] } on-error={}"
        );
        let present = Inverse::Present {
            menu: "ip/firewall/filter".into(),
            props: props(&[("chain", "input"), ("action", "drop")]),
            place_before: Some(ItemRef::Id("*B".into())),
        };
        assert_eq!(
            lines(&present, None),
            [
                ":do { :if ([:len [/ip/firewall/filter find where action=\"drop\" and chain=\"input\"]] = 0) do={ :do { /ip/firewall/filter add action=\"drop\" chain=\"input\" place-before=*B } on-error={ /ip/firewall/filter add action=\"drop\" chain=\"input\" } } } on-error={}"
            ]
        );
        let singleton = Inverse::Props {
            menu: "system/identity".into(),
            target: ItemRef::Singleton,
            set: props(&[("name", "core-1")]),
            unset: vec![],
        };
        assert_eq!(
            lines(&singleton, None),
            [":do { /system/identity set name=\"core-1\" } on-error={}"]
        );
        let unset = Inverse::Props {
            menu: "interface".into(),
            target: ItemRef::Id("*3".into()),
            set: Props::new(),
            unset: vec!["comment".into()],
        };
        assert_eq!(
            lines(&unset, None),
            [":do { /interface unset *3 value-name=comment } on-error={}"]
        );
    }
}
