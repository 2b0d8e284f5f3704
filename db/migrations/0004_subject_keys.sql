-- Per-subject data keys (crypto/). A key is stored only wrapped by a master key that never enters the database;
-- erasing a subject sets wrapped_key to NULL ("crypto-shredding"), which makes every value sealed under it
-- unreadable. A shredded row is kept as a tombstone so no new key is made for that subject by mistake.
CREATE TABLE subject_key (
  subject_id    uuid PRIMARY KEY REFERENCES subject(id),
  master_key_id text,
  wrapped_key   bytea,
  created_at    timestamptz NOT NULL,
  rotated_at    timestamptz,
  shredded_at   timestamptz,
  -- live: wrapped by a named master key; shredded: nothing left to unwrap
  CHECK (shredded_at IS NOT NULL OR (wrapped_key IS NOT NULL AND master_key_id IS NOT NULL)),
  CHECK (shredded_at IS NULL OR (wrapped_key IS NULL AND master_key_id IS NULL))
);
-- Rotation and `keys status` count and find keys by the master key that wraps them.
CREATE INDEX subject_key_master_key ON subject_key (master_key_id);
