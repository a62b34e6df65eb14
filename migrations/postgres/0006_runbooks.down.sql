DROP TABLE runbook_runs;
DROP TABLE runbook_versions;
