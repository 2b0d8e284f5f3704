-- Signed checkpoints over the whole audit trail (audit/checkpoints.ts): each partition's head seq and hash, a
-- sequence number and the previous checkpoint's hash, signed with an Ed25519 key derived from the master key. Each
-- is also appended to a witness outside the database; here they let the service see where it stood.
CREATE TABLE audit_checkpoint (
  seq       bigint PRIMARY KEY CHECK (seq > 0),
  at        timestamptz NOT NULL,
  -- The exact signed text (JSON): the signature covers its UTF-8 bytes.
  body      text NOT NULL,
  signature bytea NOT NULL CHECK (length(signature) = 64)
);

CREATE TRIGGER audit_checkpoint_append_only BEFORE UPDATE OR DELETE ON audit_checkpoint
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
CREATE TRIGGER audit_checkpoint_no_truncate BEFORE TRUNCATE ON audit_checkpoint
  FOR EACH STATEMENT EXECUTE FUNCTION audit_refuse_change();
