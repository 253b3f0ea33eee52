-- digest store, version 9: when each address was first part of an
-- interaction, instead of an index of every participant by address.
--
-- The index served one question, whether a person new this week was
-- seen before the lookback window; it was a second b-tree written for
-- each of the ~4 participants of every message, a fifth of a fresh
-- ingest's time.  The earliest time is kept on the address instead,
-- written once per address and transaction.  An interaction forgotten
-- later (its calendar event removed) still counts: the person was met.
ALTER TABLE address ADD COLUMN first_time INTEGER; -- unix s, or NULL
UPDATE address SET first_time = (
	SELECT min(i.time) FROM participant p
	JOIN interaction i ON i.id = p.interaction_id
	WHERE p.address_id = address.id);
DROP INDEX participant_address;
