DROP TABLE fleet_jobs;
