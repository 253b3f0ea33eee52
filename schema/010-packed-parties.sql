-- digest store, version 10: an interaction's participants in its row.
--
-- The participants of an interaction (or upcoming meeting) were rows of
-- their own, about four per message: the bulk of what a fresh ingest
-- writes and of what every run reads back.  They are kept instead as a
-- JSON array of address ids in the interaction's row, read and written
-- with it (json_each gives them back as rows to a query).  Addresses are
-- never deleted, so the ids stay valid without a foreign key.
ALTER TABLE interaction ADD COLUMN parties TEXT NOT NULL DEFAULT '[]';
UPDATE interaction SET parties = (
	SELECT json_group_array(address_id) FROM participant
	WHERE interaction_id = interaction.id);
DROP TABLE participant;

ALTER TABLE upcoming ADD COLUMN parties TEXT NOT NULL DEFAULT '[]';
UPDATE upcoming SET parties = (
	SELECT json_group_array(address_id) FROM upcoming_participant
	WHERE upcoming_id = upcoming.id);
DROP TABLE upcoming_participant;
