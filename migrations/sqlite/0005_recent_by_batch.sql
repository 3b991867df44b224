-- History by player (src/storage/history.rs): the pairs of a batch's seats go in one row.
--
-- The trigger of 0004 appended one `recent_players` row per seat, and the writer's bulk
-- move deleted each of them again: a row insert, a row delete and the trigger's own
-- program for every seat, 39% of the SQLite thread's instructions per game (measured:
-- BENCHMARKS.md, "Results storage", eleventh session). The writer now appends one
-- `recent_batches` row per committed batch, holding every (player, match) pair of its
-- seats as a JSON object (player key to the batch's match ids of that player), in the
-- same transaction as the seats. `recent_players` becomes a view over those rows, with
-- the same columns: the reads are unchanged; the move into `player_matches` reads the
-- view (no longer sorted) and then empties `recent_batches`. PostgreSQL keeps its statement trigger (one
-- statement per batch already, run by the database server).
DROP TRIGGER match_players_recent;

INSERT INTO player_matches (player_key, match_id)
    SELECT player_key, match_id FROM recent_players WHERE true
    ORDER BY player_key, match_id ON CONFLICT DO NOTHING;
DROP TABLE recent_players;

CREATE TABLE recent_batches (
    id INTEGER PRIMARY KEY,
    pairs TEXT NOT NULL
);

CREATE VIEW recent_players (player_key, match_id) AS
    SELECT player.key, game.value
    FROM recent_batches AS batch, json_each(batch.pairs) AS player,
        json_each(player.value) AS game;
