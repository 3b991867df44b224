//! One batch of finished games written inside the writer's transaction, in a handful of
//! multi-row statements (see [`write_records`]).

use std::sync::OnceLock;

use foldhash::{HashMap, HashMapExt, HashSet, HashSetExt};
use sqlx::any::{AnyArguments, AnyRow};
use sqlx::query::{Query, QueryAs};
use sqlx::{Any, AnyConnection, Arguments};

use super::known::{Known, Written};
use super::rating::{Glicko2Rating, SeatResult, display_rating, new_ratings};
use super::record::{MatchRecord, reason_name};
use super::writer::{Committed, CommittedSeat};
use super::{Backend, history};
use crate::protocol::{MatchId, Seat, SessionId};

/// The row counts multi-row statements are made with, largest first: a batch's rows go
/// out in chunks of these sizes ([`shaped`]), so that each table has at most six
/// statement texts and every one is prepared once and then found in the connection's
/// statement cache. Texts made for each batch's exact row count were parsed anew almost
/// every batch (a 500-row insert's parse cost more than its rows' binding; measured with
/// `perf` under the ttt load, BENCHMARKS.md "Results storage"). Every statement is a round
/// trip to SQLite's thread, so a busy server's batch (a second of games, about 1,500 at
/// 1000 ttt clients) goes out in chunks of 1024 rather than 256 (BENCHMARKS.md, tenth
/// session). The largest, 1024 rows of at most 12 columns, stays far below SQLite's 32,766
/// parameters and PostgreSQL's 65,535.
const SHAPES: [usize; 6] = [1024, 256, 64, 16, 4, 1];

/// `items` in consecutive chunks whose lengths are in [`SHAPES`], each the largest that
/// fits what is left (at most three chunks of each size below 1024), with the index in
/// [`SHAPES`] of each chunk's length.
fn shaped<T>(mut items: &[T]) -> impl Iterator<Item = (usize, &[T])> {
    std::iter::from_fn(move || {
        let shape = SHAPES.iter().position(|&n| n <= items.len())?;
        let (chunk, rest) = items.split_at(SHAPES[shape]);
        items = rest;
        Some((shape, chunk))
    })
}

/// The statements a batch is written with; each has one text per shape ([`sql`]).
#[derive(Debug, Clone, Copy)]
enum Statement {
    StoredIds,
    Matches,
    Players,
    Ratings,
    RatingsUpsert,
    Seats,
}

impl Statement {
    /// The values bound per row: the one place each statement's column count is written
    /// (its text's placeholders and its arguments' room both read it).
    fn columns(self) -> usize {
        match self {
            Statement::StoredIds | Statement::Ratings => 1,
            Statement::Matches => 12,
            Statement::Players => 5,
            Statement::RatingsUpsert => 10,
            Statement::Seats => 8,
        }
    }

    const ALL: [Statement; 6] = [
        Statement::StoredIds,
        Statement::Matches,
        Statement::Players,
        Statement::Ratings,
        Statement::RatingsUpsert,
        Statement::Seats,
    ];
}

/// The text of `statement` for `rows` rows in `backend`'s dialect.
fn statement_text(backend: Backend, statement: Statement, rows: usize) -> String {
    match statement {
        Statement::StoredIds => format!(
            "SELECT id FROM matches WHERE id IN ({})",
            in_list(backend, rows)
        ),
        Statement::Matches => format!(
            "INSERT INTO matches (id, game, settings, ranked, public, started_at_ms, \
             ended_at_ms, ticks, tick_hz, winner_seat, reason, replay) VALUES {}",
            placeholders(backend, rows, statement.columns())
        ),
        Statement::Players => format!(
            "INSERT INTO players (player_key, display_name, guest, created_at_ms, seen_at_ms) \
             VALUES {} ON CONFLICT (player_key) DO UPDATE \
             SET display_name = excluded.display_name, seen_at_ms = excluded.seen_at_ms",
            placeholders(backend, rows, statement.columns())
        ),
        Statement::Ratings => format!(
            "SELECT player_key, game, rating, deviation, volatility FROM ratings \
             WHERE player_key IN ({})",
            in_list(backend, rows)
        ),
        Statement::RatingsUpsert => format!(
            "INSERT INTO ratings (player_key, game, rating, deviation, volatility, games, \
             wins, losses, draws, updated_at_ms) VALUES {} \
             ON CONFLICT (player_key, game) DO UPDATE SET rating = excluded.rating, \
             deviation = excluded.deviation, volatility = excluded.volatility, \
             games = ratings.games + excluded.games, wins = ratings.wins + excluded.wins, \
             losses = ratings.losses + excluded.losses, \
             draws = ratings.draws + excluded.draws, updated_at_ms = excluded.updated_at_ms",
            placeholders(backend, rows, statement.columns())
        ),
        Statement::Seats => format!(
            "INSERT INTO match_players (match_id, seat, player_key, session_id, display_name, \
             result, rating_before, rating_after) VALUES {}",
            placeholders(backend, rows, statement.columns())
        ),
    }
}

