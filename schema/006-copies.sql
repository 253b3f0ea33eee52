-- digest store, version 6: copies of one message, and standing meetings.
--
-- Mail exports store the same sent message twice, in two folders and with
-- two Message-IDs (DESIGN §5).  copy_key is a hash of a message's
-- recipients and subject (the subject itself is not stored); a message
-- whose copy_key matches an interaction of another source within 24 hours
-- is that interaction, which takes the earlier time.  interaction_copy
-- records which sources gave it a copy, so that one interaction absorbs
-- at most one copy from each source: two messages of one folder are never
-- copies of each other.
ALTER TABLE interaction ADD COLUMN copy_key TEXT;
CREATE INDEX interaction_copy_key ON interaction (leader_id, copy_key, time)
	WHERE copy_key IS NOT NULL;

CREATE TABLE interaction_copy (
	interaction_id INTEGER NOT NULL REFERENCES interaction(id) ON DELETE CASCADE,
	source_id      INTEGER NOT NULL REFERENCES source(id) ON DELETE CASCADE,
	PRIMARY KEY (interaction_id, source_id)
) STRICT, WITHOUT ROWID;

-- A coming-up meeting that is an instance of a recurring series.  Besides
-- the meetings of the coming week, the next instance of every series that
-- goes on after it is kept: a standing 1:1 whose next instance is further
-- out still keeps the person off the neglected list (DESIGN §6).  Its
-- weight (DESIGN §5) tells a meeting with someone from an all-hands:
-- only a meeting that will be a touch books the people in it.
ALTER TABLE upcoming ADD COLUMN recurring INTEGER NOT NULL DEFAULT 0;
ALTER TABLE upcoming ADD COLUMN weight REAL NOT NULL DEFAULT 0;

-- Who else sends mail from a leader's sent sources: messages there From
-- someone who is neither the leader nor a delegate.  People who share a
-- leader's sent folder are that leader's staff (an assistant, a chief of
-- staff): never contacts of that leader, and, like every leader's
-- delegates, someone else's assistant to the other leaders.  Forgotten
-- with the seen rows of status 3 when the leader's addresses change.
CREATE TABLE foreign_sender (
	source_id INTEGER NOT NULL REFERENCES source(id) ON DELETE CASCADE,
	addr      TEXT NOT NULL,              -- lower case
	messages  INTEGER NOT NULL,
	PRIMARY KEY (source_id, addr)
) STRICT, WITHOUT ROWID;

-- A database of an older digest: what it skipped as not the leader's is
-- read again once (so that its senders are counted), and every calendar
-- file is expanded again (so that coming-up meetings get their weight and
-- standing series their next instance).  Interactions stored before this
-- version have no copy_key: copies of them in a source added later are
-- not recognised.
DELETE FROM seen WHERE status = 3;
UPDATE source SET cursor = NULL WHERE kind IN ('maildir', 'mbox');
UPDATE cal_file SET win_to = 0;
