-- Fleet jobs: recurring background work (scheduled backups, drift checks, the plan reconciler)
-- keyed by (kind, key), e.g. ('backup', <device id>) or ('reconcile', 'plans'). An instance takes
-- a due job by writing its id and a lease expiry into the row; every instance sharing the
-- database sees the lease, so no job runs twice at once, and a job whose lease expired (its
-- instance died) is due again for the others. `lease_seq` grows with every claim, so an instance
-- that lost its lease can no longer finish, renew or fail the job. Times are storage-form text
-- (RFC 3339 UTC, six fractional digits), which sorts as time does.
-- Kept column-for-column identical in both dialects.

CREATE TABLE fleet_jobs (
    kind              TEXT NOT NULL,
    key               TEXT NOT NULL,
    due_at            TEXT NOT NULL,
    lease_owner       TEXT,
    lease_until       TEXT,
    lease_seq         BIGINT NOT NULL DEFAULT 0,
    -- Failed runs since the last success (the backoff grows with it).
    attempts          BIGINT NOT NULL DEFAULT 0,
    runs              BIGINT NOT NULL DEFAULT 0,
    last_error        TEXT,
    last_started_at   TEXT,
    last_finished_at  TEXT,
    last_finished_by  TEXT,
    created_at        TEXT NOT NULL,
    PRIMARY KEY (kind, key)
);

CREATE INDEX fleet_jobs_due ON fleet_jobs (kind, due_at, key);
