//! A room's state frames: after a tick that changed the game (or for members that need
//! one), each connected member gets a full view or a delta against the tick its connection
//! acknowledged, each distinct frame encoded once per codec (and base) and shared.
//!
//! The delta base: a member's acknowledged tick (read through the [`Acks`] the shard
//! passes, from its connection), if it is at or after the first state sent to that connection in
//! this room, above every state an earlier room had put in that connection (its
//! `acked_before`), and the game still keeps the view of that tick; otherwise a full view. A
//! member that just joined or resumed gets a full view.

use bytes::BytesMut;

use super::Role;
use super::Room;
use super::output::{Acks, Out, RoomOutput};
use crate::engine::frames::{FrameCache, encode_with};
use crate::game::Viewer;
use crate::outbox::StateFrame;
use crate::protocol::Tick;

impl Room {
    pub(super) fn broadcast_state(
        &mut self,
        now: Tick,
        scratch: &mut BytesMut,
        acks: &impl Acks,
        out: &mut RoomOutput,
    ) {
        let Some(game) = &mut self.game else {
            return;
        };
        if !self.entry.sends_views {
            return;
        }
        let everyone = std::mem::take(&mut self.dirty);
        if !everyone && !self.members.iter().any(|m| m.needs_state) {
            return;
        }
        game.record_view(now);
        let game = &**game;
        let shared = game.shared_view();
        let mut cache = FrameCache::default();
        // The oldest tick a member may still take a delta against: its acknowledged tick,
        // or its first state's while it has not acknowledged that one yet.
        let mut oldest_base = now;
        for member in &mut self.members {
            let Some(link) = &member.link else {
                continue;
            };
            let acked = acks.acked(link);
            if let Some(full) = member.full_at {
                oldest_base = oldest_base.min(acked.max(full));
            }
            if !(everyone || member.needs_state) {
                continue;
            }
            let codec = link.codec();
            let base = member
                .full_at
                .filter(|&full| {
                    shared && !member.needs_state && acked >= full && acked > member.acked_before
                })
                .map(|_| acked)
                .filter(|&base| base < now && game.has_base(base));
            let encoded = match base {
                Some(base) => cache.delta(game, codec, base, now, scratch),
                None if shared => cache.full(game, codec, scratch),
                None => {
                    let viewer = match member.role {
                        Role::Player(seat) => Viewer::Player(seat),
                        Role::Spectator => Viewer::Spectator,
                    };
                    encode_with(scratch, |buf| game.encode_view(viewer, codec, buf))
                }
            };
            let Some(body) = encoded else {
                continue;
            };
            // Only the first: every later tick the client acknowledges is one it got here.
            if member.full_at.is_none() {
                member.full_at = Some(now);
                member.acked_before = acks.newest_sent(link);
            }
            out.push(Out::State {
                to: link.clone(),
                frame: StateFrame {
                    tick: now,
                    base_tick: base,
                    input_seq: member.input_seq,
                    body,
                },
            });
            member.needs_state = false;
        }
        if let Some(game) = &mut self.game {
            game.forget_before(oldest_base);
        }
    }
}
