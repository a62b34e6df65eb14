//! A plan's life as data: which event moves a plan from which status to which, and what the
//! caller is told when an event does not apply to the status a plan is in.
//!
//! Every status change in the engine goes through [`PlanStatus::on`], and the SQL that records
//! it checks the old status in its `WHERE` (see `repo::transition`), so two server processes can
//! never both move one plan. The matches below name every status and every event: a new status
//! or event does not compile until each pair is decided.

use crate::model::PlanStatus;

/// How an apply (or the recovery of an interrupted one) ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Every change written, verified and confirmed on every router.
    Applied,
    /// It failed, and every router is as before the plan.
    RolledBack,
    /// It failed, and at least one router could not be restored or checked.
    Failed,
}

impl Outcome {
    /// The status a plan ends in.
    pub fn status(self) -> PlanStatus {
        match self {
            Outcome::Applied => PlanStatus::Applied,
            Outcome::RolledBack => PlanStatus::RolledBack,
            Outcome::Failed => PlanStatus::Failed,
        }
    }

    /// The audit action that records it.
    pub fn audit_action(self) -> &'static str {
        match self {
            Outcome::Applied => "plan.applied",
            Outcome::RolledBack => "plan.rolled_back",
            Outcome::Failed => "plan.failed",
        }
    }
}

/// What can happen to a plan.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlanEvent {
    /// A person (or policy, for low risk in lab) approves: a token is minted.
    Approve,
    /// A person rejects it.
    Reject,
    /// Whoever may see it withdraws it.
    Cancel,
    /// An approval token is used: the apply starts.
    StartApply,
    /// The apply, or the recovery of an interrupted one, ended.
    Finish(Outcome),
    /// A failed plan's routers answered again and were looked at: whether every one is as
    /// before the plan.
    Reconcile { restored: bool },
}

impl PlanEvent {
    /// The event in words, for refusals.
    fn verb(self) -> &'static str {
        match self {
            PlanEvent::Approve => "approved",
            PlanEvent::Reject => "rejected",
            PlanEvent::Cancel => "cancelled",
            PlanEvent::StartApply => "applied",
            PlanEvent::Finish(_) => "finished",
            PlanEvent::Reconcile { .. } => "reconciled",
        }
    }
}

/// An event that does not apply to a plan's status: what the caller sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("the plan is {from} and cannot be {verb}: {reason}", verb = event.verb())]
pub struct Refused {
    pub from: PlanStatus,
    pub event: PlanEvent,
    /// Why, and what to do instead.
    pub reason: &'static str,
}

impl Refused {
    /// The refusal naming the plan.
    pub fn for_plan(&self, plan_id: &str) -> String {
        format!(
            "plan {plan_id} is {} and cannot be {}: {}",
            self.from,
            self.event.verb(),
            self.reason
        )
    }
}

const ENDED: &str = "it has ended; propose the change again to make it anew";
const CLOSED: &str = "a rejected or cancelled plan stays so; propose the change again";
const BEING_APPLIED: &str = "it is being applied right now";
const NOT_APPLYING: &str = "only a plan being applied can end";

