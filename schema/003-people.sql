-- digest store, version 3: what the leader says about people.
-- Settings are kept per address; a person's setting is that of any of
-- their addresses (the primary address first).

CREATE TABLE person_setting (
	leader_id     INTEGER NOT NULL REFERENCES leader(id) ON DELETE CASCADE,
	addr          TEXT NOT NULL,     -- lower case
	snoozed_until INTEGER,           -- unix seconds, or NULL
	cadence_days  REAL,              -- a wanted rhythm, or NULL (learned)
	note          TEXT,
	PRIMARY KEY (leader_id, addr)
) STRICT, WITHOUT ROWID;

-- `ignore` patterns given on the command line (beside the config's).
CREATE TABLE ignore_pattern (
	leader_id INTEGER NOT NULL REFERENCES leader(id) ON DELETE CASCADE,
	pattern   TEXT NOT NULL,         -- lower case glob
	PRIMARY KEY (leader_id, pattern)
) STRICT, WITHOUT ROWID;

-- `merge`: addr belongs to the person whose first address is `person`.
-- `merge --undo` removes the row and records the address in `unmerged`,
-- which also keeps automatic merging away from it.
CREATE TABLE merged (
	leader_id INTEGER NOT NULL REFERENCES leader(id) ON DELETE CASCADE,
	addr      TEXT NOT NULL,
	person    TEXT NOT NULL,
	PRIMARY KEY (leader_id, addr)
) STRICT, WITHOUT ROWID;

CREATE TABLE unmerged (
	leader_id INTEGER NOT NULL REFERENCES leader(id) ON DELETE CASCADE,
	addr      TEXT NOT NULL,
	PRIMARY KEY (leader_id, addr)
) STRICT, WITHOUT ROWID;