/// The text of `statement` for the chunk length `SHAPES[shape]`, made once per process
/// (texts of up to 1024 rows are tens of kilobytes; making them for every chunk of every
/// batch was 6% of the writer task's instructions).
fn sql(backend: Backend, statement: Statement, shape: usize) -> &'static str {
    type Texts = Vec<Vec<String>>;
    static TEXTS: [OnceLock<Texts>; 2] = [OnceLock::new(), OnceLock::new()];
    let texts = TEXTS[backend as usize].get_or_init(|| {
        Statement::ALL
            .iter()
            .map(|&statement| {
                SHAPES
                    .iter()
                    .map(|&rows| statement_text(backend, statement, rows))
                    .collect()
            })
            .collect()
    });
    &texts[statement as usize][shape]
}

/// The query of `statement` for the chunk length `SHAPES[shape]`, its arguments' room
/// made for all their values at once (`sqlx::query` starts empty and grew one value at a
/// time: a tenth of the writer task's instructions, counted with callgrind).
fn query_for<'q>(
    backend: Backend,
    statement: Statement,
    shape: usize,
) -> Query<'q, Any, AnyArguments<'q>> {
    sqlx::query_with(sql(backend, statement, shape), arguments(statement, shape))
}

/// [`query_for`], for a statement that returns rows of `O`.
fn query_as_for<'q, O>(
    backend: Backend,
    statement: Statement,
    shape: usize,
) -> QueryAs<'q, Any, O, AnyArguments<'q>>
where
    O: for<'r> sqlx::FromRow<'r, AnyRow>,
{
    sqlx::query_as_with(sql(backend, statement, shape), arguments(statement, shape))
}

/// Empty arguments with room for every value of `statement` at `SHAPES[shape]` rows.
fn arguments<'q>(statement: Statement, shape: usize) -> AnyArguments<'q> {
    let mut arguments = AnyArguments::default();
    arguments.reserve(SHAPES[shape] * statement.columns(), 0);
    arguments
}

/// `rows` groups of `columns` placeholders, `(.., ..), (.., ..)`: numbered (`$1`) for
/// PostgreSQL, anonymous (`?`) for SQLite, whose lookup of a numbered parameter's name
/// walks every name before it (measured: 40% of the server's CPU with 500-row
/// statements numbered `$N`).
fn placeholders(backend: Backend, rows: usize, columns: usize) -> String {
    let mut sql = String::with_capacity(rows * columns * 5);
    for row in 0..rows {
        if row > 0 {
            sql.push_str(", ");
        }
        sql.push('(');
        for column in 0..columns {
            if column > 0 {
                sql.push_str(", ");
            }
            match backend {
                Backend::Sqlite => sql.push('?'),
                Backend::Postgres => sql.push_str(&format!("${}", row * columns + column + 1)),
            }
        }
        sql.push(')');
    }
    sql
}

/// `n` placeholders for an `IN (...)` list.
fn in_list(backend: Backend, n: usize) -> String {
    let one_row = placeholders(backend, 1, n);
    one_row[1..one_row.len() - 1].to_string()
}

/// A rating as it stands while a batch is written: the stored one (or a new player's),
/// updated by each rated game of the batch in order, with the games it added.
#[derive(Debug, Clone, Copy)]
struct Standing {
    rating: Glicko2Rating,
    games: i64,
    wins: i64,
    losses: i64,
    draws: i64,
}

impl Standing {
    /// `rating`, before any game of this batch.
    fn of(rating: Glicko2Rating) -> Standing {
        Standing {
            rating,
            games: 0,
            wins: 0,
            losses: 0,
            draws: 0,
        }
    }
}

