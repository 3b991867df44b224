//! Encoding a room's state frames: each distinct frame once per codec, shared by every
//! member that needs it.

use bytes::{Bytes, BytesMut};

use super::registry::DynGame;
use crate::codec::{Codec, CodecError};
use crate::game::Viewer;
use crate::protocol::Tick;

/// Runs `encode` into the shard's scratch buffer and splits the result off as shared bytes.
pub(super) fn encode_with(
    scratch: &mut BytesMut,
    encode: impl FnOnce(&mut BytesMut) -> Result<(), CodecError>,
) -> Option<Bytes> {
    scratch.clear();
    match encode(scratch) {
        Ok(()) => Some(scratch.split().freeze()),
        Err(error) => {
            tracing::error!(%error, "failed to encode a game view");
            None
        }
    }
}

/// The frames encoded during one broadcast: one full view per codec and one delta per
/// (codec, base tick), each shared by every member that needs it. Codecs are told apart
/// by [`Codec::index`], the encoding of values: both MessagePack subprotocols share their
/// frames (they differ only in the envelope each member's writer puts around them).
#[derive(Default)]
pub(super) struct FrameCache {
    full: [Option<Bytes>; 2],
    /// (codec index, base tick, delta).
    deltas: Vec<(usize, Tick, Bytes)>,
}

impl FrameCache {
    pub(super) fn full(
        &mut self,
        game: &dyn DynGame,
        codec: Codec,
        scratch: &mut BytesMut,
    ) -> Option<Bytes> {
        if let Some(body) = &self.full[codec.index()] {
            return Some(body.clone());
        }
        let body = encode_with(scratch, |buf| {
            game.encode_view(Viewer::Spectator, codec, buf)
        })?;
        Some(self.full[codec.index()].insert(body).clone())
    }

    pub(super) fn delta(
        &mut self,
        game: &dyn DynGame,
        codec: Codec,
        base: Tick,
        now: Tick,
        scratch: &mut BytesMut,
    ) -> Option<Bytes> {
        if let Some((_, _, body)) = self
            .deltas
            .iter()
            .find(|(c, b, _)| *c == codec.index() && *b == base)
        {
            return Some(body.clone());
        }
        let mut found = false;
        let body = encode_with(scratch, |buf| {
            found = game.encode_delta(base, now, codec, buf)?;
            Ok(())
        })?;
        if !found {
            return self.full(game, codec, scratch);
        }
        self.deltas.push((codec.index(), base, body.clone()));
        Some(body)
    }
}
