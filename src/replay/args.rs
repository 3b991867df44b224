//! The replay options of `ticksync serve` and the arguments of `ticksync replay`.

use std::path::PathBuf;

use super::{MAX_LOG_BYTES, ReplayConfig};
use crate::protocol::MatchId;

/// `ticksync serve`'s replay options.
#[derive(Debug, Clone, clap::Args)]
pub struct ReplayArgs {
    /// Record every game's replay (`true` or `false`).
    #[arg(long, env = "TICKSYNC_RECORD_REPLAYS", default_value_t = true,
          action = clap::ArgAction::Set)]
    pub record_replays: bool,
    /// Ticks between the state hashes a replay records.
    #[arg(long, env = "TICKSYNC_REPLAY_HASH_EVERY", default_value_t = 30,
          value_parser = clap::value_parser!(u32).range(1..))]
    pub replay_hash_every: u32,
    /// Most bytes one game's replay log may hold before compression; a longer log is
    /// dropped (that game gets no replay) and counted.
    #[arg(long, env = "TICKSYNC_REPLAY_MAX_BYTES", default_value_t = 8 << 20,
          value_parser = max_bytes)]
    pub replay_max_bytes: usize,
}

fn max_bytes(text: &str) -> Result<usize, String> {
    let value: usize = text
        .parse()
        .map_err(|_| format!("`{text}` is not a number of bytes"))?;
    if value > MAX_LOG_BYTES {
        return Err(format!("at most {MAX_LOG_BYTES}"));
    }
    Ok(value)
}

impl ReplayArgs {
    /// The settings these options give.
    pub fn config(&self) -> ReplayConfig {
        ReplayConfig {
            record: self.record_replays,
            hash_every: self.replay_hash_every,
            max_bytes: self.replay_max_bytes,
        }
    }
}

/// `ticksync replay`'s arguments: a replay file, or a match stored in a database.
#[derive(Debug, Clone, clap::Args)]
pub struct ReplayFileArgs {
    /// A replay as the server stores and serves it (zstd-compressed log), e.g. saved from
    /// `GET /matches/{id}/replay`.
    #[arg(required_unless_present = "match_id", conflicts_with = "match_id")]
    pub file: Option<PathBuf>,
    /// The id of a finished match whose replay is read from `--database`.
    #[arg(long = "match", value_name = "ID")]
    pub match_id: Option<MatchId>,
    /// The database `--match` reads from (as `ticksync serve --database`).
    #[arg(
        long,
        env = "TICKSYNC_DATABASE",
        hide_env_values = true,
        default_value = "sqlite://./ticksync.db"
    )]
    pub database: String,
}
