-- People are never joined by accident. An identifier is no longer owned by one subject: families share a phone,
-- colleagues an email, and two practices each have a patient "1001". Each row says how far it names a person
-- (strong, within scope; or a contact point), and whether staff vouched for it (verified). Only a verified strong
-- identifier in a known scope has one owner; a public submission never attaches to anyone, it opens a review item.
ALTER TABLE subject_identifier DROP CONSTRAINT subject_identifier_pkey;
ALTER TABLE subject_identifier
  -- '*' across the register; for an identifier unique within its issuer, the issuer ('<field>=<value>'); '' unknown.
  ADD COLUMN scope text NOT NULL DEFAULT '',
  ADD COLUMN strong boolean NOT NULL DEFAULT false,
  ADD COLUMN verified boolean NOT NULL DEFAULT false,
  -- Set when the person is erased: a retired identifier finds nobody, so a new submission is a new person.
  ADD COLUMN retired_at timestamptz;
UPDATE subject_identifier SET strong = true, scope = '*' WHERE kind IN ('practice-number', 'gdc-number', 'customer-number', 'visitor-id');
ALTER TABLE subject_identifier ADD PRIMARY KEY (subject_id, kind, scope, value);
DROP INDEX subject_identifier_subject;
CREATE INDEX subject_identifier_lookup ON subject_identifier (kind, value);
CREATE UNIQUE INDEX subject_identifier_owner ON subject_identifier (kind, scope, value) WHERE strong AND verified AND retired_at IS NULL AND scope <> '';

-- "Possibly the same person": a newer subject that shares something with one already known, for staff to decide.
CREATE TABLE identity_review (
  id           uuid PRIMARY KEY,
  subject_id   uuid NOT NULL REFERENCES subject(id) DEFERRABLE INITIALLY DEFERRED,
  candidate_id uuid NOT NULL REFERENCES subject(id),
  -- What they share and how they compare: 'shares:phone', 'same-name', 'birth-date-differs'...
  signals      text[] NOT NULL,
  state        text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'merged', 'rejected')),
  opened_at    timestamptz NOT NULL,
  decided_at   timestamptz,
  decided_by   text,
  merge_id     uuid,
  UNIQUE (subject_id, candidate_id)
);
CREATE INDEX identity_review_open ON identity_review (opened_at) WHERE state = 'open';
CREATE INDEX identity_review_candidate ON identity_review (candidate_id);

-- Merges, undoable until confirmed: which records moved, so an undo moves exactly those back.
CREATE TABLE subject_merge (
  id           uuid PRIMARY KEY,
  from_subject uuid NOT NULL REFERENCES subject(id),
  into_subject uuid NOT NULL REFERENCES subject(id),
  record_ids   uuid[] NOT NULL,
  state        text NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'confirmed', 'undone')),
  merged_at    timestamptz NOT NULL,
  merged_by    text NOT NULL,
  decided_at   timestamptz,
  decided_by   text
);
CREATE INDEX subject_merge_into ON subject_merge (into_subject);
CREATE INDEX subject_merge_from ON subject_merge (from_subject);

-- Sealed records a retention rule still kept, shredded anyway: the reason given (free text, so not in the audit
-- trail, whose event names this row). Append-only, like the trail that names it.
CREATE TABLE retention_override (
  id         uuid PRIMARY KEY,
  subject_id uuid NOT NULL REFERENCES subject(id),
  reason     text NOT NULL CHECK (length(reason) BETWEEN 1 AND 500),
  records    integer NOT NULL,
  actor      text NOT NULL,
  at         timestamptz NOT NULL
);
CREATE TRIGGER retention_override_append_only BEFORE UPDATE OR DELETE ON retention_override
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
