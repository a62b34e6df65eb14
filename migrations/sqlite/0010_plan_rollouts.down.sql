DROP TABLE plan_rollouts;