/// Writes a batch inside the caller's transaction, in a handful of multi-row statements
/// (one per table, not one per row): the matches not yet stored, their players, the
/// ratings of rated games (read once, updated in memory game by game in the batch's
/// order, written once), and the seats with their ratings before and after.
///
/// With `check_stored`, a match id already stored is not written again; its stored result
/// is returned (a retry after a commit whose answer was lost). Without it (a batch's first
/// attempt: its games come from the queue, and a match id is written by one server only),
/// nothing is looked up first, and a stored id makes the insert fail, which the writer
/// answers by trying again with the check.
pub(super) async fn write_records(
    conn: &mut AnyConnection,
    backend: Backend,
    batch: &[MatchRecord],
    now: i64,
    known: &Known,
    check_stored: bool,
) -> Result<(Vec<Committed>, Written), sqlx::Error> {
    // Match ids already stored.
    let mut stored = HashSet::new();
    for (shape, chunk) in shaped(batch).filter(|_| check_stored) {
        let mut query = query_as_for::<(i64,)>(backend, Statement::StoredIds, shape);
        for record in chunk {
            query = query.bind(record.id.get() as i64);
        }
        for (id,) in query.fetch_all(&mut *conn).await? {
            stored.insert(MatchId::new(id as u64));
        }
    }
    let mut fresh: Vec<&MatchRecord> = Vec::with_capacity(batch.len());
    let mut fresh_ids = HashSet::with_capacity(batch.len());
    for record in batch {
        if !stored.contains(&record.id) && fresh_ids.insert(record.id) {
            fresh.push(record);
        }
    }
    // Each record's settings as JSON, made once for a run of records with the same
    // settings (a quick-match queue's games share theirs).
    let mut settings_json: Vec<String> = Vec::new();
    let mut settings_of = Vec::with_capacity(fresh.len());
    for (i, record) in fresh.iter().enumerate() {
        if i == 0 || record.settings != fresh[i - 1].settings {
            let json = serde_json::to_string(&record.settings).unwrap_or_else(|_| "{}".into());
            settings_json.push(json);
        }
        settings_of.push(settings_json.len() - 1);
    }
    // The chunks cover `fresh` in order, so the indices are taken in the same order.
    let mut settings_of = settings_of.into_iter();
    for (shape, chunk) in shaped(&fresh) {
        let mut query = query_for(backend, Statement::Matches, shape);
        for (record, settings) in chunk.iter().zip(&mut settings_of) {
            let settings = settings_json[settings].as_str();
            query = query
                .bind(record.id.get() as i64)
                .bind(record.game.as_str())
                .bind(settings)
                .bind(i64::from(record.ranked))
                .bind(i64::from(record.public))
                .bind(record.started_at_ms)
                .bind(record.ended_at_ms)
                .bind(i64::try_from(record.ticks).unwrap_or(i64::MAX))
                .bind(i64::from(record.tick_hz))
                .bind(record.winner.map(i64::from))
                .bind(reason_name(record.reason))
                .bind(record.replay.as_deref());
        }
        query.execute(&mut *conn).await?;
    }

    // Players: one row per key (a statement may not upsert the same row twice), except
    // rows committed lately with the same name.
    let mut players: Vec<(&str, &str, bool)> = Vec::new();
    let mut seen = HashMap::new();
    for player in fresh.iter().flat_map(|r| &r.players) {
        if known.player(&player.player_key, &player.display_name) {
            continue;
        }
        let row = (
            player.player_key.as_str(),
            player.display_name.as_str(),
            player.guest,
        );
        match seen.get(player.player_key.as_str()) {
            Some(&i) => players[i] = row,
            None => {
                seen.insert(player.player_key.as_str(), players.len());
                players.push(row);
            }
        }
    }
    for (shape, chunk) in shaped(&players) {
        let mut query = query_for(backend, Statement::Players, shape);
        for (key, name, guest) in chunk {
            query = query
                .bind(*key)
                .bind(*name)
                .bind(i64::from(*guest))
                .bind(now)
                .bind(now);
        }
        query.execute(&mut *conn).await?;
    }

    // Ratings of every player of a rated game, read once; keyed by the batch's own
    // strings (player key, game).
    let mut standings: HashMap<(&str, &str), Standing> = HashMap::new();
    // Each pair once, in the batch's order, and where it is in that list.
    let mut rated: Vec<(&str, &str)> = Vec::new();
    let mut rated_at: HashMap<(&str, &str), usize> = HashMap::new();
    for record in fresh.iter().filter(|r| r.rated()) {
        for player in &record.players {
            let pair = (player.player_key.as_str(), record.game.as_str());
            rated_at.entry(pair).or_insert_with(|| {
                rated.push(pair);
                rated.len() - 1
            });
        }
    }
    let mut to_read: Vec<(&str, &str)> = Vec::new();
    for &(key, game) in &rated {
        match known.rating(key, game) {
            Some(rating) => {
                standings.insert((key, game), Standing::of(rating));
            }
            None => to_read.push((key, game)),
        }
    }
    for (shape, chunk) in shaped(&to_read) {
        let mut query =
            query_as_for::<(String, String, f64, f64, f64)>(backend, Statement::Ratings, shape);
        for (key, _) in chunk {
            query = query.bind(*key);
        }
        for (key, game, rating, deviation, volatility) in query.fetch_all(&mut *conn).await? {
            // Only the games this batch rates; a stored rating in another game is none
            // of its business.
            if let Some(&i) = rated_at.get(&(key.as_str(), game.as_str())) {
                let rating = Glicko2Rating {
                    rating,
                    deviation,
                    volatility,
                };
                standings.entry(rated[i]).or_insert(Standing::of(rating));
            }
        }
    }

    // Each rated game in order, on the standings so far.
    let mut committed = Vec::with_capacity(batch.len());
    let mut seat_rows = Vec::new();
    // Per game, reused: each seat's result, rating before, and both together.
    let (mut results, mut before, mut inputs) = (Vec::new(), Vec::new(), Vec::new());
    for record in &fresh {
        results.clear();
        results.extend(
            record
                .players
                .iter()
                .map(|p| SeatResult::of(p.seat, record.winner)),
        );
        before.clear();
        let mut after = Vec::new();
        if record.rated() {
            for player in &record.players {
                let key = (player.player_key.as_str(), record.game.as_str());
                let standing = standings
                    .entry(key)
                    .or_insert(Standing::of(Glicko2Rating::new()));
                before.push(standing.rating);
            }
            inputs.clear();
            inputs.extend(before.iter().copied().zip(results.iter().copied()));
            after = new_ratings(&inputs);
            for ((player, rating), result) in record.players.iter().zip(&after).zip(&results) {
                let key = (player.player_key.as_str(), record.game.as_str());
                if let Some(standing) = standings.get_mut(&key) {
                    standing.rating = *rating;
                    standing.games += 1;
                    match result {
                        SeatResult::Win => standing.wins += 1,
                        SeatResult::Loss => standing.losses += 1,
                        SeatResult::Draw => standing.draws += 1,
                    }
                }
            }
        }
        let mut seats = Vec::new();
        for (i, (player, result)) in record.players.iter().zip(&results).enumerate() {
            let (previous, rating) = (before.get(i).copied(), after.get(i).copied());
            seat_rows.push((record.id, player, *result, previous, rating));
            if let (Some(previous), Some(rating)) = (previous, rating) {
                seats.push(CommittedSeat {
                    seat: player.seat,
                    session: player.session,
                    player_key: player.player_key.clone(),
                    previous: display_rating(previous.rating),
                    rating: display_rating(rating.rating),
                });
            }
        }
        committed.push(Committed {
            match_id: record.id,
            game: record.game.clone(),
            seats,
        });
    }

    // The ratings that moved, written once each.
    let moved: Vec<(&(&str, &str), &Standing)> =
        standings.iter().filter(|(_, s)| s.games > 0).collect();
    for (shape, chunk) in shaped(&moved) {
        let mut query = query_for(backend, Statement::RatingsUpsert, shape);
        for ((key, game), standing) in chunk {
            query = query
                .bind(*key)
                .bind(*game)
                .bind(standing.rating.rating)
                .bind(standing.rating.deviation)
                .bind(standing.rating.volatility)
                .bind(standing.games)
                .bind(standing.wins)
                .bind(standing.losses)
                .bind(standing.draws)
                .bind(now);
        }
        query.execute(&mut *conn).await?;
    }

    for (shape, chunk) in shaped(&seat_rows) {
        let mut query = query_for(backend, Statement::Seats, shape);
        for (match_id, player, result, previous, rating) in chunk {
            query = query
                .bind(match_id.get() as i64)
                .bind(i64::from(player.seat))
                .bind(player.player_key.as_str())
                .bind(player.session.get() as i64)
                .bind(player.display_name.as_str())
                .bind(result.name())
                .bind(previous.map(|r| r.rating))
                .bind(rating.map(|r| r.rating));
        }
        query.execute(&mut *conn).await?;
    }
    // Each seat's (player, match) pair for the history by player (see `history`): on
    // SQLite one row for the batch; on PostgreSQL a trigger on `match_players` does it.
    if backend == Backend::Sqlite && !seat_rows.is_empty() {
        let pairs = seat_rows
            .iter()
            .map(|(match_id, player, ..)| (player.player_key.as_str(), match_id.get() as i64));
        sqlx::query("INSERT INTO recent_batches (pairs) VALUES ($1)")
            .bind(history::pairs_json(pairs).map_err(|e| sqlx::Error::Encode(Box::new(e)))?)
            .execute(&mut *conn)
            .await?;
    }

    // A match given twice in this batch: the same answer again.
    let written = committed.len();
    let mut firsts = HashSet::new();
    for record in batch {
        if !stored.contains(&record.id)
            && !firsts.insert(record.id)
            && let Some(first) = committed[..written]
                .iter()
                .find(|c| c.match_id == record.id)
        {
            committed.push(first.clone());
        }
    }
    // Matches that were already stored: their stored result.
    for record in batch {
        if stored.contains(&record.id) {
            committed.push(stored_result(conn, record).await?);
        }
    }
    let written = Written {
        staged: seat_rows.len(),
        players: players
            .into_iter()
            .map(|(key, name, _)| (key.to_string(), name.to_string()))
            .collect(),
        ratings: standings
            .into_iter()
            .filter(|(_, s)| s.games > 0)
            .map(|((key, game), s)| (key.to_string(), game.to_string(), s.rating))
            .collect(),
    };
    Ok((committed, written))
}

