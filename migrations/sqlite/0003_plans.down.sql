DROP TRIGGER plan_journal_no_delete;
DROP TRIGGER plan_journal_no_update;
DROP TABLE plan_journal;
DROP TABLE plan_approvals;
DROP TABLE plan_changes;
DROP TABLE plans;
