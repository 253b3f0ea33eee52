-- digest store, version 4: who counted as the leader when a source was
-- read.  Messages From anyone else are remembered as seen with status 3;
-- when the leader's email, aliases or delegates change, those are read
-- again.  Status 4: a file that could not be read, warned about once and
-- tried again on every run.
ALTER TABLE source ADD COLUMN senders TEXT;
