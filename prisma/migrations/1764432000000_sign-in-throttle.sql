-- Up Migration
-- Sign-in attempts not yet proven good, per account, per client address and per account and
-- address together: shared by every web instance. Counted before the password is checked, so
-- guesses sent at once are all counted; a success clears the account's and the pair's.
CREATE TABLE sign_in_throttle (
  key        text           PRIMARY KEY,
  attempts   integer        NOT NULL CHECK (attempts >= 0),
  last_at    timestamptz(3) NOT NULL
);
CREATE INDEX sign_in_throttle_last_at_idx ON sign_in_throttle (last_at);

-- Down Migration
DROP TABLE sign_in_throttle;
