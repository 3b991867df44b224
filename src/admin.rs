//! The operator's access to `/monitor` and the `/admin/` endpoints: [`AdminConfig`] (the
//! `--admin-token` option) and the bearer-token check.
//!
//! Off unless a token is set: without one, `/monitor` and every `/admin/` path answer 404
//! as if they did not exist. With one, every `/admin/` request must carry
//! `Authorization: Bearer <token>` (else 401). The token is compared in constant time
//! (`subtle`): the time taken does not depend on how many leading bytes match; only a
//! length difference returns early.

use subtle::ConstantTimeEq;

/// Fewest characters an admin token may have: shorter ones are refused at start-up.
pub const MIN_TOKEN_CHARS: usize = 16;

/// The operator's access settings.
#[derive(Clone, Default)]
pub struct AdminConfig {
    /// The bearer token `/admin/` requests must carry; `None` turns the monitor off.
    pub token: Option<String>,
}

impl std::fmt::Debug for AdminConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the secret.
        f.debug_struct("AdminConfig")
            .field("token", &self.token.as_ref().map(|_| "<set>"))
            .finish()
    }
}

/// What a request's `Authorization` header earns it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// The monitor is off: answer 404.
    Disabled,
    /// No or wrong token: answer 401.
    Refused,
    /// The right token.
    Granted,
}

impl AdminConfig {
    /// Whether the monitor is on.
    pub fn enabled(&self) -> bool {
        self.token.is_some()
    }

    /// Judges an `Authorization` header value (`None` when absent).
    pub fn check(&self, authorization: Option<&[u8]>) -> Access {
        let Some(token) = &self.token else {
            return Access::Disabled;
        };
        let Some(given) = authorization.and_then(|value| value.strip_prefix(b"Bearer ")) else {
            return Access::Refused;
        };
        if bool::from(given.ct_eq(token.as_bytes())) {
            Access::Granted
        } else {
            Access::Refused
        }
    }

    /// Checks the settings.
    ///
    /// # Errors
    /// A sentence saying why the token cannot be used.
    pub fn validate(&self) -> Result<(), String> {
        match &self.token {
            Some(token) if token.chars().count() < MIN_TOKEN_CHARS => Err(format!(
                "--admin-token must be at least {MIN_TOKEN_CHARS} characters \
                 (it guards closing rooms and kicking players); e.g. `openssl rand -hex 16`"
            )),
            Some(token) if !token.bytes().all(|b| b.is_ascii_graphic()) => Err(
                "--admin-token must be printable ASCII without spaces (it travels in an \
                 HTTP header)"
                    .to_string(),
            ),
            _ => Ok(()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn on(token: &str) -> AdminConfig {
        AdminConfig {
            token: Some(token.to_string()),
        }
    }

    #[test]
    fn access_needs_the_exact_bearer_token() {
        let config = on("0123456789abcdef");
        assert_eq!(
            config.check(Some(b"Bearer 0123456789abcdef")),
            Access::Granted
        );
        for refused in [
            None,
            Some(&b""[..]),
            Some(b"0123456789abcdef"),
            Some(b"Bearer 0123456789abcdeF"),
            Some(b"Bearer 0123456789abcde"),
            Some(b"Bearer 0123456789abcdef0"),
            Some(b"bearer 0123456789abcdef"),
            Some(b"Basic 0123456789abcdef"),
        ] {
            assert_eq!(config.check(refused), Access::Refused, "{refused:?}");
        }
        assert_eq!(
            AdminConfig::default().check(Some(b"Bearer 0123456789abcdef")),
            Access::Disabled
        );
    }

    #[test]
    fn short_or_unprintable_tokens_are_refused_and_never_printed() {
        assert!(AdminConfig::default().validate().is_ok());
        assert!(on("0123456789abcdef").validate().is_ok());
        assert!(
            on("short")
                .validate()
                .unwrap_err()
                .contains("16 characters")
        );
        assert!(on("0123456789 abcdef").validate().is_err());
        assert!(!format!("{:?}", on("0123456789abcdef")).contains("0123"));
    }
}
