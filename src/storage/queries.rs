//! What is read back: a player's stored rating, match history pages, one match, its
//! replay, and leaderboards (cached a second per game). Each read is bounded by
//! [`READ_TIMEOUT`](super::READ_TIMEOUT).

use crate::protocol::{LeaderboardRow, MatchId};
use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::rating::display_rating;
use super::{READ_TIMEOUT, Storage, StorageError};

/// Most matches one history page holds.
pub const MAX_PAGE: usize = 100;
/// Most leaderboard rows kept per game (and served over HTTP).
pub const MAX_BOARD: usize = 100;
/// How long a leaderboard is served from the cache.
const BOARD_TTL: Duration = Duration::from_secs(1);

/// One player of a match, as history shows it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchSeat {
    /// The seat.
    pub seat: u8,
    /// The player's key (`user:...` or `guest:...`).
    pub player: String,
    /// The name shown.
    pub name: String,
    /// `win`, `loss` or `draw`.
    pub result: String,
    /// The rating before the game (ranked games only).
    pub rating_before: Option<u16>,
    /// The rating after it (ranked games only).
    pub rating_after: Option<u16>,
}

/// A match in a history page.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchSummary {
    /// The match id.
    pub id: MatchId,
    /// The game.
    pub game: String,
    /// Whether it moved ratings.
    pub ranked: bool,
    /// Start, milliseconds since the Unix epoch.
    pub started_at_ms: i64,
    /// End, milliseconds since the Unix epoch.
    pub ended_at_ms: i64,
    /// Ticks played.
    pub ticks: u64,
    /// The winning seat, if any.
    pub winner: Option<u8>,
    /// How it ended (`win`, `draw`, `turn_timeout`, `abandoned`, `server_shutdown`, `closed`).
    pub reason: String,
    /// Whether `GET /matches/{id}/replay` has a replay.
    pub has_replay: bool,
    /// The players, by seat.
    pub players: Vec<MatchSeat>,
}

/// One match with everything but its replay.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchDetail {
    /// What a history page shows.
    #[serde(flatten)]
    pub summary: MatchSummary,
    /// The room's settings, as JSON.
    pub settings: serde_json::Value,
    /// Whether it came from quick match.
    pub public: bool,
    /// The server's tick rate during the game.
    pub tick_hz: u16,
    /// The replay's size in bytes (0 when there is none).
    pub replay_bytes: u64,
}

/// A page of match history, newest first.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MatchPage {
    /// The matches.
    pub matches: Vec<MatchSummary>,
    /// Pass as `before` for the next (older) page; `None` on the last page.
    pub next: Option<MatchId>,
}

/// Leaderboards by game, each with when it was read.
pub(crate) type BoardCache = HashMap<String, (Instant, Arc<Vec<LeaderboardRow>>)>;

type MatchRow = (i64, String, i64, i64, i64, i64, Option<i64>, String, i64);

const MATCH_COLUMNS: &str = "m.id, m.game, m.ranked, m.started_at_ms, m.ended_at_ms, m.ticks, \
     m.winner_seat, m.reason, CASE WHEN m.replay IS NULL THEN 0 ELSE 1 END";

fn summary(row: MatchRow, players: Vec<MatchSeat>) -> MatchSummary {
    let (id, game, ranked, started, ended, ticks, winner, reason, replay) = row;
    MatchSummary {
        id: MatchId::new(id as u64),
        game,
        ranked: ranked != 0,
        started_at_ms: started,
        ended_at_ms: ended,
        ticks: ticks.max(0) as u64,
        winner: winner.and_then(|w| u8::try_from(w).ok()),
        reason,
        has_replay: replay != 0,
        players,
    }
}

/// Runs `query` within [`READ_TIMEOUT`].
async fn bounded<T>(
    query: impl Future<Output = Result<T, sqlx::Error>>,
) -> Result<T, StorageError> {
    match tokio::time::timeout(READ_TIMEOUT, query).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(StorageError::Timeout),
    }
}

impl Storage {
    /// The stored rating of `player_key` in `game`, rounded; `None` if it has none.
    ///
    /// # Errors
    /// [`StorageError::Disabled`], [`StorageError::Timeout`], [`StorageError::Query`].
    pub async fn rating(&self, player_key: &str, game: &str) -> Result<Option<u16>, StorageError> {
        let db = self.db()?;
        let row: Option<(f64,)> = bounded(
            sqlx::query_as("SELECT rating FROM ratings WHERE player_key = $1 AND game = $2")
                .bind(player_key)
                .bind(game)
                .fetch_optional(&db.pool),
        )
        .await?;
        Ok(row.map(|(rating,)| display_rating(rating)))
    }

