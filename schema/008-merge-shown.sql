-- digest store, version 8: automatic merges listed once.
--
-- Each automatic merge (a person's addresses, sorted and joined by a
-- space) in force when a leader's digest was sent, with the week of that
-- digest: a later digest lists only the merges no earlier week's digest
-- showed.  Recorded with the delivery, never by a preview or dry run.
CREATE TABLE merge_shown (
	leader_id INTEGER NOT NULL REFERENCES leader(id) ON DELETE CASCADE,
	key       TEXT NOT NULL,
	week      TEXT NOT NULL,            -- the first week it was sent, YYYY-Www
	PRIMARY KEY (leader_id, key)
) STRICT;
