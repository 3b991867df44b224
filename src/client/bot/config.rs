//! How a bot plays: [`BotConfig`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::client::{Backoff, ClientTls};
use crate::codec::Codec;
use crate::game::tictactoe_ai::Strategy;
use crate::protocol::MatchId;

/// How a bot plays.
#[derive(Debug, Clone)]
pub struct BotConfig {
    /// Server URL, e.g. `ws://127.0.0.1:7878/`.
    pub url: String,
    /// Codec to speak.
    pub codec: Codec,
    /// How to choose moves.
    pub strategy: Strategy,
    /// Games to play before leaving; `None` to play until stopped.
    pub games: Option<u64>,
    /// Probability (0 to 1) of dropping the connection on each turn, before moving.
    pub chaos: f64,
    /// Delays between reconnect attempts.
    pub backoff: Backoff,
    /// The longest wait for any one server message (and for connecting).
    pub timeout: Duration,
    /// Seed for the bot's moves and chaos; `None` for a random one.
    pub seed: Option<u64>,
    /// Where to note the match id of every `RatingChanged` the bot receives (the results
    /// the server confirmed durable); `None` to ignore them.
    pub confirmed: Option<Arc<Mutex<Vec<MatchId>>>>,
    /// What to trust over `wss://` besides the webpki roots (e.g. a local CA: `--ca-file`);
    /// `None` for the webpki roots only.
    pub tls: Option<ClientTls>,
}

impl BotConfig {
    /// A bot for `url` with a random strategy, no chaos, bincode, and no game limit.
    pub fn new(url: impl Into<String>) -> BotConfig {
        BotConfig {
            url: url.into(),
            codec: Codec::Bincode,
            strategy: Strategy::Random,
            games: None,
            chaos: 0.0,
            backoff: Backoff::default(),
            timeout: Duration::from_secs(30),
            seed: None,
            confirmed: None,
            tls: None,
        }
    }
}
