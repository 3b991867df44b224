//! An input's bytes on their way from a connection's reader to its room's tick.
//!
//! Inputs are most of what clients send, and most games' are a few bytes (tic-tac-toe's
//! cell, the arena's direction). Up to [`INLINE_INPUT_BYTES`] of them are held inline, so
//! an input costs no allocation between the reader, which copies it out of its read buffer
//! (so that buffer is reused at once, not kept until the tick), and the shard, which drops
//! it at the tick on another thread. A longer input has a buffer of its own. The limit on
//! an input's size is the frame limit's, as before (`codec.rs`).

use std::ops::Deref;

use bytes::Bytes;
use smallvec::SmallVec;

/// The most bytes an input holds without an allocation (an `InputData` is then the size of
/// a `Bytes`: `smallvec`'s `union` layout).
pub const INLINE_INPUT_BYTES: usize = 24;

/// One input's bytes, as `ClientMsg::Input::data` carried them.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct InputData(SmallVec<[u8; INLINE_INPUT_BYTES]>);

impl InputData {
    /// A copy of `bytes`.
    pub fn copy_from_slice(bytes: &[u8]) -> InputData {
        InputData(SmallVec::from_slice(bytes))
    }

    /// Whether the bytes are held inline (no allocation of their own).
    pub fn is_inline(&self) -> bool {
        !self.0.spilled()
    }
}

impl Deref for InputData {
    type Target = [u8];
    fn deref(&self) -> &[u8] {
        &self.0
    }
}

impl From<&[u8]> for InputData {
    fn from(bytes: &[u8]) -> InputData {
        InputData::copy_from_slice(bytes)
    }
}

impl From<Bytes> for InputData {
    /// Inline if short; a longer input keeps the buffer of a `Bytes` that holds its own
    /// (a copy otherwise).
    fn from(bytes: Bytes) -> InputData {
        if bytes.len() <= INLINE_INPUT_BYTES {
            InputData::copy_from_slice(&bytes)
        } else {
            InputData::from(Vec::from(bytes))
        }
    }
}

impl From<Vec<u8>> for InputData {
    fn from(bytes: Vec<u8>) -> InputData {
        InputData(SmallVec::from_vec(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_inputs_are_inline_and_long_ones_are_kept_whole() {
        let short = InputData::copy_from_slice(&[7; INLINE_INPUT_BYTES]);
        assert!(short.is_inline());
        assert_eq!(&*short, &[7; INLINE_INPUT_BYTES][..]);
        let long: Vec<u8> = (0..=255).collect();
        let kept = InputData::from(Bytes::from(long.clone()));
        assert!(!kept.is_inline());
        assert_eq!(&*kept, &long[..]);
        assert_eq!(InputData::from(long.clone()), kept);
        assert!(InputData::from(vec![1, 2, 3]).is_inline());
        assert!(InputData::default().is_empty());
        assert!(InputData::from(Bytes::from_static(&[9; 3])).is_inline());
    }

    #[test]
    fn an_input_is_no_larger_than_the_bytes_it_replaced() {
        assert_eq!(size_of::<InputData>(), size_of::<Bytes>());
    }
}
