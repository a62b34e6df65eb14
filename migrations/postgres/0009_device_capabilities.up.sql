-- What the workflow may plan on a device, set by an admin. NULL follows the device's
-- environment: lab and staging allow basic writes and professional workflows, prod basic writes
-- only. Kept column-for-column identical in both dialects.
ALTER TABLE devices ADD COLUMN allow_basic_writes BIGINT CHECK (allow_basic_writes IN (0, 1));
ALTER TABLE devices ADD COLUMN allow_professional_workflows BIGINT
    CHECK (allow_professional_workflows IN (0, 1));
