-- Up Migration
-- The audit page filters by actor, action, target or phase and lists newest first (by id):
-- one index per filter in that order, so a filtered page reads only its rows.
CREATE INDEX audit_entry_actor_id_idx ON audit_entry (actor, id DESC);
CREATE INDEX audit_entry_action_id_idx ON audit_entry (action, id DESC);
CREATE INDEX audit_entry_phase_id_idx ON audit_entry (phase, id DESC);
DROP INDEX audit_entry_target_idx;
CREATE INDEX audit_entry_target_id_idx ON audit_entry (target, id DESC);

-- Down Migration
DROP INDEX audit_entry_actor_id_idx;
DROP INDEX audit_entry_action_id_idx;
DROP INDEX audit_entry_phase_id_idx;
DROP INDEX audit_entry_target_id_idx;
CREATE INDEX audit_entry_target_idx ON audit_entry (target, at DESC);
