-- What onboarding learns and needs beyond the first registry schema: the plain-HTTP REST port
-- (lab devices with --insecure-http), and when the device last answered.
ALTER TABLE devices ADD COLUMN http_port BIGINT CHECK (http_port BETWEEN 1 AND 65535);
ALTER TABLE devices ADD COLUMN insecure_http BIGINT NOT NULL DEFAULT 0 CHECK (insecure_http IN (0, 1));
ALTER TABLE devices ADD COLUMN last_seen_at TEXT;
