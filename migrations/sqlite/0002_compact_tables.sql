-- Fewer B-trees per finished game (measured with benches/storage.rs): `matches.id` becomes
-- the rowid (`INTEGER PRIMARY KEY`; a `BIGINT` key was a separate index beside the rowid),
-- and the small keyed tables are `WITHOUT ROWID` (their primary key is the table, not an
-- index beside it). The same columns and meanings; PostgreSQL needs no such change.
--
-- Order matters with foreign keys on: the old tables are renamed first (which points
-- their children at the renamed parents), the new ones are created under the old names
-- and filled parents first, and the old ones are dropped children first.

DROP INDEX ratings_by_game;
DROP INDEX matches_by_game;
DROP INDEX match_players_by_player;
ALTER TABLE match_players RENAME TO match_players_0001;
ALTER TABLE ratings RENAME TO ratings_0001;
ALTER TABLE matches RENAME TO matches_0001;
ALTER TABLE players RENAME TO players_0001;

CREATE TABLE players (
    player_key TEXT PRIMARY KEY NOT NULL,
    display_name TEXT NOT NULL,
    guest BIGINT NOT NULL,
    created_at_ms BIGINT NOT NULL,
    seen_at_ms BIGINT NOT NULL
) WITHOUT ROWID;

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
) WITHOUT ROWID;

CREATE TABLE matches (
    id INTEGER PRIMARY KEY NOT NULL,
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
) WITHOUT ROWID;

INSERT INTO players SELECT * FROM players_0001;
INSERT INTO ratings SELECT * FROM ratings_0001;
INSERT INTO matches SELECT * FROM matches_0001;
INSERT INTO match_players SELECT * FROM match_players_0001;

DROP TABLE match_players_0001;
DROP TABLE ratings_0001;
DROP TABLE matches_0001;
DROP TABLE players_0001;

CREATE INDEX ratings_by_game ON ratings (game, rating DESC);
CREATE INDEX matches_by_game ON matches (game, id);
CREATE INDEX match_players_by_player ON match_players (player_key, match_id);
