-- Registry: tenancy, devices, encrypted credentials and the hash-chained audit log.
-- Kept column-for-column identical to migrations/sqlite/0001_registry.up.sql.
-- Timestamps are RFC 3339 UTC text with microseconds (sortable, and hashed verbatim by the
-- audit chain); ids are UUID text.

CREATE TABLE organizations (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    created_at  TEXT NOT NULL
);

CREATE TABLE projects (
    id              TEXT PRIMARY KEY,
    organization_id TEXT NOT NULL REFERENCES organizations (id),
    name            TEXT NOT NULL,
    created_at      TEXT NOT NULL,
    UNIQUE (organization_id, name)
);

INSERT INTO organizations (id, name, created_at)
VALUES ('00000000-0000-7000-8000-000000000001', 'default', '1970-01-01T00:00:00.000000Z');
INSERT INTO projects (id, organization_id, name, created_at)
VALUES ('00000000-0000-7000-8000-000000000002', '00000000-0000-7000-8000-000000000001',
        'default', '1970-01-01T00:00:00.000000Z');

CREATE TABLE devices (
    id                  TEXT PRIMARY KEY,
    project_id          TEXT NOT NULL REFERENCES projects (id),
    name                TEXT NOT NULL,
    address             TEXT NOT NULL,
    rest_port           BIGINT NOT NULL CHECK (rest_port BETWEEN 1 AND 65535),
    ssh_port            BIGINT NOT NULL CHECK (ssh_port BETWEEN 1 AND 65535),
    driver              TEXT NOT NULL CHECK (driver IN ('auto', 'rest', 'ssh')),
    environment         TEXT NOT NULL CHECK (environment IN ('lab', 'staging', 'prod')),
    tags                TEXT NOT NULL DEFAULT '{}',
    status              TEXT NOT NULL CHECK (status IN ('active', 'inactive', 'decommissioned')),
    routeros_version    TEXT,
    board               TEXT,
    architecture        TEXT,
    identity            TEXT,
    tls_cert_sha256     TEXT,
    ssh_host_key_sha256 TEXT,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    decommissioned_at   TEXT
);

-- Names are unique among the live devices of a project; a decommissioned device keeps its
-- name (and audit history) without blocking a successor.
CREATE UNIQUE INDEX devices_live_name ON devices (project_id, name)
    WHERE status <> 'decommissioned';

CREATE TABLE device_credentials (
    device_id   TEXT NOT NULL REFERENCES devices (id),
    version     BIGINT NOT NULL,
    username    TEXT NOT NULL,
    key_id      TEXT NOT NULL,
    nonce       BYTEA,
    ciphertext  BYTEA,
    created_at  TEXT NOT NULL,
    retired_at  TEXT,
    PRIMARY KEY (device_id, version),
    -- A retired credential keeps its metadata but not its secret.
    CHECK ((retired_at IS NULL) = (ciphertext IS NOT NULL AND nonce IS NOT NULL))
);

CREATE UNIQUE INDEX device_credentials_current ON device_credentials (device_id)
    WHERE retired_at IS NULL;

CREATE TABLE audit_events (
    seq             BIGINT PRIMARY KEY,
    occurred_at     TEXT NOT NULL,
    actor           TEXT NOT NULL,
    action          TEXT NOT NULL,
    target          TEXT NOT NULL,
    correlation_id  TEXT NOT NULL,
    details         TEXT NOT NULL,
    prev_hash       TEXT NOT NULL,
    hash            TEXT NOT NULL
);

CREATE INDEX audit_events_target ON audit_events (target);

-- Append-only: the application never updates or deletes audit rows. Someone with direct
-- database access can still disable these triggers; the hash chain is what detects that.
CREATE FUNCTION audit_events_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit events are append-only';
END;
$$;

CREATE TRIGGER audit_events_no_update_delete BEFORE UPDATE OR DELETE ON audit_events
    FOR EACH ROW EXECUTE FUNCTION audit_events_append_only();

CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
    FOR EACH STATEMENT EXECUTE FUNCTION audit_events_append_only();
