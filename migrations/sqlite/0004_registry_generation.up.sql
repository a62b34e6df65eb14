-- A counter that moves whenever anything a device lookup depends on changes: a device's row
-- (except when it was last seen), its credentials, its project or organization. A server keeps
-- resolved devices and their decrypted credentials in memory and reads only this counter on each
-- call: an unchanged counter proves the copy is current, so a decommissioned device is never
-- contacted and a rotated credential takes effect on the next call, in every process sharing the
-- database. Kept identical in meaning to migrations/postgres/0004_registry_generation.up.sql.

CREATE TABLE registry_generation (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    n   BIGINT NOT NULL
);
INSERT INTO registry_generation (id, n) VALUES (1, 0);

CREATE TRIGGER registry_generation_device_insert AFTER INSERT ON devices
BEGIN UPDATE registry_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER registry_generation_device_delete AFTER DELETE ON devices
BEGIN UPDATE registry_generation SET n = n + 1 WHERE id = 1; END;
-- Every column but last_seen_at, which records an observation and is written often.
CREATE TRIGGER registry_generation_device_update AFTER UPDATE OF
    id, project_id, name, address, rest_port, ssh_port, driver, environment, tags, status,
    routeros_version, board, architecture, identity, tls_cert_sha256, ssh_host_key_sha256,
    created_at, updated_at, decommissioned_at, http_port, insecure_http
ON devices
BEGIN UPDATE registry_generation SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER registry_generation_credentials_insert AFTER INSERT ON device_credentials
BEGIN UPDATE registry_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER registry_generation_credentials_update AFTER UPDATE ON device_credentials
BEGIN UPDATE registry_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER registry_generation_credentials_delete AFTER DELETE ON device_credentials
BEGIN UPDATE registry_generation SET n = n + 1 WHERE id = 1; END;

CREATE TRIGGER registry_generation_project_insert AFTER INSERT ON projects
BEGIN UPDATE registry_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER registry_generation_project_update AFTER UPDATE ON projects
BEGIN UPDATE registry_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER registry_generation_project_delete AFTER DELETE ON projects
BEGIN UPDATE registry_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER registry_generation_org_update AFTER UPDATE ON organizations
BEGIN UPDATE registry_generation SET n = n + 1 WHERE id = 1; END;
CREATE TRIGGER registry_generation_org_delete AFTER DELETE ON organizations
BEGIN UPDATE registry_generation SET n = n + 1 WHERE id = 1; END;