    /// A page of match history, newest first: matches with an id below `before` (all when
    /// `None`), of `game` and with `player` when given; at most `limit` (capped at
    /// [`MAX_PAGE`]).
    ///
    /// # Errors
    /// [`StorageError::Disabled`], [`StorageError::Timeout`], [`StorageError::Query`].
    pub async fn matches(
        &self,
        player: Option<&str>,
        game: Option<&str>,
        before: Option<MatchId>,
        limit: usize,
    ) -> Result<MatchPage, StorageError> {
        let db = self.db()?;
        let limit = limit.clamp(1, MAX_PAGE);
        let before = before.map_or(i64::MAX, |b| i64::try_from(b.get()).unwrap_or(i64::MAX));
        // A player's matches are in `player_matches` or, for the latest, in
        // `recent_players` (see `history`): the ids are looked up there, not found by
        // walking every match.
        let sql = if player.is_some() {
            format!(
                "SELECT {MATCH_COLUMNS} FROM matches m WHERE m.id < $1 \
                 AND ($2 = '' OR m.game = $2) \
                 AND m.id IN (SELECT match_id FROM player_matches \
                     WHERE player_key = $3 AND match_id < $1 \
                     UNION ALL SELECT match_id FROM recent_players \
                     WHERE player_key = $3 AND match_id < $1) \
                 ORDER BY m.id DESC LIMIT $4"
            )
        } else {
            format!(
                "SELECT {MATCH_COLUMNS} FROM matches m WHERE m.id < $1 \
                 AND ($2 = '' OR m.game = $2) AND $3 = '' \
                 ORDER BY m.id DESC LIMIT $4"
            )
        };
        // One more than asked, to know whether there is a next page.
        let rows: Vec<MatchRow> = bounded(
            sqlx::query_as(&sql)
                .bind(before)
                .bind(game.unwrap_or(""))
                .bind(player.unwrap_or(""))
                .bind(limit as i64 + 1)
                .fetch_all(&db.pool),
        )
        .await?;
        let more = rows.len() > limit;
        let rows: Vec<MatchRow> = rows.into_iter().take(limit).collect();
        let (Some(newest), Some(oldest)) = (rows.first(), rows.last()) else {
            return Ok(MatchPage {
                matches: Vec::new(),
                next: None,
            });
        };
        let mut players = self.seats_between(oldest.0, newest.0).await?;
        let next = more.then_some(MatchId::new(oldest.0 as u64));
        let matches = rows
            .into_iter()
            .map(|row| {
                let seats = players.remove(&row.0).unwrap_or_default();
                summary(row, seats)
            })
            .collect();
        Ok(MatchPage { matches, next })
    }

    /// The players of every match with an id from `low` to `high`, by match.
    async fn seats_between(
        &self,
        low: i64,
        high: i64,
    ) -> Result<HashMap<i64, Vec<MatchSeat>>, StorageError> {
        let db = self.db()?;
        type SeatRow = (i64, i64, String, String, String, Option<f64>, Option<f64>);
        let rows: Vec<SeatRow> = bounded(
            sqlx::query_as(
                "SELECT match_id, seat, player_key, display_name, result, rating_before, \
                 rating_after FROM match_players WHERE match_id >= $1 AND match_id <= $2 \
                 ORDER BY match_id, seat",
            )
            .bind(low)
            .bind(high)
            .fetch_all(&db.pool),
        )
        .await?;
        let mut by_match: HashMap<i64, Vec<MatchSeat>> = HashMap::new();
        for (match_id, seat, player, name, result, before, after) in rows {
            by_match.entry(match_id).or_default().push(MatchSeat {
                seat: u8::try_from(seat).unwrap_or(u8::MAX),
                player,
                name,
                result,
                rating_before: before.map(display_rating),
                rating_after: after.map(display_rating),
            });
        }
        Ok(by_match)
    }

