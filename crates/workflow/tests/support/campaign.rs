//! The fault campaign's engine, shared by the test (`tests/campaign.rs`, 200 plans in CI) and
//! the soak benchmark (`benches/soak.rs -- --plans N`): seeded random plans over simulated
//! routers, each applied with a fault injected at a random point, every router checked against
//! the independent model in `model.rs`.

use std::collections::BTreeMap;
use std::net::Ipv4Addr;
use std::sync::Arc;
use std::time::Duration;

use super::model::{expected, first_difference, list, menus, stripped, without_derived};
use super::{Lab, props, quick_config};
use routeros_sim::Faults;
use routeros_sim::model::SimRng;
use routeros_sim::profiles::Profile;
use serde_json::Value;
use workflow::{
    ChangeRequest, DeviceRequest, DeviceResult, Op, PlanRequest, PlanStatus, Selector,
    WorkflowConfig,
};

pub const LANES: usize = 4;
pub const DEVICES_PER_LANE: usize = 5;

/// A random change on a device, from its current configuration.
pub fn random_change(
    rng: &mut SimRng,
    state: &BTreeMap<String, Value>,
    n: u64,
    used: &mut Vec<String>,
    cut_management_path: bool,
) -> Option<ChangeRequest> {
    let static_rules: Vec<BTreeMap<String, String>> = list(&state["/ip/firewall/filter"])
        .into_iter()
        .filter(|r| r.get("dynamic").is_none_or(|d| d != "true"))
        .collect();
    let id = |r: &BTreeMap<String, String>| r[".id"].clone();
    let ether = ["ether2", "ether3", "ether4", "ether5"];
    let kind = if cut_management_path {
        10
    } else {
        rng.below(10)
    };
    let change = |menu: &str, op| ChangeRequest {
        menu: menu.into(),
        op,
    };
    let fresh = |used: &mut Vec<String>, key: String| {
        if used.contains(&key) {
            None
        } else {
            used.push(key);
            Some(())
        }
    };
    match kind {
        0 => Some(change(
            "ip/dns/static",
            Op::Add {
                props: props(&[
                    ("name", &format!("c{n}-{}.lan", rng.below(1000))),
                    (
                        "address",
                        &format!("10.200.{}.{}", rng.below(250), rng.range(1, 250)),
                    ),
                ]),
                place_before: None,
            },
        )),
        1 => {
            let entries = list(&state["/ip/dns/static"]);
            let e = entries.get(rng.below(entries.len() as u64) as usize)?;
            fresh(used, id(e))?;
            Some(change(
                "ip/dns/static",
                Op::Remove {
                    target: Selector::Id(id(e)),
                },
            ))
        }
        2 => {
            fresh(used, "identity".into())?;
            Some(change(
                "system/identity",
                Op::Set {
                    target: Selector::Singleton,
                    props: props(&[("name", &format!("router-{n}"))]),
                    unset: vec![],
                },
            ))
        }
        3 => {
            let name = *rng.pick(&ether);
            fresh(used, name.into())?;
            Some(change(
                "interface",
                Op::Set {
                    target: Selector::Where(props(&[("name", name)])),
                    props: props(&[("comment", &format!("campaign {n}"))]),
                    unset: vec![],
                },
            ))
        }
        4 => Some(change(
            "ip/firewall/address-list",
            Op::Add {
                props: props(&[
                    ("list", "campaign"),
                    (
                        "address",
                        &format!("203.0.{}.{}", rng.below(250), rng.range(1, 250)),
                    ),
                ]),
                place_before: None,
            },
        )),
        5 => {
            let entries: Vec<_> = list(&state["/ip/firewall/address-list"])
                .into_iter()
                .filter(|e| e.get("list").map(String::as_str) == Some("campaign"))
                .collect();
            let e = entries.get(rng.below(entries.len() as u64) as usize)?;
            fresh(used, id(e))?;
            Some(change(
                "ip/firewall/address-list",
                Op::Remove {
                    target: Selector::Id(id(e)),
                },
            ))
        }
        6 => {
            let anchor = if static_rules.is_empty() || rng.chance(0.3) {
                None
            } else {
                let r = &static_rules[rng.below(static_rules.len() as u64) as usize];
                if used.contains(&id(r)) {
                    None
                } else {
                    Some(Selector::Id(id(r)))
                }
            };
            Some(change(
                "ip/firewall/filter",
                Op::Add {
                    props: props(&[
                        ("chain", "forward"),
                        ("action", "drop"),
                        ("src-address", &format!("198.51.{}.0/24", rng.below(250))),
                        ("comment", &format!("campaign {n}-{}", rng.below(1_000_000))),
                    ]),
                    place_before: anchor,
                },
            ))
        }
        7 => {
            if static_rules.len() < 3 {
                return None;
            }
            let a = &static_rules[rng.below(static_rules.len() as u64) as usize];
            let b = &static_rules[rng.below(static_rules.len() as u64) as usize];
            fresh(used, id(a))?;
            fresh(used, id(b))?;
            Some(change(
                "ip/firewall/filter",
                Op::Move {
                    target: Selector::Id(id(a)),
                    place_before: Some(Selector::Id(id(b))),
                },
            ))
        }
        8 => {
            let r = static_rules.get(rng.below(static_rules.len() as u64) as usize)?;
            fresh(used, id(r))?;
            let target = Selector::Id(id(r));
            Some(change(
                "ip/firewall/filter",
                if r.get("disabled").is_some_and(|d| d == "true") {
                    Op::Enable { target }
                } else {
                    Op::Disable { target }
                },
            ))
        }
        9 => {
            let name = *rng.pick(&["ether3", "ether4", "ether5"]);
            fresh(used, name.into())?;
            let down = list(&state["/interface/ethernet"]).iter().any(|i| {
                i.get("name").map(String::as_str) == Some(name)
                    && i.get("disabled").is_some_and(|d| d == "true")
            });
            let target = Selector::Where(props(&[("name", name)]));
            Some(change(
                "interface",
                if down {
                    Op::Enable { target }
                } else {
                    Op::Disable { target }
                },
            ))
        }
        _ => {
            fresh(used, "ether1".into())?;
            Some(change(
                "interface",
                Op::Disable {
                    target: Selector::Where(props(&[("name", "ether1")])),
                },
            ))
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum FaultKind {
    None,
    DeviceDownBeforeLock,
    DroppedConnection,
    Http500,
    Hang,
    Reboot,
    ManagementPathCut,
}

pub struct Outcome {
    pub fault: FaultKind,
    pub status: PlanStatus,
    pub phase: String,
}

pub async fn lane(lane: usize, plans: usize, seed: u64) -> Vec<Outcome> {
    let config = WorkflowConfig {
        // Changes are sent only while more than 3 s of it is left (the 2 s a lab call may take,
        // and the second RouterOS rounds the entry's start time down by): 2 s per router.
        confirm_timeout: Duration::from_secs(5),
        rollback_timeout: Duration::from_secs(40),
        ..quick_config()
    };
    let lab = Lab::start_with(
        &[Profile::Home; DEVICES_PER_LANE],
        store::testing::TestDatabase::sqlite(),
        config,
        domain::Environment::Lab,
    )
    .await;
    let mut rng = SimRng::derive(seed, &format!("lane {lane}"));
    let client = Ipv4Addr::new(127, 0, 0, 1);
    let mut outcomes = Vec::new();
    let mut n = 0u64;
    while outcomes.len() < plans {
        n += 1;
        assert!(n < plans as u64 * 5, "too many plans could not be proposed");
        // 1–5 devices in a random order (the first is the canary).
        let mut names = lab.names.clone();
        let count = rng.range(1, DEVICES_PER_LANE as u64) as usize;
        let mut chosen = Vec::new();
        for _ in 0..count {
            let i = rng.below(names.len() as u64) as usize;
            chosen.push(names.remove(i));
        }
        let allow_cut = rng.chance(0.06);
        let mut request = PlanRequest {
            title: format!("campaign plan {lane}-{n}"),
            tool: "campaign".into(),
            devices: Vec::new(),
        };
        let mut pre = BTreeMap::new();
        for name in &chosen {
            let state = menus(&lab.sim(name));
            let mut used = Vec::new();
            let mut changes = Vec::new();
            for j in 0..rng.range(1, 4) {
                let cut = allow_cut && j == 0 && name == &chosen[0];
                if let Some(c) = random_change(&mut rng, &state, n, &mut used, cut) {
                    changes.push(c);
                }
            }
            if changes.is_empty() {
                changes.push(ChangeRequest {
                    menu: "ip/dns/static".into(),
                    op: Op::Add {
                        props: props(&[
                            ("name", &format!("fallback-{lane}-{n}.lan")),
                            ("address", "10.9.9.9"),
                        ]),
                        place_before: None,
                    },
                });
            }
            pre.insert(name.clone(), state);
            request.devices.push(DeviceRequest {
                device: name.clone(),
                changes,
            });
        }
        // Planning only reads; on a loaded machine a read can outlast the lab's short driver
        // timeout. That is not what the campaign tests, so a planning read that failed is tried
        // again (a few times, then it is a failure of the run).
        let mut attempts = 0;
        let proposal = loop {
            attempts += 1;
            match lab.workflow.propose(&request, &lab.ctx()).await {
                Ok(p) => break Some(p),
                // Random requests sometimes make no sense (a no-op, a duplicate): propose another.
                Err(workflow::WorkflowError::Invalid(_)) => break None,
                Err(workflow::WorkflowError::Device(e)) if attempts < 4 => {
                    eprintln!("lane {lane}: planning read failed ({e}); trying again");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                }
                Err(e) => panic!("proposing {request:?}: {e}"),
            }
        };
        let Some(proposal) = proposal else { continue };
        let plan = proposal.plan;
        let token = match proposal.auto_approval {
            Some(t) => t.approval_token,
            None => lab.approve(&plan.id).await,
        };
        // The fault: one device of the plan, a random kind, a random point.
        let cuts = plan.risk == workflow::Risk::Critical;
        let victim = chosen[rng.below(chosen.len() as u64) as usize].clone();
        let sim = lab.sim(&victim);
        let k = rng.range(1, 14);
        let fault = if cuts {
            FaultKind::ManagementPathCut
        } else {
            match rng.below(7) {
                0 | 1 => FaultKind::None,
                2 => FaultKind::DroppedConnection,
                3 => FaultKind::Http500,
                4 => FaultKind::Hang,
                5 => FaultKind::Reboot,
                _ => FaultKind::DeviceDownBeforeLock,
            }
        };
        let mut clear_after = None;
        match fault {
            FaultKind::None | FaultKind::ManagementPathCut => {}
            FaultKind::DeviceDownBeforeLock => {
                sim.reboot(Duration::from_secs(2));
            }
            FaultKind::DroppedConnection => sim.set_faults(Faults {
                drop_after: Some(k),
                ..Faults::none()
            }),
            FaultKind::Http500 => sim.set_faults(Faults {
                fail_write: Some(rng.range(1, 6)),
                ..Faults::none()
            }),
            FaultKind::Hang => {
                sim.set_faults(Faults {
                    hang_after: Some(k),
                    ..Faults::none()
                });
                clear_after = Some(Duration::from_secs(3));
            }
            FaultKind::Reboot => sim.set_faults(Faults {
                reboot_after: Some(k),
                reboot_seconds: Some(2),
                ..Faults::none()
            }),
        }
        let healer = clear_after.map(|d| {
            let sim = Arc::clone(&sim);
            tokio::spawn(async move {
                tokio::time::sleep(d).await;
                sim.set_faults(Faults::none());
            })
        });
        let report = lab
            .workflow
            .apply(&plan.id, &token, &lab.ctx())
            .await
            .unwrap();
        if let Some(h) = healer {
            let _ = h.await;
        }
        sim.set_faults(Faults::none());
        for name in &chosen {
            tokio::time::timeout(
                Duration::from_secs(30),
                lab.sim(name).wait_until_answering(client),
            )
            .await
            .expect("the router answers again");
        }
        assert_ne!(
            report.status,
            PlanStatus::Failed,
            "plan {} ({fault:?} on {victim}) left a router unrestored: {report:?}",
            plan.id
        );
        // The proof, per device, from the simulator's own configuration.
        for name in &chosen {
            let post = menus(&lab.sim(name));
            let device = lab.fleet.store().find_device(None, name).await.unwrap().id;
            let result = report
                .devices
                .iter()
                .find(|d| &d.device == name)
                .map(|d| d.result)
                .unwrap();
            let before = stripped(&pre[name]);
            let now = stripped(&post);
            match result {
                DeviceResult::Applied => {
                    let want = stripped(&without_derived(
                        &expected(&pre[name], &post, &plan, &device)
                            .unwrap_or_else(|e| panic!("plan {}: {e}", plan.id)),
                    ));
                    let now = stripped(&without_derived(&post));
                    assert!(
                        now == want,
                        "plan {} ({fault:?}): {name} is not in the planned state: {}",
                        plan.id,
                        first_difference(&now, &want)
                    );
                }
                DeviceResult::Untouched | DeviceResult::RolledBack => assert!(
                    now == before,
                    "plan {} ({fault:?}): {name} is not back in its state before the plan: {}",
                    plan.id,
                    first_difference(&now, &before)
                ),
                DeviceResult::Failed => unreachable!("checked above"),
            }
        }
        let journal = lab.workflow.journal(&plan.id).await.unwrap();
        let phase = journal
            .iter()
            .rev()
            .find(|e| {
                matches!(
                    e.step.as_str(),
                    "drift" | "drift_check_failed" | "failed" | "verify_failed" | "confirm_failed"
                )
            })
            .map_or_else(|| "none".to_owned(), |e| e.step.clone());
        outcomes.push(Outcome {
            fault,
            status: report.status,
            phase,
        });
    }
    lab.stop().await;
    outcomes
}

/// Runs `plans` plans (spread over the lanes) from `seed`, prints the tally, and checks what
/// every run must satisfy; returns the outcomes.
pub async fn run(plans: usize, seed: u64) -> Vec<Outcome> {
    let per_lane = plans.div_ceil(LANES);
    let started = std::time::Instant::now();
    let results = futures::future::join_all((0..LANES).map(|l| lane(l, per_lane, seed))).await;
    let all: Vec<Outcome> = results.into_iter().flatten().collect();
    let mut tally: BTreeMap<(FaultKind, String, String), usize> = BTreeMap::new();
    for o in &all {
        *tally
            .entry((o.fault, o.status.to_string(), o.phase.clone()))
            .or_default() += 1;
    }
    let secs = started.elapsed().as_secs_f64();
    eprintln!(
        "fault campaign: {} plans (seed {seed}) in {secs:.0} s ({:.2} plans/s)",
        all.len(),
        all.len() as f64 / secs.max(0.001)
    );
    eprintln!(
        "{:<22} {:<12} {:<20} {:>5}",
        "fault", "outcome", "failed at", "plans"
    );
    for ((fault, status, phase), count) in &tally {
        eprintln!(
            "{:<22} {:<12} {:<20} {:>5}",
            format!("{fault:?}"),
            status,
            phase,
            count
        );
    }
    assert!(all.len() >= plans);
    let applied = all
        .iter()
        .filter(|o| o.status == PlanStatus::Applied)
        .count();
    let rolled_back = all
        .iter()
        .filter(|o| o.status == PlanStatus::RolledBack)
        .count();
    assert_eq!(applied + rolled_back, all.len());
    // With enough plans, every kind of outcome and the management-path cut occur.
    if all.len() >= 100 {
        assert!(applied > 0 && rolled_back > 0, "both outcomes occur");
        assert!(
            all.iter().any(|o| o.fault == FaultKind::ManagementPathCut),
            "the campaign cut a management path at least once"
        );
    }
    all
}
