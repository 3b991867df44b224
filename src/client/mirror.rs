//! The client's copy of an arena room's state, rebuilt from `Snapshot`s and `Delta`s.
//!
//! PROTOCOL.md ("Acknowledgements and deltas") says what a client must keep: the states it
//! has received, at least the last 64 of them (or `tick_hz`, if more), keyed by tick. An
//! [`ArenaMirror`] keeps exactly that, in a bounded ring: a `Snapshot` is stored under its
//! tick; a `Delta` is applied to the stored state of its `base_tick`
//! ([`DeltaGame::apply_delta`], the same code the server's tests check) and the result is
//! stored under its tick. A delta whose base is not held is an error
//! ([`MirrorError::MissingBase`]), never a guess.
//!
//! Pure: no socket, no clock. The newest state is the one to acknowledge.

use std::collections::VecDeque;

use thiserror::Error;

use crate::codec::{Codec, CodecError};
use crate::game::DeltaGame;
use crate::game::arena::{Arena, ArenaDelta, ArenaPlayer, ArenaView};
use crate::protocol::{Seat, ServerMsg, Tick};

/// Why a state message could not be applied.
#[derive(Debug, Error)]
pub enum MirrorError {
    /// A `Delta` names a base tick whose state this client does not hold (never received,
    /// or already dropped from the ring). The server must only use acknowledged ticks.
    #[error("delta for tick {tick} against base tick {base_tick}, which is not held")]
    MissingBase {
        /// The delta's tick.
        tick: Tick,
        /// The base it names.
        base_tick: Tick,
    },
    /// A state's tick is not newer than the newest state held: states on one connection
    /// only ever move forward.
    #[error("state for tick {tick} after the state for tick {newest}")]
    NotNewer {
        /// The state's tick.
        tick: Tick,
        /// The newest tick held.
        newest: Tick,
    },
    /// The state or delta payload did not decode.
    #[error("arena payload: {0}")]
    Codec(#[from] CodecError),
}

/// Whether a state arrived whole or as a difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StateKind {
    /// A `Snapshot`.
    Full,
    /// A `Delta` against `base_tick`.
    Delta {
        /// The acknowledged tick it was taken against.
        base_tick: Tick,
    },
}

/// What applying one state message did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Applied {
    /// The tick now stored (and the newest held).
    pub tick: Tick,
    /// The message's `input_seq`: the last input of this client the server processed.
    pub input_seq: u32,
    /// Full or delta.
    pub kind: StateKind,
}

/// Recent arena states of one room, by tick, in a bounded ring.
#[derive(Debug, Clone)]
pub struct ArenaMirror {
    /// Oldest first; ticks strictly increasing.
    ring: VecDeque<(Tick, ArenaView)>,
    capacity: usize,
}

impl Default for ArenaMirror {
    fn default() -> Self {
        ArenaMirror::new(ArenaMirror::DEFAULT_CAPACITY)
    }
}

impl ArenaMirror {
    /// States kept by default. The server takes deltas only against the last 64 states it
    /// sent (or `tick_hz`, if more; at most 128), so 128 always suffices.
    pub const DEFAULT_CAPACITY: usize = 128;

    /// A mirror keeping the last `capacity` states (at least one).
    pub fn new(capacity: usize) -> ArenaMirror {
        let capacity = capacity.max(1);
        ArenaMirror {
            ring: VecDeque::with_capacity(capacity),
            capacity,
        }
    }

