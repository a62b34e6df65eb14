-- Runbooks: every version of every runbook the server has served or been offered (content kept,
-- identified by its SHA-256), the review queue of proposed versions, and the runs with their
-- execution logs. The files (built-ins, the operator's folder) stay the source of what a person
-- wrote; this is the record of what ran and what was proposed.
-- Kept column-for-column identical in both dialects.

CREATE TABLE runbook_versions (
    id                  TEXT PRIMARY KEY,
    name                TEXT NOT NULL,
    version             TEXT NOT NULL,
    content_hash        TEXT NOT NULL,
    content             TEXT NOT NULL,
    origin              TEXT NOT NULL CHECK (origin IN ('built-in', 'operator', 'proposal')),
    status              TEXT NOT NULL CHECK (status IN
                            ('draft', 'published', 'deprecated', 'pending_review', 'in_review', 'rejected')),
    parent_id           TEXT REFERENCES runbook_versions (id),
    -- For proposals: the hash of the file version the lineage started from. A proposal is served
    -- only while that file is unchanged; a person's later edit of the file wins.
    base_hash           TEXT,
    generated_from_run  TEXT,
    proposed_by         TEXT,
    failure_type        TEXT,
    priority            TEXT CHECK (priority IN ('high', 'medium', 'low')),
    rationale           TEXT,
    created_at          TEXT NOT NULL,
    review_started_at   TEXT,
    reviewer            TEXT,
    review_notes        TEXT,
    reviewed_at         TEXT,
    UNIQUE (name, content_hash)
);

CREATE INDEX runbook_versions_status ON runbook_versions (status, priority);

CREATE TABLE runbook_runs (
    id              TEXT PRIMARY KEY,
    runbook         TEXT NOT NULL,
    version_id      TEXT NOT NULL REFERENCES runbook_versions (id),
    project_id      TEXT REFERENCES projects (id),
    -- The device the run acts on ('' when none): one active run per runbook and device.
    device_key      TEXT NOT NULL,
    variables       TEXT NOT NULL,
    variables_hash  TEXT NOT NULL,
    incident        TEXT,
    started_by      TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN
                        ('running', 'waiting_approval', 'waiting_assistant', 'succeeded', 'failed', 'abandoned')),
    next_step       INTEGER NOT NULL,
    plan_id         TEXT,
    failed_step     INTEGER,
    failure_type    TEXT,
    failure_reason  TEXT,
    steps           TEXT NOT NULL,
    state_before    TEXT,
    state_after     TEXT,
    state_diff      TEXT,
    started_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    finished_at     TEXT
);

CREATE UNIQUE INDEX runbook_runs_one_active ON runbook_runs (runbook, device_key)
    WHERE status IN ('running', 'waiting_approval', 'waiting_assistant');
CREATE INDEX runbook_runs_by_runbook ON runbook_runs (runbook, started_at);
CREATE INDEX runbook_runs_finished ON runbook_runs (finished_at);
