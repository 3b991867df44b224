//! Match history by player, written cheaply: each seat's `(player, match)` pair is first
//! kept in `recent_players`, batch by batch in write order, and the writer moves them into
//! `player_matches` (keyed by player) in bulk, once at least [`MERGE_ROWS`] have gathered
//! (and with the first batch after start, for pairs an earlier process left).
//!
//! How the pairs reach `recent_players`, in the batch's own transaction:
//!
//! - **SQLite**: the writer appends one `recent_batches` row per batch, its pairs as one
//!   JSON object ([`pairs_json`]: player key to that player's match ids in the batch), and
//!   `recent_players` is a view over those rows
//!   (`migrations/sqlite/0005_recent_by_batch.sql`). One row per batch instead of a row
//!   inserted (by a trigger) and later deleted for every seat: measured, that was 39% of
//!   the SQLite thread's instructions per game (BENCHMARKS.md, "Results storage",
//!   eleventh session).
//! - **PostgreSQL**: a statement trigger on `match_players` appends them to the
//!   `recent_players` table (`migrations/postgres/0003_recent_by_trigger.sql`), once per
//!   statement, run by the database server; the writer sends nothing for them.
//!
//! Why not an index by player: an index keyed by player takes each seat's row in a spot of
//! the B-tree that belongs to that player, so a batch of a few hundred games dirtied one
//! leaf page per player in it, and every dirty page is written to the WAL at the commit
//! and again at the checkpoint. That index was most of what the writer wrote (5x the rest,
//! measured with `migrations/sqlite/0003_history_by_player.sql`'s numbers). Appending in
//! write order dirties the last pages only; the bulk move dirties each player's leaf once
//! per [`MERGE_ROWS`] seats instead of once per batch.
//!
//! A player's history reads both (`queries::Storage::matches`): a seek in
//! `player_matches` and a scan of `recent_players`, which holds fewer than [`MERGE_ROWS`]
//! plus one batch's pairs. The move runs inside a batch's transaction, so a pair is always
//! in exactly one of the two for readers.

use foldhash::{HashMap, HashMapExt};
use sqlx::AnyConnection;

use super::Backend;

/// `pairs` (player key, match id) as the JSON object of a `recent_batches` row (SQLite):
/// each key once, with its match ids in the order given, the keys in no particular order,
/// e.g. `{"guest:7":[41,44],"user:ann":[41]}`. (Sorting the keys cost more than the
/// merge's inserts gained from it: 0.7k instructions a game, counted with callgrind.)
///
/// # Errors
/// Only if `serde_json` fails to write a map of strings to integers (it does not).
pub(super) fn pairs_json<'a>(
    pairs: impl IntoIterator<Item = (&'a str, i64)>,
) -> serde_json::Result<String> {
    let pairs = pairs.into_iter();
    let mut by_player: HashMap<&str, Vec<i64>> = HashMap::with_capacity(pairs.size_hint().0);
    for (key, id) in pairs {
        by_player.entry(key).or_default().push(id);
    }
    serde_json::to_string(&by_player)
}

/// Seats gathered in `recent_players` before the writer moves them into `player_matches`.
pub(super) const MERGE_ROWS: usize = 16_384;

/// Moves every row of `recent_players` into `player_matches`, inside the caller's
/// transaction. Returns how many pairs `player_matches` gained (a pair already there, from
/// a retried batch, is not counted).
///
/// On PostgreSQL several servers may write to one database (a cluster), so the rows moved
/// are exactly the rows deleted (`DELETE ... RETURNING` in one statement); SQLite has one
/// writer per file, and the two statements of one transaction see the same rows (the
/// view's, then the `recent_batches` rows they come from).
pub(super) async fn merge(conn: &mut AnyConnection, backend: Backend) -> Result<u64, sqlx::Error> {
    match backend {
        Backend::Sqlite => {
            // In the view's order, not sorted: sorting every pair cost 6% of the SQLite
            // thread's instructions (counted with callgrind) to insert them in key order.
            let moved = sqlx::query(
                "INSERT INTO player_matches (player_key, match_id) \
                 SELECT player_key, match_id FROM recent_players WHERE true \
                 ON CONFLICT DO NOTHING",
            )
            .execute(&mut *conn)
            .await?
            .rows_affected();
            sqlx::query("DELETE FROM recent_batches")
                .execute(&mut *conn)
                .await?;
            Ok(moved)
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

#[cfg(test)]
mod tests {
    use super::pairs_json;

    /// Each player once, its ids in order; keys are escaped as JSON strings.
    #[test]
    fn pairs_json_groups_by_player() {
        let pairs = [("guest:7", 41), ("user:a\"b", 41), ("guest:7", 44)];
        let json: serde_json::Value = serde_json::from_str(&pairs_json(pairs).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"guest:7": [41, 44], "user:a\"b": [41]})
        );
        assert_eq!(pairs_json([]).unwrap(), "{}");
    }
}
