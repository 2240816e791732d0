-- Up Migration
-- Named filters of the saga list and of the audit log (server/actions/view-actions.ts): a
-- user's own, or shared with the team; one of them may be where the user lands.
CREATE TABLE saved_view (
  id          uuid        PRIMARY KEY DEFAULT gen_random_uuid(),
  page        text        NOT NULL CHECK (page IN ('sagas', 'audit')),
  name        text        NOT NULL CHECK (length(name) BETWEEN 1 AND 80),
  -- The page's URL query string, validated by the page's own parameter schema when saved.
  query       text        NOT NULL CHECK (length(query) <= 2000),
  -- The actor's id (an app_user id, or "demo" for the demo operator) and address.
  owner       text        NOT NULL,
  owner_email text        NOT NULL,
  shared      boolean     NOT NULL DEFAULT false,
  created_at  timestamptz(3) NOT NULL DEFAULT now(),
  updated_at  timestamptz(3) NOT NULL DEFAULT now(),
  UNIQUE (owner, page, name)
);
CREATE INDEX saved_view_shared ON saved_view (updated_at DESC) WHERE shared;

-- The view a user lands on when they open the dashboard.
CREATE TABLE landing_view (
  owner   text PRIMARY KEY,
  view_id uuid NOT NULL REFERENCES saved_view (id) ON DELETE CASCADE
);

-- Down Migration
DROP TABLE landing_view;
DROP TABLE saved_view;
