-- Outgoing mail (mail/): one row per message, inserted in the transaction of whatever caused it, so a message
-- exists only if that committed; delivered by a job with retries. With no SMTP configured a message is 'held': an
-- outbox staff read and send by hand. Personal content (address, subject line, bodies, headers) is cleared once the
-- message is done with and older than the retention period, and at once for a person on erasure; the row itself
-- (kind, state, dates, ids) stays as the record that a message was sent.
CREATE TABLE mail_outbox (
  id                uuid PRIMARY KEY,
  -- A code naming what the message is ('request-verification', 'newsletter-confirm'...), never prose.
  kind              text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9-]{0,63}$'),
  -- Who it is about, for access answers and erasure.
  subject_id        uuid REFERENCES subject(id),
  -- The rights request it belongs to (no foreign key: requests/ owns that table).
  request_id        uuid,
  to_address        text NOT NULL,
  from_address      text NOT NULL,
  subject_line      text NOT NULL,
  body_text         text NOT NULL,
  body_html         text,
  -- Extra header lines (List-Unsubscribe...): name → value.
  headers           jsonb NOT NULL DEFAULT '{}',
  state             text NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'held')),
  attempts          integer NOT NULL DEFAULT 0,
  -- When a queued message is due; for one being sent, when its attempt is presumed dead and it is due again.
  next_attempt_at   timestamptz,
  -- A code and the SMTP reply code of the last failure ('EENVELOPE 550'), never the server's text (it names the address).
  last_error        text,
  message_id        text,
  created_at        timestamptz NOT NULL,
  sent_at           timestamptz,
  content_erased_at timestamptz,
  CHECK (content_erased_at IS NULL OR (to_address = '' AND subject_line = '' AND body_text = '' AND body_html IS NULL AND headers = '{}'))
);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at) WHERE state IN ('queued', 'sending');
CREATE INDEX mail_outbox_newest ON mail_outbox (created_at DESC, id DESC);
CREATE INDEX mail_outbox_subject ON mail_outbox (subject_id) WHERE subject_id IS NOT NULL;
CREATE INDEX mail_outbox_request ON mail_outbox (request_id) WHERE request_id IS NOT NULL;
CREATE INDEX mail_outbox_content ON mail_outbox (coalesce(sent_at, created_at)) WHERE content_erased_at IS NULL AND state IN ('sent', 'failed', 'held');
