-- digest store, version 5: the send ledger.  One row per attempt to
-- deliver a leader's digest of a week; n counts forced resends and is
-- part of the Message-ID, so a duplicate after a crash is recognisable
-- and a forced resend is not dropped as one.
CREATE TABLE delivery (
	leader_id  INTEGER NOT NULL REFERENCES leader(id) ON DELETE CASCADE,
	week       TEXT NOT NULL,     -- ISO week, 2026-W49
	n          INTEGER NOT NULL,
	status     TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed')),
	message_id TEXT NOT NULL,
	time       INTEGER NOT NULL,  -- of the last attempt
	detail     TEXT,              -- the server's reply or the error
	PRIMARY KEY (leader_id, week, n)
) STRICT, WITHOUT ROWID;
