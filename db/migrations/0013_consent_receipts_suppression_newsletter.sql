-- The consent ledger grows what a receipt needs (consent/): the receipt an event belongs to (events recorded together
-- share one), when a consent lapses (the purpose's consent-lasts), the notice language, and the sale or negotiation
-- a soft opt-in comes from. 'objected' records an objection to legitimate-interest marketing or profiling (a form's
-- "do not send me news" box, a Global Privacy Control signal); 'pending' an email consent given on a public form,
-- which counts only once confirmed from that mailbox. 'api' is a consent recorded through the API by an integration.
ALTER TABLE consent_event ADD COLUMN receipt_id uuid;
ALTER TABLE consent_event ADD COLUMN expires_at timestamptz;
ALTER TABLE consent_event ADD COLUMN language text;
ALTER TABLE consent_event ADD COLUMN context text;
ALTER TABLE consent_event DROP CONSTRAINT consent_event_state_check;
ALTER TABLE consent_event ADD CONSTRAINT consent_event_state_check
  CHECK (state IN ('given', 'withdrawn', 'refused', 'expired', 'objected', 'pending'));
ALTER TABLE consent_event DROP CONSTRAINT consent_event_method_check;
ALTER TABLE consent_event ADD CONSTRAINT consent_event_method_check
  CHECK (method IN ('form', 'banner', 'email-link', 'gpc', 'staff', 'privacy-centre', 'api'));
CREATE INDEX consent_event_receipt ON consent_event (receipt_id) WHERE receipt_id IS NOT NULL;
-- Consent rates over time (the console's chart) read events by date.
CREATE INDEX consent_event_at ON consent_event (at);

-- Who must never be sent marketing again: keyed hashes (HMAC-SHA-256 under a key of hash_key) of an identifier,
-- per channel ('*': every channel). No subject id and no address: the entry survives the person's erasure, and a
-- database leak does not list who unsubscribed. Added on unsubscribing, on an objection to marketing, and on erasure
-- of someone who objected to or refused marketing; never removed by the service.
CREATE TABLE marketing_suppression (
  hash       bytea NOT NULL,
  channel    text NOT NULL CHECK (channel IN ('*', 'email', 'sms', 'phone', 'automated-call', 'post')),
  reason     text NOT NULL CHECK (reason IN ('unsubscribed', 'objected', 'erased', 'refused')),
  created_at timestamptz NOT NULL,
  PRIMARY KEY (hash, channel)
);
CREATE TRIGGER marketing_suppression_append_only BEFORE UPDATE OR DELETE ON marketing_suppression
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- Newsletter sign-ups (double opt-in): pending until confirmed from the mailbox by a signed, expiring link; a pending
-- one is deleted once its link has expired; unsubscribing deletes the row (the ledger keeps the withdrawal under the
-- subscription id, the suppression list the keyed hash of the address).
CREATE TABLE newsletter_subscriber (
  id           uuid PRIMARY KEY,
  email        text NOT NULL,
  language     text NOT NULL,
  interests    text[] NOT NULL DEFAULT '{}',
  state        text NOT NULL CHECK (state IN ('pending', 'confirmed')),
  created_at   timestamptz NOT NULL,
  confirm_by   timestamptz NOT NULL,
  confirmed_at timestamptz,
  notice_fingerprint text NOT NULL
);
CREATE UNIQUE INDEX newsletter_subscriber_email ON newsletter_subscriber (email);
CREATE INDEX newsletter_subscriber_pending ON newsletter_subscriber (confirm_by) WHERE state = 'pending';

-- Secrets for keyed hashes (crypto/): random, stored only wrapped by a master key, re-wrapped on rotation, so a
-- hash made before a rotation still matches after it.
CREATE TABLE hash_key (
  name          text PRIMARY KEY,
  master_key_id text NOT NULL,
  wrapped_key   bytea NOT NULL,
  created_at    timestamptz NOT NULL,
  rotated_at    timestamptz
);