impl PlanStatus {
    /// The status `event` moves this one to, or why it does not apply.
    pub fn on(self, event: PlanEvent) -> Result<PlanStatus, Refused> {
        use PlanEvent as E;
        use PlanStatus as S;
        let refuse = |reason| {
            Err(Refused {
                from: self,
                event,
                reason,
            })
        };
        match (self, event) {
            // Approving again mints a fresh token (the old one still works until it expires).
            (S::Pending | S::Approved, E::Approve) => Ok(S::Approved),
            (S::Pending | S::Approved, E::Reject) => Ok(S::Rejected),
            (S::Pending | S::Approved, E::Cancel) => Ok(S::Cancelled),
            (S::Approved, E::StartApply) => Ok(S::Applying),
            (S::Applying, E::Finish(outcome)) => Ok(outcome.status()),
            (S::Failed, E::Reconcile { restored: true }) => Ok(S::RolledBack),
            (S::Failed, E::Reconcile { restored: false }) => Ok(S::Failed),

            (S::Pending, E::StartApply) => refuse(
                "it has not been approved: a person approves it with `routeros-mcp plan approve`",
            ),
            (S::Pending | S::Approved, E::Finish(_)) => refuse(NOT_APPLYING),
            (S::Pending | S::Approved, E::Reconcile { .. }) => {
                refuse("only a failed plan's routers are looked at again")
            }
            (S::Applying, E::Approve | E::Reject | E::Cancel | E::StartApply) => {
                refuse(BEING_APPLIED)
            }
            (S::Applying, E::Reconcile { .. }) => refuse(BEING_APPLIED),
            (
                S::Applied | S::RolledBack | S::Failed,
                E::Approve | E::Reject | E::Cancel | E::StartApply,
            ) => refuse(ENDED),
            (S::Applied | S::RolledBack | S::Failed, E::Finish(_)) => refuse(NOT_APPLYING),
            (S::Applied | S::RolledBack, E::Reconcile { .. }) => {
                refuse("only a failed plan's routers are looked at again")
            }
            (S::Rejected | S::Cancelled, E::Approve | E::Reject | E::Cancel | E::StartApply) => {
                refuse(CLOSED)
            }
            (S::Rejected | S::Cancelled, E::Finish(_)) => refuse(NOT_APPLYING),
            (S::Rejected | S::Cancelled, E::Reconcile { .. }) => {
                refuse("only a failed plan's routers are looked at again")
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: [PlanStatus; 8] = [
        PlanStatus::Pending,
        PlanStatus::Approved,
        PlanStatus::Applying,
        PlanStatus::Applied,
        PlanStatus::RolledBack,
        PlanStatus::Failed,
        PlanStatus::Rejected,
        PlanStatus::Cancelled,
    ];

    const EVENTS: [PlanEvent; 9] = [
        PlanEvent::Approve,
        PlanEvent::Reject,
        PlanEvent::Cancel,
        PlanEvent::StartApply,
        PlanEvent::Finish(Outcome::Applied),
        PlanEvent::Finish(Outcome::RolledBack),
        PlanEvent::Finish(Outcome::Failed),
        PlanEvent::Reconcile { restored: true },
        PlanEvent::Reconcile { restored: false },
    ];

    #[test]
    fn the_allowed_transitions_and_nothing_else() {
        use PlanEvent as E;
        use PlanStatus as S;
        let allowed = [
            (S::Pending, E::Approve, S::Approved),
            (S::Approved, E::Approve, S::Approved),
            (S::Pending, E::Reject, S::Rejected),
            (S::Approved, E::Reject, S::Rejected),
            (S::Pending, E::Cancel, S::Cancelled),
            (S::Approved, E::Cancel, S::Cancelled),
            (S::Approved, E::StartApply, S::Applying),
            (S::Applying, E::Finish(Outcome::Applied), S::Applied),
            (S::Applying, E::Finish(Outcome::RolledBack), S::RolledBack),
            (S::Applying, E::Finish(Outcome::Failed), S::Failed),
            (S::Failed, E::Reconcile { restored: true }, S::RolledBack),
            (S::Failed, E::Reconcile { restored: false }, S::Failed),
        ];
        for from in ALL {
            for event in EVENTS {
                let expected = allowed
                    .iter()
                    .find(|(f, e, _)| *f == from && *e == event)
                    .map(|(_, _, to)| *to);
                match (from.on(event), expected) {
                    (Ok(to), Some(want)) => assert_eq!(to, want, "{from} on {event:?}"),
                    (Err(r), None) => {
                        assert_eq!(r.from, from);
                        assert!(!r.reason.is_empty());
                    }
                    (got, want) => panic!("{from} on {event:?}: got {got:?}, want {want:?}"),
                }
            }
        }
    }

    #[test]
    fn each_refusal_says_what_the_caller_sees() {
        use PlanEvent as E;
        use PlanStatus as S;
        let cases = [
            (
                S::Applied,
                E::Cancel,
                "plan p1 is applied and cannot be cancelled: it has ended; propose the change again to make it anew",
            ),
            (
                S::Rejected,
                E::Approve,
                "plan p1 is rejected and cannot be approved: a rejected or cancelled plan stays so; propose the change again",
            ),
            (
                S::Cancelled,
                E::StartApply,
                "plan p1 is cancelled and cannot be applied: a rejected or cancelled plan stays so; propose the change again",
            ),
            (
                S::Applying,
                E::Approve,
                "plan p1 is applying and cannot be approved: it is being applied right now",
            ),
            (
                S::Applying,
                E::StartApply,
                "plan p1 is applying and cannot be applied: it is being applied right now",
            ),
            (
                S::Pending,
                E::StartApply,
                "plan p1 is pending and cannot be applied: it has not been approved: a person approves it with `routeros-mcp plan approve`",
            ),
            (
                S::RolledBack,
                E::Reject,
                "plan p1 is rolled_back and cannot be rejected: it has ended; propose the change again to make it anew",
            ),
            (
                S::Applied,
                E::Finish(Outcome::Failed),
                "plan p1 is applied and cannot be finished: only a plan being applied can end",
            ),
            (
                S::Applied,
                E::Reconcile { restored: true },
                "plan p1 is applied and cannot be reconciled: only a failed plan's routers are looked at again",
            ),
        ];
        for (from, event, text) in cases {
            let refused = from.on(event).unwrap_err();
            assert_eq!(refused.for_plan("p1"), text);
        }
    }
}
