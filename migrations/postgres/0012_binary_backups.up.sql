-- Binary backups (`/system backup save`) taken on request: the `.backup` file the device wrote,
-- fetched over SFTP and removed from the device, kept sealed under the master key together with
-- the random password it was encrypted with on the device. Both ciphertexts are bound to the
-- device and the backup's id. Kept column-for-column identical in both dialects.

CREATE TABLE binary_backups (
    id               TEXT PRIMARY KEY,
    device_id        TEXT NOT NULL REFERENCES devices (id),
    taken_at         TEXT NOT NULL,
    -- Who asked for it (`cli:<user>`, `api:<subject>`).
    requested_by     TEXT NOT NULL,
    -- The file's name on the device while it existed there.
    file_name        TEXT NOT NULL,
    size_bytes       BIGINT NOT NULL,
    -- SHA-256 (hex) of the `.backup` file as the device wrote it (itself encrypted).
    file_sha256      TEXT NOT NULL,
    routeros_version TEXT,
    key_id           TEXT NOT NULL,
    -- base64 of the sealed file and hex of its nonce.
    content          TEXT NOT NULL,
    content_nonce    TEXT NOT NULL,
    -- base64 of the sealed backup password and hex of its nonce.
    password         TEXT NOT NULL,
    password_nonce   TEXT NOT NULL
);

CREATE INDEX binary_backups_device ON binary_backups (device_id, taken_at);
