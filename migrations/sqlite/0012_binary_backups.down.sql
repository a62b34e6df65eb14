DROP TABLE binary_backups;
