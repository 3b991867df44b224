//! Player identity: who a connection's player is, proven by a signed token (JWT).
//!
//! With no key configured the server runs in **guest mode**, exactly as without this
//! module: anyone may open a session and the token fields are ignored. With
//! [`AuthConfig::hs256_secret`] and/or [`AuthConfig::public_key_pem`] set, every `Hello`
//! must come with a token, in `Hello.auth_token` or at the WebSocket handshake
//! (`Authorization: Bearer …` or `?token=…`, see [`crate::transport`]). [`Authenticator`]
//! checks it before the connection gets a session, so a refused token never reaches the
//! lobby or a room; each reason has its own `ErrorCode` and close code ([`AuthError`]).
//!
//! The token's claims are the player's identity and replace anything the client says:
//! `sub` is the player id, `name` the display name (default: the `sub`), `rating` the
//! matchmaking rating (default [`crate::lobby::DEFAULT_RATING`]). One player id holds at
//! most one session: a second login takes it over (the lobby's `SessionTable`).
//!
//! [`text`] has the length and character rules for everything a player names: display
//! names and player ids here, chat and join codes in the lobby.

pub mod text;
mod token;

pub use token::{Authenticator, Identity};

use std::path::PathBuf;

use crate::protocol::{ErrorCode, close_code};

/// How players prove who they are. The default is guest mode.
#[derive(Debug, Clone)]
pub struct AuthConfig {
    /// Shared secret for HS256 tokens.
    pub hs256_secret: Option<Vec<u8>>,
    /// A PEM file holding an RSA (RS256) or P-256 EC (ES256) public key
    /// (`-----BEGIN PUBLIC KEY-----`).
    pub public_key_pem: Option<PathBuf>,
    /// When set, a token's `iss` must equal it.
    pub issuer: Option<String>,
    /// When set, a token's `aud` must contain it.
    pub audience: Option<String>,
    /// Seconds of clock skew tolerated on `exp` and `nbf`.
    pub leeway_secs: u64,
}

impl Default for AuthConfig {
    fn default() -> Self {
        AuthConfig {
            hs256_secret: None,
            public_key_pem: None,
            issuer: None,
            audience: None,
            leeway_secs: 60,
        }
    }
}

impl AuthConfig {
    /// Whether tokens are required (any key configured).
    pub fn enabled(&self) -> bool {
        self.hs256_secret.is_some() || self.public_key_pem.is_some()
    }
}

/// The auth configuration could not be used.
#[derive(Debug, thiserror::Error)]
pub enum AuthSetupError {
    /// The public key file could not be read.
    #[error("cannot read the auth public key {path}: {source}")]
    ReadKey {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file is not an RSA or EC public key in PEM.
    #[error("{0} holds no RSA or EC public key in PEM (-----BEGIN PUBLIC KEY-----)")]
    BadKey(PathBuf),
    /// The HS256 secret is empty.
    #[error("the HS256 secret is empty")]
    EmptySecret,
}

/// Why a token was refused. Each reason has its own error code and close code.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    /// No token came with `Hello` or the handshake.
    #[error("this server requires a token")]
    Missing,
    /// `exp` has passed.
    #[error("the token has expired")]
    Expired,
    /// `nbf` is in the future.
    #[error("the token is not valid yet")]
    NotYetValid,
    /// The signature does not verify.
    #[error("the token's signature does not verify")]
    BadSignature,
    /// `iss` is missing or wrong.
    #[error("the token's issuer is not accepted")]
    WrongIssuer,
    /// `aud` is missing or wrong.
    #[error("the token's audience is not this server")]
    WrongAudience,
    /// The algorithm is not one this server accepts.
    #[error("the token's algorithm {0} is not accepted")]
    WrongAlgorithm(String),
    /// `alg: none`.
    #[error("unsigned tokens (alg: none) are not accepted")]
    Unsigned,
    /// Not a JWT, or its claims are missing or invalid.
    #[error("malformed token: {0}")]
    Malformed(String),
}

impl AuthError {
    /// The `ErrorCode` sent before closing.
    pub fn error_code(&self) -> ErrorCode {
        match self {
            AuthError::Missing => ErrorCode::AuthRequired,
            AuthError::Expired => ErrorCode::TokenExpired,
            AuthError::NotYetValid => ErrorCode::TokenNotYetValid,
            AuthError::BadSignature => ErrorCode::TokenBadSignature,
            AuthError::WrongIssuer => ErrorCode::TokenWrongIssuer,
            AuthError::WrongAudience => ErrorCode::TokenWrongAudience,
            AuthError::WrongAlgorithm(_) => ErrorCode::TokenWrongAlgorithm,
            AuthError::Unsigned => ErrorCode::TokenUnsigned,
            AuthError::Malformed(_) => ErrorCode::TokenMalformed,
        }
    }

    /// The WebSocket close code the connection is closed with.
    pub fn close_code(&self) -> u16 {
        match self {
            AuthError::Missing => close_code::AUTH_REQUIRED,
            AuthError::Expired => close_code::TOKEN_EXPIRED,
            AuthError::NotYetValid => close_code::TOKEN_NOT_YET_VALID,
            AuthError::BadSignature => close_code::TOKEN_BAD_SIGNATURE,
            AuthError::WrongIssuer => close_code::TOKEN_WRONG_ISSUER,
            AuthError::WrongAudience => close_code::TOKEN_WRONG_AUDIENCE,
            AuthError::WrongAlgorithm(_) => close_code::TOKEN_WRONG_ALGORITHM,
            AuthError::Unsigned => close_code::TOKEN_UNSIGNED,
            AuthError::Malformed(_) => close_code::TOKEN_MALFORMED,
        }
    }

    /// The close frame's reason (short, fixed text).
    pub fn close_reason(&self) -> &'static str {
        match self {
            AuthError::Missing => "token required",
            AuthError::Expired => "token expired",
            AuthError::NotYetValid => "token not yet valid",
            AuthError::BadSignature => "bad token signature",
            AuthError::WrongIssuer => "wrong token issuer",
            AuthError::WrongAudience => "wrong token audience",
            AuthError::WrongAlgorithm(_) => "token algorithm not accepted",
            AuthError::Unsigned => "unsigned token",
            AuthError::Malformed(_) => "malformed token",
        }
    }
}
