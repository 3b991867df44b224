//! Match history by player, written cheaply: a seat's `(player, match)` pair is appended
//! to `recent_players` by the database itself (the trigger `match_players_recent` on
//! `match_players`, `migrations/*/..._recent_by_trigger.sql`: the writer binds and sends
//! nothing more for it), and the writer moves those rows into
//! `player_matches` (keyed by player) in bulk, once at least [`MERGE_ROWS`] have gathered
//! (and with the first batch after start, for rows an earlier process left).
//!
//! Why: an index keyed by player takes each seat's row in a spot of the B-tree that belongs
//! to that player, so a batch of a few hundred games dirtied one leaf page per player in
//! it, and every dirty page is written to the WAL at the commit and again at the
//! checkpoint. That index was most of what the writer wrote (5x the rest, measured with
//! `migrations/sqlite/0003_history_by_player.sql`'s numbers). Appending in write order
//! dirties the last pages only; the bulk move dirties each player's leaf once per
//! [`MERGE_ROWS`] seats instead of once per batch.
//!
//! A player's history reads both tables (`queries::Storage::matches`): a seek in
//! `player_matches` and a scan of `recent_players`, which holds fewer than
//! [`MERGE_ROWS`] plus one batch's rows. The move runs inside a batch's transaction, so a
//! pair is always in exactly one of the two tables for readers.

use sqlx::AnyConnection;

use super::Backend;

/// Seats gathered in `recent_players` before the writer moves them into `player_matches`.
pub(super) const MERGE_ROWS: usize = 16_384;

/// Moves every row of `recent_players` into `player_matches`, inside the caller's
/// transaction. Returns how many pairs `player_matches` gained (a pair already there, from
/// a retried batch, is not counted).
///
/// On PostgreSQL several servers may write to one database (a cluster), so the rows moved
/// are exactly the rows deleted (`DELETE ... RETURNING` in one statement); SQLite has one
/// writer per file, and the two statements of one transaction see the same rows.
pub(super) async fn merge(conn: &mut AnyConnection, backend: Backend) -> Result<u64, sqlx::Error> {
    match backend {
        Backend::Sqlite => {
            sqlx::query(
                "INSERT INTO player_matches (player_key, match_id) \
                 SELECT player_key, match_id FROM recent_players WHERE true \
                 ORDER BY player_key, match_id ON CONFLICT DO NOTHING",
            )
            .execute(&mut *conn)
            .await?;
            Ok(sqlx::query("DELETE FROM recent_players")
                .execute(&mut *conn)
                .await?
                .rows_affected())
        }
        Backend::Postgres => Ok(sqlx::query(
            "WITH moved AS (DELETE FROM recent_players RETURNING player_key, match_id) \
             INSERT INTO player_matches (player_key, match_id) \
             SELECT player_key, match_id FROM moved ON CONFLICT DO NOTHING",
        )
        .execute(&mut *conn)
        .await?
        .rows_affected()),
    }
}