    /// Applies `msg` if it is a `Snapshot` or `Delta`, decoding its payload with `codec`.
    /// Returns `Ok(None)` for any other message.
    ///
    /// # Errors
    /// [`MirrorError::Codec`] when the payload does not decode, and the errors of
    /// [`ArenaMirror::store_full`] and [`ArenaMirror::store_delta`]. The mirror is unchanged
    /// after an error.
    pub fn apply(&mut self, codec: Codec, msg: &ServerMsg) -> Result<Option<Applied>, MirrorError> {
        match msg {
            ServerMsg::Snapshot {
                tick,
                input_seq,
                state,
            } => {
                let view: ArenaView = codec.decode(state)?;
                self.store_full(*tick, view)?;
                Ok(Some(Applied {
                    tick: *tick,
                    input_seq: *input_seq,
                    kind: StateKind::Full,
                }))
            }
            ServerMsg::Delta {
                tick,
                base_tick,
                input_seq,
                delta,
            } => {
                let delta: ArenaDelta = codec.decode(delta)?;
                self.store_delta(*tick, *base_tick, &delta)?;
                Ok(Some(Applied {
                    tick: *tick,
                    input_seq: *input_seq,
                    kind: StateKind::Delta {
                        base_tick: *base_tick,
                    },
                }))
            }
            _ => Ok(None),
        }
    }

    /// Stores a full state under `tick`.
    ///
    /// # Errors
    /// [`MirrorError::NotNewer`] when `tick` is not after the newest state held.
    pub fn store_full(&mut self, tick: Tick, view: ArenaView) -> Result<(), MirrorError> {
        self.check_newer(tick)?;
        self.push(tick, view);
        Ok(())
    }

    /// Rebuilds the state at `tick` from the held state at `base_tick` and `delta`, and
    /// stores it (PROTOCOL.md, "Applying an arena delta").
    ///
    /// # Errors
    /// [`MirrorError::NotNewer`] when `tick` is not after the newest state held,
    /// [`MirrorError::MissingBase`] when no state is held for `base_tick`.
    pub fn store_delta(
        &mut self,
        tick: Tick,
        base_tick: Tick,
        delta: &ArenaDelta,
    ) -> Result<(), MirrorError> {
        self.check_newer(tick)?;
        let base = self
            .get(base_tick)
            .ok_or(MirrorError::MissingBase { tick, base_tick })?;
        let view = Arena::apply_delta(base, base_tick, delta, tick);
        self.push(tick, view);
        Ok(())
    }

    fn check_newer(&self, tick: Tick) -> Result<(), MirrorError> {
        match self.latest() {
            Some((newest, _)) if tick <= newest => Err(MirrorError::NotNewer { tick, newest }),
            _ => Ok(()),
        }
    }

    fn push(&mut self, tick: Tick, view: ArenaView) {
        if self.ring.len() >= self.capacity {
            self.ring.pop_front();
        }
        self.ring.push_back((tick, view));
    }

    /// The state held for `tick`, if any.
    pub fn get(&self, tick: Tick) -> Option<&ArenaView> {
        // Ticks are stored in increasing order.
        let index = self.ring.binary_search_by_key(&tick, |(t, _)| *t).ok()?;
        self.ring.get(index).map(|(_, view)| view)
    }

    /// The newest state and its tick: the one to acknowledge.
    pub fn latest(&self) -> Option<(Tick, &ArenaView)> {
        self.ring.back().map(|(tick, view)| (*tick, view))
    }

    /// The newest tick held (0 for none), as `Input.ack_tick` and `Ack.tick` want it.
    pub fn ack_tick(&self) -> Tick {
        self.ring.back().map_or(0, |(tick, _)| *tick)
    }

    /// The player in `seat` in the newest state.
    pub fn player(&self, seat: Seat) -> Option<ArenaPlayer> {
        let (_, view) = self.latest()?;
        view.players.iter().find(|p| p.seat == seat).copied()
    }

    /// States held.
    pub fn len(&self) -> usize {
        self.ring.len()
    }

    /// Whether no state is held.
    pub fn is_empty(&self) -> bool {
        self.ring.is_empty()
    }

