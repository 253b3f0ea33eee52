-- digest store, version 7: calendars over https.
--
-- The last calendar an https source gave, with the validators it came
-- with (ETag, Last-Modified), so that the next run asks for it only if
-- it changed (a conditional GET) and still has it when the server
-- answers 304: the window moves every week, so even an unchanged
-- calendar is expanded again (a standing meeting's new instance).  The
-- body is what the server sent, after Content-Encoding; its expansion is
-- recorded in cal_file like a local file's.
CREATE TABLE http_cache (
	source_id     INTEGER PRIMARY KEY REFERENCES source(id) ON DELETE CASCADE,
	etag          TEXT,                 -- as sent by the server, or NULL
	last_modified TEXT,                 -- as sent by the server, or NULL
	body          BLOB NOT NULL,
	fetched       INTEGER NOT NULL      -- when the body was last sent (unix s)
) STRICT;
