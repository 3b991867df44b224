-- `recent_players` is filled by the database, not by the writer: see
-- migrations/sqlite/0004_recent_by_trigger.sql. Here one statement-level trigger appends
-- the pairs of all the seats an insert wrote, from its transition table. The function
-- keeps the search path it was created with, so it writes to the `recent_players` beside
-- its `match_players` whatever path a later session sets.
--
-- A server of an older version still running against this database (a rolling upgrade of
-- a cluster) appends its pairs itself as well: the duplicates are harmless, as history
-- reads ids with `IN (...)` and the move into `player_matches` skips pairs it has.
CREATE FUNCTION ticksync_recent_players() RETURNS trigger LANGUAGE plpgsql
SET search_path FROM CURRENT AS $$
BEGIN
    INSERT INTO recent_players (player_key, match_id)
        SELECT player_key, match_id FROM added_seats;
    RETURN NULL;
END
$$;

CREATE TRIGGER match_players_recent AFTER INSERT ON match_players
    REFERENCING NEW TABLE AS added_seats
    FOR EACH STATEMENT EXECUTE FUNCTION ticksync_recent_players();
