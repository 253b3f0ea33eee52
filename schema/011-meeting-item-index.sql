-- digest store, version 11: the item index holds meetings only.
--
-- interaction_item (source_id, item, time) finds what a calendar file
-- contributed, to replace it when the file is read again.  Mail has no
-- item, yet every message was a NULL entry in it: a b-tree insert for
-- each of a fresh ingest's messages that no query needs (the newest mail
-- of a source is found down the time index instead).
DROP INDEX interaction_item;
CREATE INDEX interaction_item ON interaction (source_id, item, time)
	WHERE item IS NOT NULL;
