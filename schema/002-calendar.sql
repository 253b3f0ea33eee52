-- digest store, version 2: calendars.
-- A calendar source is a file or a directory of .ics files; each file
-- ("item") is expanded in the window of a run, and what it contributed is
-- replaced when it is read again, so a moved or cancelled meeting leaves
-- no ghost.

ALTER TABLE interaction ADD COLUMN item TEXT;  -- the .ics file, for meetings
CREATE INDEX interaction_item ON interaction (source_id, item, time);

-- The files of a calendar source as last read: content hash and the
-- window they were expanded in.
CREATE TABLE cal_file (
	source_id INTEGER NOT NULL REFERENCES source(id) ON DELETE CASCADE,
	item      TEXT NOT NULL,
	hash      TEXT NOT NULL,
	win_from  INTEGER NOT NULL,
	win_to    INTEGER NOT NULL,
	PRIMARY KEY (source_id, item)
) STRICT, WITHOUT ROWID;

-- Meetings of the coming week, as of the last read: not contact yet, but
-- what the digest shows under "coming up".
CREATE TABLE upcoming (
	id        INTEGER PRIMARY KEY,
	leader_id INTEGER NOT NULL REFERENCES leader(id) ON DELETE CASCADE,
	source_id INTEGER NOT NULL REFERENCES source(id) ON DELETE CASCADE,
	item      TEXT NOT NULL,
	time      INTEGER NOT NULL,
	size      INTEGER NOT NULL,
	dedup     TEXT NOT NULL,
	title     TEXT,
	UNIQUE (leader_id, dedup)
) STRICT;
CREATE INDEX upcoming_item ON upcoming (source_id, item);

CREATE TABLE upcoming_participant (
	upcoming_id INTEGER NOT NULL REFERENCES upcoming(id) ON DELETE CASCADE,
	address_id  INTEGER NOT NULL REFERENCES address(id) ON DELETE CASCADE,
	PRIMARY KEY (upcoming_id, address_id)
) STRICT, WITHOUT ROWID;
