-- Match history by player without an index that every game scatters writes into: see
-- migrations/sqlite/0003_history_by_player.sql for why, and src/storage/history.rs for how
-- the writer moves `recent_players` into `player_matches` in bulk.
DROP INDEX match_players_by_player;

CREATE TABLE player_matches (
    player_key TEXT NOT NULL,
    match_id BIGINT NOT NULL,
    PRIMARY KEY (player_key, match_id)
);

CREATE TABLE recent_players (
    player_key TEXT NOT NULL,
    match_id BIGINT NOT NULL
);

INSERT INTO player_matches (player_key, match_id)
    SELECT DISTINCT player_key, match_id FROM match_players;
