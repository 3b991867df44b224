//! What the results writer committed lately, so that the next batches need not read or
//! write it again (see [`Known`]).

use foldhash::{HashMap, HashMapExt};

use super::Backend;
use super::rating::Glicko2Rating;

/// How long a committed player row counts as fresh: a player in a later batch within this
/// time is not written again (their name is the same), so `players.seen_at_ms` is exact
/// to this much. A returning player of a busy server would otherwise rewrite their row
/// once per batch, several times a second.
const SEEN_REFRESH_MS: i64 = 60_000;
/// Most rows [`Known`] remembers of each kind; past it that memory starts again empty.
const KNOWN_ROWS: usize = 100_000;

/// What the writer committed lately:
///
/// - **players**: key, display name and when the row was written (see
///   [`SEEN_REFRESH_MS`]);
/// - **ratings** (SQLite only): each player's rating per game as last committed, so the
///   batch reads only the ratings of players it has not seen. Sound because this writer
///   is the only one writing an SQLite file's ratings; PostgreSQL may be shared by
///   several servers, so there every batch reads them.
///
/// Updated only once a batch is committed; after a failed attempt (the commit may or may
/// not have happened) the writer calls [`Known::forget`].
#[derive(Debug)]
pub(super) struct Known {
    players: HashMap<String, (String, i64)>,
    /// By game, then player key.
    ratings: Option<HashMap<String, HashMap<String, Glicko2Rating>>>,
    backend: Backend,
}

/// The rows a committed batch wrote, for [`Known::remember`].
#[derive(Debug, Default)]
pub(super) struct Written {
    /// Rows appended to `recent_players` (see `history`).
    pub(super) staged: usize,
    /// Player key and display name.
    pub(super) players: Vec<(String, String)>,
    /// Player key, game and the rating written.
    pub(super) ratings: Vec<(String, String, Glicko2Rating)>,
}

impl Known {
    pub(super) fn new(backend: Backend) -> Known {
        Known {
            players: HashMap::new(),
            ratings: (backend == Backend::Sqlite).then(HashMap::new),
            backend,
        }
    }

    /// Forgets everything (after a write that may or may not have committed, or pruning).
    pub(super) fn forget(&mut self) {
        *self = Known::new(self.backend);
    }

    /// Forgets player rows older than [`SEEN_REFRESH_MS`].
    pub(super) fn expire(&mut self, now: i64) {
        self.players
            .retain(|_, (_, at)| now - *at < SEEN_REFRESH_MS);
    }

    /// Whether `key` was written lately under `name`.
    pub(super) fn player(&self, key: &str, name: &str) -> bool {
        self.players
            .get(key)
            .is_some_and(|(known, _)| known == name)
    }

    /// The committed rating of `key` in `game`, if known.
    pub(super) fn rating(&self, key: &str, game: &str) -> Option<Glicko2Rating> {
        self.ratings.as_ref()?.get(game)?.get(key).copied()
    }

    /// `written` was committed at `now`.
    pub(super) fn remember(&mut self, written: Written, now: i64) {
        if self.players.len() + written.players.len() > KNOWN_ROWS {
            self.players.clear();
        }
        for (key, name) in written.players {
            self.players.insert(key, (name, now));
        }
        if let Some(ratings) = &mut self.ratings {
            let held: usize = ratings.values().map(HashMap::len).sum();
            if held + written.ratings.len() > KNOWN_ROWS {
                ratings.clear();
            }
            for (key, game, rating) in written.ratings {
                ratings.entry(game).or_default().insert(key, rating);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn remembers_what_was_committed_until_told_to_forget() {
        let mut known = Known::new(Backend::Sqlite);
        let rating = Glicko2Rating::new();
        known.remember(
            Written {
                staged: 0,
                players: vec![("guest:1".into(), "Ann".into())],
                ratings: vec![("guest:1".into(), "tictactoe".into(), rating)],
            },
            1_000,
        );
        assert!(known.player("guest:1", "Ann"));
        assert!(
            !known.player("guest:1", "Bob"),
            "a new name is written again"
        );
        assert_eq!(known.rating("guest:1", "tictactoe"), Some(rating));
        assert_eq!(known.rating("guest:1", "battleship"), None);
        known.expire(1_000 + SEEN_REFRESH_MS);
        assert!(
            !known.player("guest:1", "Ann"),
            "stale rows are written again"
        );
        assert_eq!(known.rating("guest:1", "tictactoe"), Some(rating));
        known.forget();
        assert_eq!(known.rating("guest:1", "tictactoe"), None);

        // PostgreSQL: ratings are always read.
        let mut shared = Known::new(Backend::Postgres);
        shared.remember(
            Written {
                staged: 0,
                players: Vec::new(),
                ratings: vec![("guest:1".into(), "tictactoe".into(), rating)],
            },
            1_000,
        );
        assert_eq!(shared.rating("guest:1", "tictactoe"), None);
    }
}
