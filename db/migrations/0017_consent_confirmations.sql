-- Email consent ticked on a public form waits for confirmation from that mailbox (consent/email-consent.ts): one row
-- per confirmation mail sent, named by the pending ledger event the emailed link confirms. The row is deleted when
-- the link is used (so it works once) and once it has run out. The address is kept only as its keyed hash (the
-- suppression list's), so that one address gets one mail per purpose and channel at a time: nobody can flood a
-- mailbox by submitting a form over and over.
CREATE TABLE consent_confirmation (
  event_id     uuid PRIMARY KEY,
  subject_id   uuid NOT NULL REFERENCES subject(id),
  purpose      text NOT NULL,
  channel      text,
  address_hash bytea NOT NULL,
  sent_at      timestamptz NOT NULL,
  confirm_by   timestamptz NOT NULL
);
CREATE UNIQUE INDEX consent_confirmation_address ON consent_confirmation (address_hash, purpose, (coalesce(channel, '')));
CREATE INDEX consent_confirmation_due ON consent_confirmation (confirm_by);
