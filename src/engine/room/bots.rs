//! The server bots in a room's seats (`--bot-fill-after`): made when the room is, asked
//! after each tick that changed the state, their inputs queued like a client's.

use bytes::BytesMut;

use super::super::BotFill;
use super::super::frames::encode_with;
use super::super::registry::DynBot;
use super::output::RoomOutput;
use super::{PendingInput, Room, Sender, room_seed};
use crate::codec::Codec;
use crate::game::{GameRng, Viewer};
use crate::protocol::{RoomEvent, RoomStatus, Seat, Tick};
use rand::SeedableRng;

/// A seat played by a server bot. It sees its seat's view as a client would (encoded in
/// bincode) after every tick whose state changed, and its answer is queued like a client's
/// input for the next tick.
pub(super) struct BotSeat {
    pub(super) seat: Seat,
    bot: Box<dyn DynBot>,
    /// The seq of its last input.
    seq: u32,
}

impl std::fmt::Debug for BotSeat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BotSeat")
            .field("seat", &self.seat)
            .field("seq", &self.seq)
            .finish_non_exhaustive()
    }
}

impl Room {
    /// Seats the bots of `fill`: their seats drawn from the room's seed (seat order decides
    /// who moves first, so a bot is as likely as a player to start), each bot seeded from
    /// the room's seed and its seat.
    pub(super) fn seat_bots(&mut self, fill: &BotFill, now: Tick, out: &mut RoomOutput) {
        if fill.count == 0 {
            return;
        }
        let Some(factory) = self.entry.bot else {
            tracing::error!(game = self.entry.name, "bot seats for a game without bots");
            return;
        };
        for seat in bot_seats(self.config.seed, self.entry.seats, fill.count) {
            let seed = room_seed(self.config.seed, u64::from(seat) + 1);
            let Some(bot) = factory(&fill.strategy, seed) else {
                tracing::error!(
                    game = self.entry.name,
                    strategy = fill.strategy,
                    "the game has no bot of this strategy"
                );
                continue;
            };
            self.bots.push(BotSeat { seat, bot, seq: 0 });
            self.emit(now, RoomEvent::PlayerJoined { seat }, out);
        }
    }

    /// Shows each bot its seat's view, encoded as its client would get it, and queues what
    /// it answers for the next tick, behind the inputs clients sent meanwhile.
    pub(super) fn ask_bots(&mut self, scratch: &mut BytesMut) {
        let Some(game) = &self.game else {
            return;
        };
        if self.status != RoomStatus::Running {
            return;
        }
        for bot in &mut self.bots {
            let viewer = Viewer::Player(bot.seat);
            let Some(view) =
                encode_with(scratch, |buf| game.encode_view(viewer, Codec::Bincode, buf))
            else {
                continue;
            };
            let Some(data) = bot.bot.choose(&view, bot.seat) else {
                continue;
            };
            bot.seq = bot.seq.wrapping_add(1);
            self.pending.push(PendingInput {
                from: Sender::Bot(bot.seat),
                seq: bot.seq,
                data: data.into(),
            });
        }
    }
}

/// `count` of a game's `seats`, drawn from the room's seed (`room_seed` with 0, which no
/// bot's own seed uses), in increasing order.
pub(super) fn bot_seats(seed: u64, seats: u8, count: u8) -> Vec<Seat> {
    let mut rng = GameRng::seed_from_u64(room_seed(seed, 0));
    let count = usize::from(count.min(seats));
    let mut drawn: Vec<Seat> = rand::seq::index::sample(&mut rng, usize::from(seats), count)
        .into_iter()
        .filter_map(|seat| Seat::try_from(seat).ok())
        .collect();
    drawn.sort_unstable();
    drawn
}
