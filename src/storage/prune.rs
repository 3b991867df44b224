//! Pruning guests: a guest's record lasts while it plays, and is deleted once it has not
//! been seen for the retention (`--guest-retention-days`, default 30; 0 keeps every guest).
//!
//! What pruning a guest does, in one transaction:
//!
//! - its seats in match history are kept, under the shared player [`PRUNED_GUEST`] ("a
//!   guest"), so every stored match still lists all its seats and ratings before and after
//!   (the history by player is first brought up to date, see `history`, and its pairs
//!   move to [`PRUNED_GUEST`] too);
//! - its ratings are deleted (it leaves the leaderboard);
//! - its player row is deleted.
//!
//! Players with an identity (`user:`) are never pruned. The writer task prunes once soon
//! after start and then every [`PRUNE_EVERY`], between batches; a failure is logged and
//! tried again at the next turn.

use std::time::Duration;

use super::Db;

/// How often the writer prunes.
pub const PRUNE_EVERY: Duration = Duration::from_secs(3600);

/// The player that pruned guests' seats in match history are moved to.
pub const PRUNED_GUEST: &str = "guest:pruned";

/// Deletes the guests last seen before `cutoff_ms` (milliseconds since the Unix epoch), as
/// the [module documentation](self) says. Returns how many were pruned.
pub(super) async fn prune_guests(db: &Db, cutoff_ms: i64) -> Result<u64, sqlx::Error> {
    let mut tx = db.writes.begin().await?;
    let stale = "SELECT player_key FROM players \
                 WHERE guest = 1 AND seen_at_ms < $1 AND player_key <> $2";
    sqlx::query(
        "INSERT INTO players (player_key, display_name, guest, created_at_ms, seen_at_ms) \
         VALUES ($1, 'a guest', 1, 0, 0) ON CONFLICT (player_key) DO NOTHING",
    )
    .bind(PRUNED_GUEST)
    .execute(&mut *tx)
    .await?;
    // Every pair in `player_matches`, so that a guest's matches are found by key.
    super::history::merge(&mut tx, db.backend).await?;
    // $1: the cutoff, $2: the shared player the history moves to (never itself pruned).
    for sql in [
        format!(
            "UPDATE match_players SET player_key = $2 WHERE player_key IN ({stale}) \
             AND match_id IN (SELECT match_id FROM player_matches WHERE player_key IN ({stale}))"
        ),
        format!(
            "INSERT INTO player_matches (player_key, match_id) \
             SELECT CAST($2 AS TEXT), match_id FROM player_matches \
             WHERE player_key IN ({stale}) ON CONFLICT DO NOTHING"
        ),
        format!("DELETE FROM player_matches WHERE player_key IN ({stale})"),
        format!("DELETE FROM ratings WHERE player_key IN ({stale})"),
    ] {
        sqlx::query(&sql)
            .bind(cutoff_ms)
            .bind(PRUNED_GUEST)
            .execute(&mut *tx)
            .await?;
    }
    let pruned =
        sqlx::query("DELETE FROM players WHERE guest = 1 AND seen_at_ms < $1 AND player_key <> $2")
            .bind(cutoff_ms)
            .bind(PRUNED_GUEST)
            .execute(&mut *tx)
            .await?
            .rows_affected();
    // Counted before the commit, while this transaction still holds the writer's only
    // connection: the writer's next transaction (which needs that connection) sees it.
    // A commit that then fails costs the writer only what it would have skipped.
    db.prunes.fetch_add(1, std::sync::atomic::Ordering::Release);
    tx.commit().await?;
    Ok(pruned)
}
