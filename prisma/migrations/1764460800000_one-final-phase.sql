-- Up Migration
-- An action ends once: a late owner's answer and the answer deadline (server/actions/
-- answer-deadline.ts) racing to settle it cannot both be recorded.
CREATE UNIQUE INDEX audit_entry_one_final_idx ON audit_entry (action_id)
  WHERE phase IN ('done', 'failed', 'refused', 'denied');

-- Down Migration
DROP INDEX audit_entry_one_final_idx;
