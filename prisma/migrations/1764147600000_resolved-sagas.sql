-- Up Migration
-- An operator may mark a saga resolved (control command mark-resolved): it has ended by hand.
ALTER TYPE saga_status ADD VALUE IF NOT EXISTS 'resolved';

-- Down Migration
-- Postgres cannot drop an enum value; sagas marked resolved are kept as failed instead.
UPDATE saga_summary SET status = 'failed' WHERE status = 'resolved';
