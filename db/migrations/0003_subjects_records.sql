-- Subjects (the people data is about), their identifiers, and records: one piece of personal data each, tagged
-- with what the register said about it when it was collected. Values of sealed categories are only ever stored
-- encrypted (value_sealed); value_text holds the rest.
CREATE TABLE subject (
  id          uuid PRIMARY KEY,
  kind        text NOT NULL,
  created_at  timestamptz NOT NULL,
  merged_into uuid REFERENCES subject(id),
  erased_at   timestamptz
);

-- One identifier (normalised) belongs to one subject per identifier kind. The reference is checked at commit so
-- a new subject's identifiers can claim their (kind, value) first: whoever claims first owns the identifier.
CREATE TABLE subject_identifier (
  kind       text NOT NULL,
  value      text NOT NULL,
  subject_id uuid NOT NULL REFERENCES subject(id) DEFERRABLE INITIALLY DEFERRED,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (kind, value)
);
CREATE INDEX subject_identifier_subject ON subject_identifier (subject_id);

CREATE TABLE record (
  id                   uuid PRIMARY KEY,
  subject_id           uuid NOT NULL REFERENCES subject(id),
  collection_point     text,
  field                text NOT NULL,
  category             text NOT NULL,
  purposes             text[] NOT NULL,
  bases                text[] NOT NULL,
  source               text NOT NULL,
  channel              text NOT NULL,
  collected_at         timestamptz NOT NULL,
  received_at          timestamptz,
  retention_event      text NOT NULL,
  retention_starts_at  timestamptz,
  state                text NOT NULL DEFAULT 'active' CHECK (state IN ('active', 'restricted', 'erased')),
  value_text           text,
  value_sealed         bytea,
  register_fingerprint text NOT NULL,
  CHECK (value_text IS NULL OR value_sealed IS NULL)
);
CREATE INDEX record_subject ON record (subject_id);
