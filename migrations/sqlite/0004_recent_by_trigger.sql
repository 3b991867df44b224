-- `recent_players` is filled by the database, not by the writer: each seat written to
-- `match_players` appends its (player, match) pair here in the same statement. The
-- writer sent the same pairs as a statement of their own, its rows' texts bound and
-- copied twice on the way, and a round trip to SQLite's thread for every chunk of rows
-- (measured: BENCHMARKS.md, "Results storage", tenth session). What the table holds and
-- how the writer moves it into `player_matches` is unchanged (src/storage/history.rs).
--
-- A later migration that rebuilds `match_players` (rename, create, copy, drop, as 0002
-- did) drops this trigger with the renamed table and must create it again; the writer's
-- test `the_writer_gathers_for_its_window_then_writes_one_transaction` checks it is there.
CREATE TRIGGER match_players_recent AFTER INSERT ON match_players
BEGIN
    INSERT INTO recent_players (player_key, match_id) VALUES (new.player_key, new.match_id);
END;
