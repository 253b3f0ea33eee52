-- digest store, version 1: leaders, their sources with incremental cursors,
-- addresses, interactions and their participants.
-- Applied in one transaction by store.c; PRAGMA user_version follows the
-- number of the file.

CREATE TABLE leader (
	id      INTEGER PRIMARY KEY,
	name    TEXT NOT NULL UNIQUE          -- the config's [leader ID]
) STRICT;

-- One configured source of a leader, keyed by the value as written.
CREATE TABLE source (
	id        INTEGER PRIMARY KEY,
	leader_id INTEGER NOT NULL REFERENCES leader(id) ON DELETE CASCADE,
	spec      TEXT NOT NULL,              -- "maildir:~/Mail/Sent" as written
	kind      TEXT NOT NULL,              -- maildir, mbox, imap, ics, http
	cursor    TEXT,                       -- backend's resume point
	last_scan INTEGER,                    -- when it was last read (unix s)
	last_new  INTEGER,                    -- when it last brought something new
	UNIQUE (leader_id, spec)
) STRICT;

-- Items a source has yielded: Maildir keys, or message ids for mbox.
-- status 0 = ingested, 1 = skipped with a warning, 2 = not the leader's or
-- duplicate (silently skipped).  Remembered so a warning is given once.
CREATE TABLE seen (
	source_id INTEGER NOT NULL REFERENCES source(id) ON DELETE CASCADE,
	key       TEXT NOT NULL,
	status    INTEGER NOT NULL,
	PRIMARY KEY (source_id, key)
) STRICT, WITHOUT ROWID;

-- Every address a leader wrote to.  Which of them are contacts (not the
-- leader's own, automated, a list or ignored) is decided when reading, so a
-- new `ignore` or alias takes effect at once.
CREATE TABLE address (
	id        INTEGER PRIMARY KEY,
	leader_id INTEGER NOT NULL REFERENCES leader(id) ON DELETE CASCADE,
	addr      TEXT NOT NULL,              -- lower case
	UNIQUE (leader_id, addr)
) STRICT;

-- Display names the leader used for an address, with how often.
CREATE TABLE address_name (
	address_id INTEGER NOT NULL REFERENCES address(id) ON DELETE CASCADE,
	name       TEXT NOT NULL,
	uses       INTEGER NOT NULL,
	PRIMARY KEY (address_id, name)
) STRICT, WITHOUT ROWID;

CREATE TABLE interaction (
	id        INTEGER PRIMARY KEY,
	leader_id INTEGER NOT NULL REFERENCES leader(id) ON DELETE CASCADE,
	source_id INTEGER NOT NULL REFERENCES source(id) ON DELETE CASCADE,
	channel   TEXT NOT NULL CHECK (channel IN ('email', 'meeting')),
	time      INTEGER NOT NULL,           -- unix seconds, UTC
	size      INTEGER NOT NULL,           -- n of DESIGN §5
	weight    REAL NOT NULL,
	dedup     TEXT NOT NULL,              -- Message-ID, header hash, UID+instance
	title     TEXT,                       -- only with keep_subjects
	UNIQUE (leader_id, dedup)
) STRICT;
CREATE INDEX interaction_time ON interaction (leader_id, time);

CREATE TABLE participant (
	interaction_id INTEGER NOT NULL REFERENCES interaction(id) ON DELETE CASCADE,
	address_id     INTEGER NOT NULL REFERENCES address(id) ON DELETE CASCADE,
	PRIMARY KEY (interaction_id, address_id)
) STRICT, WITHOUT ROWID;
CREATE INDEX participant_address ON participant (address_id);
