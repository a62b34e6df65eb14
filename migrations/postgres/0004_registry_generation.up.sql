-- A counter that moves whenever anything a device lookup depends on changes: a device's row
-- (except when it was last seen), its credentials, its project or organization. A server keeps
-- resolved devices and their decrypted credentials in memory and reads only this counter on each
-- call: an unchanged counter proves the copy is current, so a decommissioned device is never
-- contacted and a rotated credential takes effect on the next call, in every process sharing the
-- database. The counter moves inside the changing transaction, so it becomes visible with the
-- change. Kept identical in meaning to migrations/sqlite/0004_registry_generation.up.sql.

CREATE TABLE registry_generation (
    id  INTEGER PRIMARY KEY CHECK (id = 1),
    n   BIGINT NOT NULL
);
INSERT INTO registry_generation (id, n) VALUES (1, 0);

CREATE FUNCTION registry_generation_bump() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE registry_generation SET n = n + 1 WHERE id = 1;
    RETURN NULL;
END;
$$;

CREATE TRIGGER registry_generation_device_change AFTER INSERT OR DELETE ON devices
    FOR EACH STATEMENT EXECUTE FUNCTION registry_generation_bump();
-- Every column but last_seen_at, which records an observation and is written often.
CREATE TRIGGER registry_generation_device_update AFTER UPDATE OF
    id, project_id, name, address, rest_port, ssh_port, driver, environment, tags, status,
    routeros_version, board, architecture, identity, tls_cert_sha256, ssh_host_key_sha256,
    created_at, updated_at, decommissioned_at, http_port, insecure_http
ON devices FOR EACH STATEMENT EXECUTE FUNCTION registry_generation_bump();
CREATE TRIGGER registry_generation_credentials AFTER INSERT OR UPDATE OR DELETE ON device_credentials
    FOR EACH STATEMENT EXECUTE FUNCTION registry_generation_bump();
CREATE TRIGGER registry_generation_projects AFTER INSERT OR UPDATE OR DELETE ON projects
    FOR EACH STATEMENT EXECUTE FUNCTION registry_generation_bump();
CREATE TRIGGER registry_generation_organizations AFTER UPDATE OR DELETE ON organizations
    FOR EACH STATEMENT EXECUTE FUNCTION registry_generation_bump();