/// The committed result of a match already stored.
async fn stored_result(
    conn: &mut AnyConnection,
    record: &MatchRecord,
) -> Result<Committed, sqlx::Error> {
    /// Seat, session, player key, rating before and after.
    type SeatRow = (i64, i64, String, Option<f64>, Option<f64>);
    let rows: Vec<SeatRow> = sqlx::query_as(
        "SELECT seat, session_id, player_key, rating_before, rating_after FROM match_players \
         WHERE match_id = $1 ORDER BY seat",
    )
    .bind(record.id.get() as i64)
    .fetch_all(&mut *conn)
    .await?;
    let seats = rows
        .into_iter()
        .filter_map(|(seat, session, player_key, before, after)| {
            Some(CommittedSeat {
                seat: Seat::try_from(seat).ok()?,
                session: SessionId::new(session as u64),
                player_key,
                previous: display_rating(before?),
                rating: display_rating(after?),
            })
        })
        .collect();
    Ok(Committed {
        match_id: record.id,
        game: record.game.clone(),
        seats,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_statement_finds_its_own_texts() {
        for (i, &statement) in Statement::ALL.iter().enumerate() {
            assert_eq!(statement as usize, i, "{statement:?}");
            for backend in [Backend::Sqlite, Backend::Postgres] {
                for (shape, &rows) in SHAPES.iter().enumerate() {
                    let text = sql(backend, statement, shape);
                    assert_eq!(text, statement_text(backend, statement, rows));
                    // The room reserved for its arguments is exactly what it binds.
                    let placeholders = match backend {
                        Backend::Sqlite => text.matches('?').count(),
                        Backend::Postgres => text.matches('$').count(),
                    };
                    assert_eq!(placeholders, rows * statement.columns(), "{statement:?}");
                }
            }
        }
    }

    #[test]
    fn shaped_chunks_cover_everything_in_order_with_few_sizes() {
        for len in 0..2200usize {
            let items: Vec<usize> = (0..len).collect();
            let chunks: Vec<&[usize]> = shaped(&items)
                .map(|(shape, chunk)| {
                    assert_eq!(SHAPES[shape], chunk.len());
                    chunk
                })
                .collect();
            let joined: Vec<usize> = chunks.iter().flat_map(|c| c.iter().copied()).collect();
            assert_eq!(joined, items, "every item once, in order ({len})");
            for chunk in &chunks {
                assert!(
                    SHAPES.contains(&chunk.len()),
                    "{len}: a chunk of {}",
                    chunk.len()
                );
            }
            for &size in &SHAPES[1..] {
                let of_size = chunks.iter().filter(|c| c.len() == size).count();
                assert!(of_size <= 3, "{len}: {of_size} chunks of {size}");
            }
        }
    }
}
