-- Configuration snapshots and drift: each device's `/export` as last seen, kept only when its
-- content changed (identified by the SHA-256 of the normalized text), with what changed it when
-- the product knows (a plan it applied) and where drift from the last state the product
-- accepted currently stands. Kept column-for-column identical in both dialects.

CREATE TABLE config_snapshots (
    id               TEXT PRIMARY KEY,
    device_id        TEXT NOT NULL REFERENCES devices (id),
    taken_at         TEXT NOT NULL,
    content_hash     TEXT NOT NULL,
    -- The normalized export; with `key_id` set, base64 of its ciphertext under the master key
    -- (an export that includes secrets), `nonce` hex.
    content          TEXT NOT NULL,
    key_id           TEXT,
    nonce            TEXT,
    line_count       BIGINT NOT NULL,
    routeros_version TEXT,
    -- Why this snapshot was taken.
    trigger_kind     TEXT NOT NULL CHECK (trigger_kind IN ('schedule', 'operator', 'plan', 'drift_check')),
    -- What changed the configuration since the snapshot before: the first one of a device is the
    -- baseline; then a plan the product applied, or something outside the product.
    cause            TEXT NOT NULL CHECK (cause IN ('baseline', 'plan', 'outside')),
    plan_id          TEXT,
    changed_by       TEXT,
    -- JSON array of the RouterOS menus that differ from the snapshot before.
    changed_menus    TEXT NOT NULL
);

CREATE INDEX config_snapshots_device ON config_snapshots (device_id, taken_at);

-- Devices whose configuration differs from the last state the product applied or accepted.
-- One row per drifted device; removed when the device is back in line.
CREATE TABLE config_drift (
    device_id        TEXT PRIMARY KEY REFERENCES devices (id),
    since            TEXT NOT NULL,
    baseline_id      TEXT NOT NULL REFERENCES config_snapshots (id),
    snapshot_id      TEXT NOT NULL REFERENCES config_snapshots (id),
    menus            TEXT NOT NULL,
    checked_at       TEXT NOT NULL
);

-- When each device's configuration was last read for a backup and how that went, whether or not
-- a new snapshot resulted: what the backup schedule goes by.
CREATE TABLE config_checks (
    device_id        TEXT PRIMARY KEY REFERENCES devices (id),
    checked_at       TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('ok', 'failed')),
    error            TEXT
);
