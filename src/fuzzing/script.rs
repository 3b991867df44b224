//! Fuzzer bytes read as a sequence of small choices.

/// Reads choices off the front of the fuzzer's bytes. Past the end every read gives zeros
/// (or an empty slice), so any input is a complete script and short inputs stay meaningful.
pub(crate) struct Script<'a> {
    data: &'a [u8],
}

impl<'a> Script<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Script<'a> {
        Script { data }
    }

    /// Whether every byte has been read.
    pub(crate) fn is_empty(&self) -> bool {
        self.data.is_empty()
    }

    /// The next byte (0 past the end).
    pub(crate) fn byte(&mut self) -> u8 {
        match self.data.split_first() {
            Some((&b, rest)) => {
                self.data = rest;
                b
            }
            None => 0,
        }
    }

    /// The next `len` bytes, or as many as are left.
    pub(crate) fn bytes(&mut self, len: usize) -> &'a [u8] {
        let (head, rest) = self.data.split_at(len.min(self.data.len()));
        self.data = rest;
        head
    }

    /// A byte string prefixed by a one-byte length.
    pub(crate) fn short_bytes(&mut self) -> &'a [u8] {
        let len = usize::from(self.byte());
        self.bytes(len)
    }

    /// A little-endian `u16`.
    pub(crate) fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.byte(), self.byte()])
    }

    /// A little-endian `u32`.
    pub(crate) fn u32(&mut self) -> u32 {
        u32::from_le_bytes([self.byte(), self.byte(), self.byte(), self.byte()])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_past_the_end_are_zero_and_empty() {
        let mut s = Script::new(&[1, 2, 3, 4]);
        assert_eq!(s.byte(), 1);
        assert_eq!(s.u16(), 0x0302);
        assert_eq!(s.short_bytes(), &[] as &[u8], "length 4, but nothing left");
        assert!(s.is_empty());
        assert_eq!(s.u32(), 0);
        assert_eq!(s.bytes(3), &[] as &[u8]);
    }
}
