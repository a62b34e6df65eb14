DROP TABLE plan_journal;
DROP FUNCTION plan_journal_append_only();
DROP TABLE plan_approvals;
DROP TABLE plan_changes;
DROP TABLE plans;
