DROP TABLE config_checks;
DROP TABLE config_drift;
DROP TABLE config_snapshots;