    /// One match, without its replay; `None` if there is no such match.
    ///
    /// # Errors
    /// [`StorageError::Disabled`], [`StorageError::Timeout`], [`StorageError::Query`].
    pub async fn match_detail(&self, id: MatchId) -> Result<Option<MatchDetail>, StorageError> {
        let db = self.db()?;
        let Ok(id) = i64::try_from(id.get()) else {
            return Ok(None);
        };
        let sql = format!(
            "SELECT {MATCH_COLUMNS}, m.settings, m.public, m.tick_hz, \
             COALESCE(LENGTH(m.replay), 0) FROM matches m WHERE m.id = $1"
        );
        type DetailRow = (
            i64,
            String,
            i64,
            i64,
            i64,
            i64,
            Option<i64>,
            String,
            i64,
            String,
            i64,
            i64,
            i64,
        );
        let row: Option<DetailRow> =
            bounded(sqlx::query_as(&sql).bind(id).fetch_optional(&db.pool)).await?;
        let Some(row) = row else { return Ok(None) };
        let mut seats = self.seats_between(id, id).await?;
        let (a, b, c, d, e, f, g, h, i, settings, public, tick_hz, replay_bytes) = row;
        Ok(Some(MatchDetail {
            summary: summary(
                (a, b, c, d, e, f, g, h, i),
                seats.remove(&id).unwrap_or_default(),
            ),
            settings: serde_json::from_str(&settings).unwrap_or(serde_json::Value::Null),
            public: public != 0,
            tick_hz: u16::try_from(tick_hz).unwrap_or(0),
            replay_bytes: replay_bytes.max(0) as u64,
        }))
    }

    /// A match's replay: `None` when there is no such match or it has no replay.
    ///
    /// # Errors
    /// [`StorageError::Disabled`], [`StorageError::Timeout`], [`StorageError::Query`].
    pub async fn replay(&self, id: MatchId) -> Result<Option<Vec<u8>>, StorageError> {
        let db = self.db()?;
        let Ok(id) = i64::try_from(id.get()) else {
            return Ok(None);
        };
        let row: Option<(Option<Vec<u8>>,)> = bounded(
            sqlx::query_as("SELECT replay FROM matches WHERE id = $1")
                .bind(id)
                .fetch_optional(&db.pool),
        )
        .await?;
        Ok(row.and_then(|(replay,)| replay))
    }

    /// The best `limit` players of `game` (at most [`MAX_BOARD`]), read from the database
    /// at most once a second per game.
    ///
    /// # Errors
    /// [`StorageError::Disabled`], [`StorageError::Timeout`], [`StorageError::Query`].
    pub async fn leaderboard(
        &self,
        game: &str,
        limit: usize,
    ) -> Result<Arc<Vec<LeaderboardRow>>, StorageError> {
        let db = self.db()?;
        let cached = {
            let boards = db.boards.lock().unwrap_or_else(|e| e.into_inner());
            boards
                .get(game)
                .filter(|(read, _)| read.elapsed() < BOARD_TTL)
                .map(|(_, rows)| rows.clone())
        };
        let rows = match cached {
            Some(rows) => rows,
            None => {
                type BoardRow = (String, String, f64, i64, i64);
                let rows: Vec<BoardRow> = bounded(
                    sqlx::query_as(
                        "SELECT r.player_key, p.display_name, r.rating, r.games, r.wins \
                         FROM ratings r JOIN players p ON p.player_key = r.player_key \
                         WHERE r.game = $1 ORDER BY r.rating DESC, r.games DESC, r.player_key \
                         LIMIT $2",
                    )
                    .bind(game)
                    .bind(MAX_BOARD as i64)
                    .fetch_all(&db.pool),
                )
                .await?;
                let rows: Arc<Vec<LeaderboardRow>> = Arc::new(
                    rows.into_iter()
                        .enumerate()
                        .map(|(i, (player, name, rating, games, wins))| LeaderboardRow {
                            rank: i as u32 + 1,
                            player,
                            name,
                            rating: display_rating(rating),
                            games: u32::try_from(games).unwrap_or(u32::MAX),
                            wins: u32::try_from(wins).unwrap_or(u32::MAX),
                        })
                        .collect(),
                );
                let mut boards = db.boards.lock().unwrap_or_else(|e| e.into_inner());
                boards.insert(game.to_string(), (Instant::now(), rows.clone()));
                rows
            }
        };
        if rows.len() <= limit {
            return Ok(rows);
        }
        Ok(Arc::new(rows[..limit].to_vec()))
    }
}
