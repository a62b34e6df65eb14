//! The steps of the write-ahead journal: what an apply announces before it does it and records
//! after, and what crash recovery reads back. The text form of each step is what the database
//! stores (`plan_journal.step`) and must never change; a step this server does not know is an
//! error that stops recovery of that plan, never a silent skip.

domain::text_enum! {
    /// One journal step.
    Step, "journal step" {
        /// The router's write lock was taken.
        Lock = "lock",
        /// The router's write lock was released.
        Unlock = "unlock",
        /// The router changed since planning; nothing was written.
        Drift = "drift",
        /// The drift check could not read the router; nothing was written.
        DriftCheckFailed = "drift_check_failed",
        /// The router is as the plan read it.
        DriftOk = "drift_ok",
        /// The device-side auto-revert is about to be created.
        Arm = "arm",
        /// The device-side auto-revert exists on the router.
        Armed = "armed",
        /// A change is about to be written (its seq in the row).
        Intent = "intent",
        /// A change was written (and, for an add, the id it created).
        Done = "done",
        /// A change's write failed.
        Failed = "failed",
        /// Verification starts.
        Verify = "verify",
        /// Every change read back as planned and the router answered a new connection.
        Verified = "verified",
        /// A change did not read back as planned, or the router did not answer anew.
        VerifyFailed = "verify_failed",
        /// The auto-revert is gone and the changes held: the router is done.
        Confirmed = "confirmed",
        /// The auto-revert could not be stood down, or had already run, or could start before
        /// the next change would be answered (that change was not sent).
        ConfirmFailed = "confirm_failed",
        /// Undoing starts.
        Rollback = "rollback",
        /// A change's undo ran (its seq in the row).
        Undone = "undone",
        /// A change's undo left something alone that someone changed since.
        UndoSkipped = "undo_skipped",
        /// The router is as before the plan.
        RolledBack = "rolled_back",
        /// The router could not be restored or checked.
        RollbackFailed = "rollback_failed",
        /// Recovery of an interrupted apply starts (no router).
        Recovery = "recovery",
        /// A failed plan's silent router answered again and was looked at.
        Reconciled = "reconciled",
    }
}

impl Step {
    /// Whether the step also becomes an audit event (`plan.step.<step>`): the ones an auditor
    /// reads to know what was done to a router, as opposed to bookkeeping such as the lock.
    pub fn audited(self) -> bool {
        match self {
            Step::Drift
            | Step::Arm
            | Step::Done
            | Step::Failed
            | Step::Verified
            | Step::VerifyFailed
            | Step::Confirmed
            | Step::ConfirmFailed
            | Step::Rollback
            | Step::Undone
            | Step::UndoSkipped
            | Step::RolledBack
            | Step::RollbackFailed => true,
            Step::Lock
            | Step::Unlock
            | Step::DriftCheckFailed
            | Step::DriftOk
            | Step::Armed
            | Step::Intent
            | Step::Verify
            | Step::Recovery
            | Step::Reconciled => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_stored_text_of_every_step_reads_back_as_that_step() {
        for step in Step::ALL {
            assert_eq!(step.as_str().parse::<Step>(), Ok(*step));
        }
        assert!("lokc".parse::<Step>().is_err());
        // The forms stored by earlier versions, which recovery must keep reading.
        for text in [
            "lock",
            "arm",
            "intent",
            "done",
            "confirmed",
            "rolled_back",
            "unlock",
        ] {
            assert!(text.parse::<Step>().is_ok(), "{text}");
        }
    }
}
