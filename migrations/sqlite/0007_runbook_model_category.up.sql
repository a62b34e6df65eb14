-- What the operator's model said of a failed run's cause, beside the category the rules gave
-- (failure_type). Kept column-for-column identical in both dialects.

ALTER TABLE runbook_runs ADD COLUMN failure_type_model TEXT;