    /// Forgets every state (on entering or leaving a room: states of another room or
    /// connection are never a base again).
    pub fn clear(&mut self) {
        self.ring.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::game::arena::pack_dir;

    fn player(seat: Seat, x: u16, y: u16, dx: i8, dy: i8) -> ArenaPlayer {
        ArenaPlayer {
            seat,
            x,
            y,
            dir: pack_dir(dx, dy),
        }
    }

    fn view(players: Vec<ArenaPlayer>) -> ArenaView {
        ArenaView { players }
    }

    #[test]
    fn deltas_apply_to_the_named_base_the_protocol_example() {
        // PROTOCOL.md's worked example: ticks 1199 -> 1201.
        let mut mirror = ArenaMirror::default();
        let base = view(vec![
            player(0, 125, 250, 0, 0),
            player(2, 630, 735, 1, 0),
            player(5, 1000, 0, 1, -1),
        ]);
        mirror.store_full(1199, base).unwrap();
        let delta = ArenaDelta {
            changed: vec![player(2, 620, 745, -1, 1)],
            removed: vec![5],
        };
        mirror.store_delta(1201, 1199, &delta).unwrap();
        let (tick, now) = mirror.latest().unwrap();
        assert_eq!(tick, 1201);
        assert_eq!(
            now,
            &view(vec![player(0, 125, 250, 0, 0), player(2, 620, 745, -1, 1)])
        );
        assert_eq!(mirror.ack_tick(), 1201);
        assert_eq!(mirror.player(2).map(|p| (p.x, p.y)), Some((620, 745)));
    }

    #[test]
    fn a_missing_base_is_an_error_and_changes_nothing() {
        let mut mirror = ArenaMirror::default();
        mirror.store_full(10, view(vec![])).unwrap();
        let error = mirror
            .store_delta(12, 11, &ArenaDelta::default())
            .unwrap_err();
        assert!(matches!(
            error,
            MirrorError::MissingBase {
                tick: 12,
                base_tick: 11
            }
        ));
        assert_eq!(mirror.ack_tick(), 10);
        assert!(matches!(
            mirror.store_full(10, view(vec![])),
            Err(MirrorError::NotNewer {
                tick: 10,
                newest: 10
            })
        ));
    }

    #[test]
    fn the_ring_is_bounded_and_forgets_the_oldest() {
        let mut mirror = ArenaMirror::new(4);
        for tick in 1..=10 {
            mirror.store_full(tick, view(vec![])).unwrap();
        }
        assert_eq!(mirror.len(), 4);
        assert!(mirror.get(6).is_none());
        assert!(mirror.get(7).is_some());
        assert!(matches!(
            mirror.store_delta(11, 6, &ArenaDelta::default()),
            Err(MirrorError::MissingBase { .. })
        ));
        mirror.store_delta(11, 7, &ArenaDelta::default()).unwrap();
        mirror.clear();
        assert!(mirror.is_empty());
        assert_eq!(mirror.ack_tick(), 0);
    }

    #[test]
    fn messages_decode_with_the_connections_codec() {
        for codec in Codec::ALL {
            let mut mirror = ArenaMirror::default();
            let full = view(vec![player(1, 500, 500, 1, 1)]);
            let snapshot = ServerMsg::Snapshot {
                tick: 5,
                input_seq: 3,
                state: codec.encode(&full).unwrap(),
            };
            let applied = mirror.apply(codec, &snapshot).unwrap().unwrap();
            assert_eq!(applied.kind, StateKind::Full);
            assert_eq!(applied.input_seq, 3);
            let delta = ServerMsg::Delta {
                tick: 8,
                base_tick: 5,
                input_seq: 4,
                delta: codec.encode(&ArenaDelta::default()).unwrap(),
            };
            let applied = mirror.apply(codec, &delta).unwrap().unwrap();
            assert_eq!(applied.kind, StateKind::Delta { base_tick: 5 });
            // Predicted forward three ticks along (1, 1).
            assert_eq!(mirror.player(1).map(|p| (p.x, p.y)), Some((515, 515)));
            let garbage = ServerMsg::Delta {
                tick: 9,
                base_tick: 8,
                input_seq: 4,
                delta: bytes::Bytes::from_static(&[0xff; 3]),
            };
            assert!(matches!(
                mirror.apply(codec, &garbage),
                Err(MirrorError::Codec(_))
            ));
            assert!(
                mirror
                    .apply(codec, &ServerMsg::Pong { nonce: 1 })
                    .unwrap()
                    .is_none()
            );
        }
    }
}
