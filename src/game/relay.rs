//! Lockstep relay: a game with no rules that relays every tick's inputs to the room.
//!
//! Each tick, the relay emits one [`InputFrame`] event holding every input that reached the
//! room since the last tick, in arrival order, empty ticks included, so clients running a
//! lockstep simulation can advance. It sends no views ([`Game::SENDS_VIEWS`] is `false`),
//! never ends by itself, and reads each input's bytes raw ([`Game::RAW_INPUT`]): they are
//! relayed exactly as the sender put them in `Input.data`, whatever the codecs.
//!
//! A room is a relay room when `CreateRoom` asks for it (`RoomSettings.relay`); it then has
//! the seats of the game it names (see [`crate::engine::GameEntry::relay`]).

use bytes::Bytes;
use serde::{Deserialize, Serialize};

use super::{Ctx, Game, GameConfig, Outcome, Rejection, Viewer};
use crate::protocol::{MAX_RELAY_INPUT_BYTES, MAX_RELAY_INPUTS_PER_TICK, Seat, Tick};

/// One tick's relayed inputs: the relay's event, sent as `ServerMsg::GameEvent`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InputFrame {
    /// The tick the inputs belong to (the event's tick).
    pub frame: Tick,
    /// The inputs, in arrival order.
    pub inputs: Vec<FrameInput>,
}

/// One player's input inside an [`InputFrame`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FrameInput {
    /// The player's seat.
    pub seat: Seat,
    /// The input's `seq`.
    pub seq: u32,
    /// The input's `data`, as the client sent it.
    pub data: Bytes,
}

/// The relay: this tick's inputs so far.
#[derive(Debug, Default)]
pub struct Relay {
    frame: Vec<FrameInput>,
}

impl Game for Relay {
    const NAME: &'static str = "relay";
    /// The most seats a relay room can have; a relay room takes the seat count of the game
    /// its `CreateRoom` names.
    const SEATS: u8 = 16;
    const ENDS_BY_ITSELF: bool = false;
    const MAX_INPUTS_PER_TICK: usize = MAX_RELAY_INPUTS_PER_TICK;
    const SENDS_VIEWS: bool = false;
    const RAW_INPUT: bool = true;
    const EVENT_EVERY_TICK: bool = true;
    const RECORDED: bool = false;

    type Options = ();
    type Input = Bytes;
    type View = ();
    type Event = InputFrame;

    fn new(_config: &GameConfig, _options: (), _ctx: &mut Ctx<'_, InputFrame>) -> Self {
        Relay::default()
    }

    fn validate(&self, _seat: Seat, input: &Bytes) -> Result<(), Rejection> {
        if input.len() > MAX_RELAY_INPUT_BYTES {
            return Err(Rejection::illegal(format!(
                "relay inputs are at most {MAX_RELAY_INPUT_BYTES} bytes"
            )));
        }
        Ok(())
    }

    fn apply(&mut self, ctx: &mut Ctx<'_, InputFrame>, seat: Seat, data: Bytes) -> bool {
        self.frame.push(FrameInput {
            seat,
            seq: ctx.input_seq(),
            data,
        });
        false
    }

    fn tick(&mut self, ctx: &mut Ctx<'_, InputFrame>) -> bool {
        let inputs = std::mem::take(&mut self.frame);
        ctx.emit(InputFrame {
            frame: ctx.tick(),
            inputs,
        });
        false
    }

    fn on_leave(&mut self, _ctx: &mut Ctx<'_, InputFrame>, _seat: Seat) -> bool {
        false
    }

    fn view(&self, _viewer: Viewer) {}

    fn outcome(&self) -> Option<Outcome> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::CtxState;
    use crate::protocol::RoomSettings;

    #[test]
    fn every_tick_emits_the_inputs_since_the_last_in_arrival_order() {
        let config = GameConfig {
            tick_hz: 30,
            settings: RoomSettings::default(),
            players: 2,
            seed: 0,
        };
        let mut state = CtxState::new(0);
        let mut relay = Relay::new(&config, (), &mut state.at(1));
        relay.apply(&mut state.for_input(2, 7), 1, Bytes::from_static(b"b"));
        relay.apply(&mut state.for_input(2, 3), 0, Bytes::from_static(b"a"));
        relay.tick(&mut state.at(2));
        relay.tick(&mut state.at(3));
        let frames = state.take_events();
        assert_eq!(frames.len(), 2, "empty ticks too");
        assert_eq!(frames[0].frame, 2);
        let order: Vec<(Seat, u32)> = frames[0].inputs.iter().map(|i| (i.seat, i.seq)).collect();
        assert_eq!(order, vec![(1, 7), (0, 3)]);
        assert_eq!(frames[1].frame, 3);
        assert!(frames[1].inputs.is_empty());
    }

    #[test]
    fn inputs_over_the_size_cap_are_refused() {
        let relay = Relay::default();
        let big = Bytes::from(vec![0; MAX_RELAY_INPUT_BYTES + 1]);
        let refused = relay.validate(0, &big).unwrap_err();
        assert_eq!(refused.code, crate::protocol::ErrorCode::IllegalInput);
        assert!(relay.validate(0, &big.slice(1..)).is_ok());
    }
}
