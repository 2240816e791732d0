-- Up Migration
-- The consumer group a checkpoint speaks for (its groupId), so that a projection that reports
-- itself is named by its group too (the projections page, consumer lag in seconds).
ALTER TABLE projection_lag_sample ADD COLUMN group_id text;

-- Down Migration
ALTER TABLE projection_lag_sample DROP COLUMN group_id;
