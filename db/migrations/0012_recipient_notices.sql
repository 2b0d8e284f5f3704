-- Art. 19: each rectification, erasure or restriction is told to every recipient the person's data was actually
-- disclosed to (the disclosure ledger), one notice per recipient, tracked until staff record it done (or impossible,
-- with the reason). The notice names records by id only; the message itself is in the mail outbox.
CREATE TABLE recipient_notice (
  id           uuid PRIMARY KEY,
  request_id   uuid NOT NULL REFERENCES rights_request(id),
  subject_id   uuid NOT NULL REFERENCES subject(id),
  recipient    text NOT NULL,
  change       text NOT NULL CHECK (change IN ('rectification', 'erasure', 'restriction')),
  record_ids   uuid[] NOT NULL,
  state        text NOT NULL CHECK (state IN ('to-send', 'sent', 'done', 'impossible')),
  mail_id      uuid,
  created_at   timestamptz NOT NULL,
  completed_at timestamptz,
  completed_by text,
  reason       text
);
CREATE INDEX recipient_notice_request ON recipient_notice (request_id);
CREATE INDEX recipient_notice_open ON recipient_notice (state) WHERE state IN ('to-send', 'sent');

-- A complaint (UK DPA 2018 s.164A) is acknowledged within 30 days, the day of receipt counted as the first.
ALTER TABLE rights_request ADD COLUMN acknowledged_on date;
