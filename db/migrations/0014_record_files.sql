-- Files of file fields (a CV, treatment photos): the record holds the file's name, sealed like every sealed value;
-- the bytes are here, sealed under the same person's data key (bound to the record id), with their kind and size.
-- Erasing the record's value deletes the row; destroying the key leaves nothing readable.
CREATE TABLE record_file (
  record_id  uuid PRIMARY KEY REFERENCES record(id) ON DELETE CASCADE,
  media_type text NOT NULL,
  size_bytes integer NOT NULL CHECK (size_bytes > 0),
  content    bytea NOT NULL
);
