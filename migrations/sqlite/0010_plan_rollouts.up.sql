-- A multi-device plan rolled out in waves: how (`spec`, JSON: wave sizes, soak, gate
-- thresholds; covered by the plan's content hash), what operators asked of it while it runs
-- (`control`: running, paused, aborting) and where it is (`progress`, JSON: per device its
-- wave, state and gate results). Kept column-for-column identical in both dialects.
CREATE TABLE plan_rollouts (
    plan_id     TEXT PRIMARY KEY REFERENCES plans (id),
    spec        TEXT NOT NULL,
    control     TEXT NOT NULL DEFAULT 'running' CHECK (control IN ('running', 'paused', 'aborting')),
    control_by  TEXT,
    progress    TEXT,
    updated_at  TEXT NOT NULL
);
