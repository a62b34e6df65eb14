DROP TRIGGER registry_generation_organizations ON organizations;
DROP TRIGGER registry_generation_projects ON projects;
DROP TRIGGER registry_generation_credentials ON device_credentials;
DROP TRIGGER registry_generation_device_update ON devices;
DROP TRIGGER registry_generation_device_change ON devices;
DROP FUNCTION registry_generation_bump();
DROP TABLE registry_generation;
