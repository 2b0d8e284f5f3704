-- Staff accounts, their server-side sessions, and failed sign-in attempts. Sessions are keyed by the SHA-256 of the
-- cookie token, so reading this table never yields a usable session. Failed attempts live here, not in memory, so
-- every app process shares one rate limit.
CREATE TABLE staff_user (
  id                   uuid PRIMARY KEY,
  email                text NOT NULL UNIQUE CHECK (email = lower(btrim(email)) AND position('@' IN email) > 1),
  role                 text NOT NULL CHECK (role IN ('owner', 'dpo', 'staff', 'auditor')),
  password_hash        text NOT NULL CHECK (left(password_hash, 10) = '$argon2id$'),
  must_change_password boolean NOT NULL DEFAULT false,
  created_at           timestamptz NOT NULL,
  disabled_at          timestamptz,
  failed_attempts      integer NOT NULL DEFAULT 0 CHECK (failed_attempts >= 0),
  locked_until         timestamptz,
  password_changed_at  timestamptz NOT NULL
);

CREATE TABLE staff_session (
  id_hash             bytea PRIMARY KEY CHECK (octet_length(id_hash) = 32),
  user_id             uuid NOT NULL REFERENCES staff_user(id) ON DELETE CASCADE,
  -- Key for the session's CSRF token (HMAC of the cookie token): the token needs both this row and the cookie.
  csrf_secret         bytea NOT NULL CHECK (octet_length(csrf_secret) = 32),
  created_at          timestamptz NOT NULL,
  last_seen_at        timestamptz NOT NULL,
  absolute_expires_at timestamptz NOT NULL,
  ip_truncated        text,
  user_agent_family   text
);
CREATE INDEX staff_session_user ON staff_session (user_id);

-- One row per failed sign-in, twice: key 'ip:<truncated address>' and 'email:<sha-256 of the normalised address>'.
CREATE TABLE sign_in_attempt (
  key text NOT NULL,
  at  timestamptz NOT NULL
);
CREATE INDEX sign_in_attempt_key_at ON sign_in_attempt (key, at);
