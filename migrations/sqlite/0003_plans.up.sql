-- Plans: every change to a router is a plan — the exact changes, the state they were computed
-- from and their inverse — that a human approves before it is applied, with a write-ahead
-- journal of every apply step. Kept column-for-column identical in both dialects.

CREATE TABLE plans (
    id            TEXT PRIMARY KEY,
    project_id    TEXT NOT NULL REFERENCES projects (id),
    title         TEXT NOT NULL,
    tool          TEXT NOT NULL,
    kind          TEXT NOT NULL CHECK (kind IN ('change', 'rollback')),
    rollback_of   TEXT REFERENCES plans (id),
    status        TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'applying', 'applied',
                                                  'rolled_back', 'failed', 'rejected', 'cancelled')),
    risk          TEXT NOT NULL CHECK (risk IN ('low', 'medium', 'high', 'critical')),
    risk_reasons  TEXT NOT NULL,
    environment   TEXT NOT NULL CHECK (environment IN ('lab', 'staging', 'prod')),
    content_hash  TEXT NOT NULL,
    created_by    TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    outcome       TEXT
);

CREATE INDEX plans_status ON plans (status, created_at);

-- One row per change, in apply order. `properties` holds what is written (and, for adds and
-- moves, where), `state_read` the item as read when planning, `preconditions` what must still
-- hold at apply time (the drift check), `inverse` how to undo the change.
CREATE TABLE plan_changes (
    plan_id       TEXT NOT NULL REFERENCES plans (id),
    seq           BIGINT NOT NULL,
    device_id     TEXT NOT NULL REFERENCES devices (id),
    device_order  BIGINT NOT NULL,
    menu          TEXT NOT NULL,
    action        TEXT NOT NULL CHECK (action IN ('add', 'set', 'remove', 'move', 'enable',
                                                  'disable', 'command')),
    target        TEXT,
    properties    TEXT NOT NULL,
    state_read    TEXT,
    preconditions TEXT NOT NULL,
    inverse       TEXT NOT NULL,
    description   TEXT NOT NULL,
    PRIMARY KEY (plan_id, seq)
);

CREATE INDEX plan_changes_device ON plan_changes (device_id);

-- Approvals and rejections. An approval token is stored only as its SHA-256; `used_at` makes it
-- single-use.
CREATE TABLE plan_approvals (
    id          TEXT PRIMARY KEY,
    plan_id     TEXT NOT NULL REFERENCES plans (id),
    decision    TEXT NOT NULL CHECK (decision IN ('approved', 'rejected')),
    approver    TEXT NOT NULL,
    via         TEXT NOT NULL CHECK (via IN ('cli', 'elicitation', 'policy')),
    reason      TEXT,
    plan_hash   TEXT NOT NULL,
    token_hash  TEXT UNIQUE,
    expires_at  TEXT,
    created_at  TEXT NOT NULL,
    used_at     TEXT
);

CREATE INDEX plan_approvals_plan ON plan_approvals (plan_id);

-- The write-ahead journal of applies: a row before every step and after it. Append-only.
CREATE TABLE plan_journal (
    id          INTEGER PRIMARY KEY,
    plan_id     TEXT NOT NULL REFERENCES plans (id),
    device_id   TEXT REFERENCES devices (id),
    seq         BIGINT,
    step        TEXT NOT NULL,
    detail      TEXT NOT NULL,
    instance    TEXT NOT NULL,
    at          TEXT NOT NULL
);

CREATE INDEX plan_journal_plan ON plan_journal (plan_id, id);

CREATE TRIGGER plan_journal_no_update BEFORE UPDATE ON plan_journal
BEGIN
    SELECT RAISE(ABORT, 'the plan journal is append-only');
END;

CREATE TRIGGER plan_journal_no_delete BEFORE DELETE ON plan_journal
BEGIN
    SELECT RAISE(ABORT, 'the plan journal is append-only');
END;
