-- Rights requests (requests/): one row per request, the days its clock stood still, the people staff confirmed it
-- is about, and what was decided for each record. The requester's contact details and message are personal data
-- kept as evidence of how the request was handled; they are cleared when the evidence period ends (requests/
-- purge). The email is also kept as a keyed hash, so a repeated request is found without reading addresses.
CREATE TABLE rights_request (
  id                   uuid PRIMARY KEY,
  type                 text NOT NULL CHECK (type IN ('access', 'rectification', 'erasure', 'restriction', 'objection', 'portability', 'withdraw-consent', 'complaint')),
  status               text NOT NULL CHECK (status IN ('unconfirmed', 'open', 'completed', 'refused', 'withdrawn', 'expired')),
  channel              text NOT NULL CHECK (channel IN ('web', 'email', 'post', 'phone', 'in-person')),
  jurisdiction         text NOT NULL CHECK (jurisdiction IN ('uk', 'eu')),
  received_at          timestamptz NOT NULL,
  received_on          date NOT NULL,
  -- Proof of identity reasonably asked for (UK: the clock starts when it arrives).
  identity_asked_on    date,
  identity_received_on date,
  relevant_on          date NOT NULL,
  due_on               date NOT NULL,
  extension_months     smallint NOT NULL DEFAULT 0 CHECK (extension_months BETWEEN 0 AND 2),
  extension_reason     text,
  extension_told_on    date,
  contact_email        text,
  contact_name         text,
  details              text,
  email_hash           bytea,
  -- Someone asking for another person: who they are, how they are related, on what authority.
  on_behalf            jsonb,
  duplicate_of         uuid REFERENCES rights_request(id),
  confirm_token_hash   bytea,
  confirm_expires_at   timestamptz,
  confirmed_at         timestamptz,
  -- How identity was checked: method, what was seen (a description, never a copy), by whom, when.
  verification         jsonb,
  fee_reason           text,
  -- UK DPA 2018 Sch. 3 Part 2: an appropriate health professional's opinion on releasing health data (who, when).
  health_opinion       jsonb,
  -- The answer is fetched by an expiring link; only a hash of its token is kept, never a copy of the answer.
  answer_token_hash    bytea,
  answer_expires_at    timestamptz,
  outcome              text CHECK (outcome IN ('done', 'partly-done', 'refused', 'nothing-held')),
  outcome_reasons      text[] NOT NULL DEFAULT '{}',
  closed_at            timestamptz,
  closed_by            text,
  created_by           text NOT NULL,
  contact_purged_at    timestamptz,
  CHECK (identity_received_on IS NULL OR identity_asked_on IS NOT NULL)
);
CREATE INDEX rights_request_open_due ON rights_request (due_on) WHERE status IN ('unconfirmed', 'open');
CREATE INDEX rights_request_email ON rights_request (email_hash);

-- UK clarification pauses (access requests only): from asking to the answer, both days included.
CREATE TABLE rights_request_pause (
  request_id    uuid NOT NULL REFERENCES rights_request(id),
  from_on       date NOT NULL,
  to_on         date,
  justification text NOT NULL,
  paused_by     text NOT NULL,
  resumed_by    text,
  PRIMARY KEY (request_id, from_on)
);

-- The people a request is about, as staff confirmed them: never found by a shared email alone.
CREATE TABLE rights_request_subject (
  request_id uuid NOT NULL REFERENCES rights_request(id),
  subject_id uuid NOT NULL REFERENCES subject(id),
  linked_by  text NOT NULL,
  linked_at  timestamptz NOT NULL,
  PRIMARY KEY (request_id, subject_id)
);
CREATE INDEX rights_request_subject_subject ON rights_request_subject (subject_id);

-- Per record: what fulfilling the request did with it, and why (evidence; ids and codes only).
CREATE TABLE rights_request_decision (
  request_id uuid NOT NULL REFERENCES rights_request(id),
  record_id  uuid NOT NULL REFERENCES record(id),
  action     text NOT NULL CHECK (action IN ('disclosed', 'withheld', 'exported', 'erased', 'kept', 'restricted', 'unrestricted', 'rectified')),
  reason     text,
  decided_at timestamptz NOT NULL,
  decided_by text NOT NULL,
  PRIMARY KEY (request_id, record_id, action)
);

-- Disclosure ledger (disclosures/): which records went to which recipient, for which purpose, when.
CREATE TABLE disclosure (
  id          uuid PRIMARY KEY,
  subject_id  uuid NOT NULL REFERENCES subject(id),
  recipient   text NOT NULL,
  purpose     text NOT NULL,
  categories  text[] NOT NULL,
  record_ids  uuid[] NOT NULL,
  disclosed_at timestamptz NOT NULL,
  recorded_at timestamptz NOT NULL,
  recorded_by text NOT NULL,
  reference   text
);
CREATE INDEX disclosure_subject ON disclosure (subject_id, disclosed_at);
