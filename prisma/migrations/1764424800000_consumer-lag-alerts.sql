-- Up Migration
-- Alert rules on a consumer group's lag in messages (any group of this deployment).
ALTER TABLE alert_rule DROP CONSTRAINT alert_rule_kind_check;
ALTER TABLE alert_rule ADD CONSTRAINT alert_rule_kind_check
  CHECK (kind IN ('stuck_sagas', 'breaker_open', 'projection_lag', 'consumer_lag', 'dead_letters', 'saga_failure_rate'));

-- Down Migration
DELETE FROM alert_rule WHERE kind = 'consumer_lag';
ALTER TABLE alert_rule DROP CONSTRAINT alert_rule_kind_check;
ALTER TABLE alert_rule ADD CONSTRAINT alert_rule_kind_check
  CHECK (kind IN ('stuck_sagas', 'breaker_open', 'projection_lag', 'dead_letters', 'saga_failure_rate'));
