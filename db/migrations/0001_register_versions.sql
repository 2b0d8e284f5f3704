-- Every register version this installation has served. A register whose fingerprint is new at start-up is a new
-- notice version; the canonical JSON is kept so the diff to the previous version can always be recomputed.
CREATE TABLE register_version (
  id              integer GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  fingerprint     text NOT NULL UNIQUE CHECK (fingerprint ~ '^[0-9a-f]{64}$'),
  canonical       jsonb NOT NULL,
  source_yaml     text NOT NULL,
  notice_version  text,
  effective       date NOT NULL,
  first_served_at timestamptz NOT NULL,
  last_served_at  timestamptz NOT NULL
);
