//! Length and character rules for the text players send or are named by. Pure functions.
//!
//! | Text | Where | Rule |
//! |---|---|---|
//! | player id | JWT `sub` | 1 to [`MAX_PLAYER_ID_BYTES`] bytes, no control or format characters |
//! | display name | JWT `name` | 1 to [`MAX_DISPLAY_NAME_CHARS`] characters, not blank, no control or format characters |
//! | chat | `Chat.text` | 1 to [`MAX_CHAT_CHARS`] characters, no control characters except none, no format characters |
//! | join code | `JoinRoom.code` | 1 to [`MAX_CODE_CHARS`] ASCII letters and digits (else it names no room) |
//!
//! "Format characters" are Unicode's invisible controls that can disguise text: the
//! bidirectional overrides and isolates (U+202A–U+202E, U+2066–U+2069), zero-width
//! characters (U+200B–U+200F, U+2060, U+FEFF) and the line/paragraph separators
//! (U+2028, U+2029). Game names need no rule: they are only ever matched exactly against
//! the registry.

use crate::protocol::MAX_CHAT_CHARS;

/// Longest player id, in bytes.
pub const MAX_PLAYER_ID_BYTES: usize = 128;
/// Longest display name, in characters (Unicode scalar values).
pub const MAX_DISPLAY_NAME_CHARS: usize = 32;
/// Longest join code accepted for a lookup; real codes are shorter
/// ([`crate::lobby::CODE_LENGTH`]).
pub const MAX_CODE_CHARS: usize = 16;

/// Why a piece of text was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum TextError {
    /// Empty, or only whitespace where that matters.
    #[error("empty")]
    Empty,
    /// Over the length limit.
    #[error("too long")]
    TooLong,
    /// Holds a control or format character.
    #[error("holds a control or invisible formatting character")]
    BadCharacter,
}

/// Whether `c` is an invisible formatting character that can disguise text.
fn is_format(c: char) -> bool {
    matches!(c,
        '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2028}' | '\u{2029}'
        | '\u{2060}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

fn clean(text: &str) -> Result<(), TextError> {
    if text.chars().any(|c| c.is_control() || is_format(c)) {
        return Err(TextError::BadCharacter);
    }
    Ok(())
}

/// Checks a player id (`sub`).
///
/// # Errors
/// [`TextError`] for an empty, too long or unclean id.
pub fn check_player_id(id: &str) -> Result<(), TextError> {
    if id.is_empty() {
        return Err(TextError::Empty);
    }
    if id.len() > MAX_PLAYER_ID_BYTES {
        return Err(TextError::TooLong);
    }
    clean(id)
}

/// Checks a display name.
///
/// # Errors
/// [`TextError`] for a blank, too long or unclean name.
pub fn check_display_name(name: &str) -> Result<(), TextError> {
    if name.trim().is_empty() {
        return Err(TextError::Empty);
    }
    if name.chars().count() > MAX_DISPLAY_NAME_CHARS {
        return Err(TextError::TooLong);
    }
    clean(name)
}

/// The display name of a player whose token has no `name`: its id, cut to
/// [`MAX_DISPLAY_NAME_CHARS`]. `id` must have passed [`check_player_id`].
pub fn display_name_from_id(id: &str) -> String {
    id.chars().take(MAX_DISPLAY_NAME_CHARS).collect()
}

/// Checks a chat line.
///
/// # Errors
/// [`TextError::Empty`] / [`TextError::TooLong`] (answered `ChatTooLong`),
/// [`TextError::BadCharacter`] (answered `InvalidText`).
pub fn check_chat(text: &str) -> Result<(), TextError> {
    if text.is_empty() {
        return Err(TextError::Empty);
    }
    // Count no further than one past the limit: a 16 KiB line costs no more than a short one.
    if text.chars().take(MAX_CHAT_CHARS + 1).count() > MAX_CHAT_CHARS {
        return Err(TextError::TooLong);
    }
    clean(text)
}

/// Whether `code` could be a join code at all; anything else names no room and is not
/// looked up.
pub fn is_plausible_code(code: &str) -> bool {
    !code.is_empty()
        && code.len() <= MAX_CODE_CHARS
        && code.bytes().all(|b| b.is_ascii_alphanumeric())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn display_names() {
        assert_eq!(check_display_name("Ada Lovelace"), Ok(()));
        assert_eq!(check_display_name("李小龍"), Ok(()));
        assert_eq!(check_display_name(&"é".repeat(32)), Ok(()));
        assert_eq!(check_display_name(&"é".repeat(33)), Err(TextError::TooLong));
        assert_eq!(check_display_name("  "), Err(TextError::Empty));
        assert_eq!(check_display_name("a\nb"), Err(TextError::BadCharacter));
        assert_eq!(
            check_display_name("evil\u{202E}gnp"),
            Err(TextError::BadCharacter)
        );
        assert_eq!(
            check_display_name("zero\u{200B}width"),
            Err(TextError::BadCharacter)
        );
    }

    #[test]
    fn player_ids() {
        assert_eq!(check_player_id("auth0|5f7c8ec7c33c6c004bbafe82"), Ok(()));
        assert_eq!(check_player_id(""), Err(TextError::Empty));
        assert_eq!(check_player_id(&"x".repeat(129)), Err(TextError::TooLong));
        assert_eq!(check_player_id("a\u{7f}"), Err(TextError::BadCharacter));
        assert_eq!(display_name_from_id(&"x".repeat(100)).len(), 32);
    }

    #[test]
    fn chat_lines() {
        assert_eq!(check_chat("gg"), Ok(()));
        assert_eq!(check_chat(&"é".repeat(MAX_CHAT_CHARS)), Ok(()));
        assert_eq!(
            check_chat(&"é".repeat(MAX_CHAT_CHARS + 1)),
            Err(TextError::TooLong)
        );
        assert_eq!(check_chat(""), Err(TextError::Empty));
        assert_eq!(check_chat("bell\u{7}"), Err(TextError::BadCharacter));
        assert_eq!(check_chat("a\u{2066}b"), Err(TextError::BadCharacter));
    }

    #[test]
    fn join_codes() {
        assert!(is_plausible_code("K7QX2M"));
        assert!(is_plausible_code("k7qx2m"));
        assert!(!is_plausible_code(""));
        assert!(!is_plausible_code("K7QX 2M"));
        assert!(!is_plausible_code(&"A".repeat(17)));
        assert!(!is_plausible_code("ÄÖÜ"));
    }
}
