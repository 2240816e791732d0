-- Up Migration
-- What an operator did with a quarantined message: replayed it to its topic (once the
-- producer or the contract was fixed) or discarded it, by whom, when and why. Open letters
-- (no resolution yet) are what the page and the overview count.
ALTER TABLE dead_letter
  ADD COLUMN resolution text CHECK (resolution IN ('replayed', 'discarded')),
  ADD COLUMN resolved_by text,
  ADD COLUMN resolved_at timestamptz(3),
  ADD COLUMN resolution_note text;
CREATE INDEX dead_letter_open_idx ON dead_letter (id DESC) WHERE resolution IS NULL;

-- Down Migration
DROP INDEX dead_letter_open_idx;
ALTER TABLE dead_letter
  DROP COLUMN resolution, DROP COLUMN resolved_by, DROP COLUMN resolved_at, DROP COLUMN resolution_note;
