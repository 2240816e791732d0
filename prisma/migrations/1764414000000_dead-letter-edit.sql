-- Up Migration
-- An admin may replay a quarantined message with an edit (a producer's bug fixed by hand):
-- the edited key, value and headers are kept beside the original bytes, never over them.
ALTER TABLE dead_letter DROP CONSTRAINT dead_letter_resolution_check;
ALTER TABLE dead_letter
  ADD CONSTRAINT dead_letter_resolution_check CHECK (resolution IN ('replayed', 'replayed-edited', 'discarded')),
  ADD COLUMN edited_key bytea,
  ADD COLUMN edited_value bytea,
  ADD COLUMN edited_headers jsonb;

-- Down Migration
ALTER TABLE dead_letter DROP CONSTRAINT dead_letter_resolution_check;
ALTER TABLE dead_letter
  DROP COLUMN edited_key, DROP COLUMN edited_value, DROP COLUMN edited_headers,
  ADD CONSTRAINT dead_letter_resolution_check CHECK (resolution IN ('replayed', 'discarded'));
