-- Consent ledger (append-only events; the current state is derived), visitor sessions and the access log.
CREATE TABLE consent_event (
  id                 uuid PRIMARY KEY,
  subject_id         uuid REFERENCES subject(id),
  visitor_id         text,
  purpose            text NOT NULL,
  channel            text,
  state              text NOT NULL CHECK (state IN ('given', 'withdrawn', 'refused', 'expired')),
  method             text NOT NULL CHECK (method IN ('form', 'banner', 'email-link', 'gpc', 'staff', 'privacy-centre')),
  collection_point   text,
  notice_fingerprint text NOT NULL,
  at                 timestamptz NOT NULL,
  CHECK (subject_id IS NOT NULL OR visitor_id IS NOT NULL)
);
CREATE INDEX consent_event_subject ON consent_event (subject_id, purpose, at);
CREATE INDEX consent_event_visitor ON consent_event (visitor_id, purpose, at);

-- Withdrawal is a new event, never an edit: the ledger is append-only like the audit trail (0002's function).
CREATE TRIGGER consent_event_append_only BEFORE UPDATE OR DELETE ON consent_event
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- Server-side visitor sessions (seed 000: "a temporary session file ... indexed by a unique session ID").
-- Only a hash of the cookie's random id is stored, so a database leak cannot be replayed as cookies.
CREATE TABLE visitor_session (
  id_hash      bytea PRIMARY KEY,
  data         jsonb NOT NULL DEFAULT '{}',
  created_at   timestamptz NOT NULL,
  last_seen_at timestamptz NOT NULL,
  expires_at   timestamptz NOT NULL
);
CREATE INDEX visitor_session_expiry ON visitor_session (expires_at);

-- One line per request, nothing personal beyond a truncated IP (seed 002's server log files).
CREATE TABLE access_log (
  at          timestamptz NOT NULL,
  method      text NOT NULL,
  route       text NOT NULL,
  status      smallint NOT NULL,
  duration_ms integer NOT NULL,
  ip_prefix   text,
  browser     text
);
CREATE INDEX access_log_at ON access_log (at);
