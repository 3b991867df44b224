-- Match history by player without an index that every game scatters writes into.
--
-- `match_players_by_player` (player_key, match_id) took one row per seat in a spot of the
-- B-tree that belongs to that player: a batch of 512 games dirtied a leaf page per player
-- in it, which was most of what the writer wrote (measured: 6.5 MB per 1000 games with it,
-- 1.3 MB without). The player's history is now kept in two tables:
--
-- - `recent_players`: one row per seat of the games written lately, appended in the
--   order games are written (rowid order), so a batch dirties only the last few pages;
-- - `player_matches`: the same pairs keyed by player, filled in bulk by the writer when
--   `recent_players` holds enough rows (src/storage/history.rs): one pass dirties each
--   player's leaf once for thousands of games instead of once per batch.
--
-- A player's history is the union of both (the recent rows are scanned; there are at most
-- a few thousand of them).
DROP INDEX match_players_by_player;

CREATE TABLE player_matches (
    player_key TEXT NOT NULL,
    match_id BIGINT NOT NULL,
    PRIMARY KEY (player_key, match_id)
) WITHOUT ROWID;

CREATE TABLE recent_players (
    player_key TEXT NOT NULL,
    match_id BIGINT NOT NULL
);

INSERT INTO player_matches (player_key, match_id)
    SELECT DISTINCT player_key, match_id FROM match_players;
