ALTER TABLE runbook_runs DROP COLUMN failure_type_model;
