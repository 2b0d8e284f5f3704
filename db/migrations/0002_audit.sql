-- The tamper-evident audit trail (audit/). Events are hash-chained per partition (month + shard, later tenant too),
-- so concurrent writers only contend within one partition; each partition's head carries an HMAC checkpoint
-- over its last seq and hash, which catches deleting or rewriting the tail of a chain.

CREATE TABLE audit_event (
  partition   text NOT NULL,
  seq         bigint NOT NULL CHECK (seq > 0),
  id          uuid NOT NULL UNIQUE,
  at          timestamptz NOT NULL,
  actor       text NOT NULL,
  action      text NOT NULL,
  -- No foreign key: the events about a subject must outlive the subject's erasure.
  subject_id  uuid,
  record_ids  uuid[] NOT NULL DEFAULT '{}',
  purpose     text,
  fingerprint text,
  -- Ids and codes only, never personal values (audit/validate-audit-input.ts enforces short scalars).
  detail      jsonb NOT NULL DEFAULT '{}',
  prev_hash   bytea NOT NULL CHECK (length(prev_hash) = 32),
  hash        bytea NOT NULL CHECK (length(hash) = 32),
  PRIMARY KEY (partition, seq)
);
CREATE INDEX audit_event_subject ON audit_event (subject_id);
CREATE INDEX audit_event_at ON audit_event (at);

CREATE TABLE audit_head (
  partition  text PRIMARY KEY,
  seq        bigint NOT NULL CHECK (seq >= 0),
  hash       bytea NOT NULL CHECK (length(hash) = 32),
  -- HMAC-SHA256 over partition|seq|hash with a key derived from the master key: without the key, a rewritten
  -- chain cannot be given a head that verifies.
  checkpoint bytea NOT NULL CHECK (length(checkpoint) = 32),
  updated_at timestamptz NOT NULL
);

-- Append-only, enforced by the database itself so no code path (or hand-written SQL) can quietly edit history.
-- Statement-level, so even a statement that would touch no row is refused.
CREATE FUNCTION audit_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'audit trail is append-only: % on % refused', TG_OP, TG_TABLE_NAME
    USING ERRCODE = 'insufficient_privilege';
END;
$$;

CREATE TRIGGER audit_event_append_only BEFORE UPDATE OR DELETE ON audit_event
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_event_no_truncate BEFORE TRUNCATE ON audit_event
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

-- Heads move forward only: they are created, then advanced by appends; never removed or wound back.
CREATE TRIGGER audit_head_no_delete BEFORE DELETE OR TRUNCATE ON audit_head
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();

CREATE FUNCTION audit_head_forward_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.partition <> OLD.partition OR NEW.seq < OLD.seq THEN
    RAISE EXCEPTION 'audit head of % can only move forward (seq % to %)', OLD.partition, OLD.seq, NEW.seq
      USING ERRCODE = 'insufficient_privilege';
  END IF;
  RETURN NEW;
END;
$$;
CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head
  FOR EACH ROW EXECUTE FUNCTION audit_head_forward_only();
