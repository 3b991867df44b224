-- ticksync's durable results (SQLite). Kept in step with ../postgres/0001_results.sql:
-- the same tables, columns and meanings; only the type names differ.

-- One row per server start: its id is the start's epoch, the high bits of every room and
-- session id of that run (src/storage/ids.rs), so ids never repeat across restarts.
CREATE TABLE server_boots (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at_ms BIGINT NOT NULL
);

-- A player: `user:<auth subject>` or `guest:<session id>`.
CREATE TABLE players (
    player_key TEXT PRIMARY KEY NOT NULL,
    display_name TEXT NOT NULL,
    guest BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    seen_at_ms BIGINT NOT NULL
);

-- One Glicko-2 rating per player and game, with the player's record in ranked games.
CREATE TABLE ratings (
    player_key TEXT NOT NULL REFERENCES players (player_key),
    game TEXT NOT NULL,
    rating DOUBLE PRECISION NOT NULL,
    deviation DOUBLE PRECISION NOT NULL,
    volatility DOUBLE PRECISION NOT NULL,
    games BIGINT NOT NULL,
    wins BIGINT NOT NULL,
    losses BIGINT NOT NULL,
    draws BIGINT NOT NULL,
    updated_at_ms BIGINT NOT NULL,
    PRIMARY KEY (player_key, game)
);
CREATE INDEX ratings_by_game ON ratings (game, rating DESC);

-- One row per finished game. The id is the room's id (unique across restarts).
CREATE TABLE matches (
    id BIGINT PRIMARY KEY NOT NULL,
    game TEXT NOT NULL,
    settings TEXT NOT NULL,
    ranked BIGINT NOT NULL,
    public BIGINT NOT NULL,
    started_at_ms BIGINT NOT NULL,
    ended_at_ms BIGINT NOT NULL,
    ticks BIGINT NOT NULL,
    tick_hz BIGINT NOT NULL,
    winner_seat BIGINT,
    reason TEXT NOT NULL,
    replay BLOB
);
CREATE INDEX matches_by_game ON matches (game, id);

-- Who played a match, by seat, with the rating before and after (NULL when unranked).
CREATE TABLE match_players (
    match_id BIGINT NOT NULL REFERENCES matches (id),
    seat BIGINT NOT NULL,
    player_key TEXT NOT NULL REFERENCES players (player_key),
    session_id BIGINT NOT NULL,
    display_name TEXT NOT NULL,
    result TEXT NOT NULL,
    rating_before DOUBLE PRECISION,
    rating_after DOUBLE PRECISION,
    PRIMARY KEY (match_id, seat)
);
CREATE INDEX match_players_by_player ON match_players (player_key, match_id);
