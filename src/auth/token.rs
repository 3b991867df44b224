//! Verifying a player's JWT with `jsonwebtoken`, and turning its claims into an
//! [`Identity`].
//!
//! The header is read first, by hand, so that `alg: none` and algorithms this server does
//! not accept get their own answers ([`AuthError::Unsigned`],
//! [`AuthError::WrongAlgorithm`]) instead of a generic parse error. Then `jsonwebtoken`
//! checks the signature (before any claim), then `exp`, `nbf`, `iss` and `aud`. The
//! claims are read as a loose JSON map so that a bad `rating` cannot hide an expired
//! token; [`Identity::from_claims`] applies the [`super::text`] rules to them.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::{Map, Value};

use super::text;
use super::{AuthConfig, AuthError, AuthSetupError};

/// Longest token accepted, in bytes (a `Hello` is at most 16 KiB anyway).
pub(super) const MAX_TOKEN_BYTES: usize = 8 * 1024;

/// Who a verified token says the player is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    /// The `sub` claim: the player id, stable across logins.
    pub player_id: String,
    /// The `name` claim, or the player id when there is none.
    pub display_name: String,
    /// The `rating` claim, if any.
    pub rating: Option<u16>,
}

impl Identity {
    /// Reads the identity claims of a verified token.
    ///
    /// # Errors
    /// [`AuthError::Malformed`] for a missing or invalid `sub`, an invalid `name`, or a
    /// `rating` that is not an integer from 0 to 65535.
    pub fn from_claims(claims: &Map<String, Value>) -> Result<Identity, AuthError> {
        let bad = |what: &str| AuthError::Malformed(what.to_string());
        let player_id = match claims.get("sub") {
            Some(Value::String(sub)) => sub.clone(),
            _ => return Err(bad("the sub claim (player id) is missing or not a string")),
        };
        text::check_player_id(&player_id).map_err(|e| bad(&format!("sub: {e}")))?;
        let display_name = match claims.get("name") {
            None | Some(Value::Null) => text::display_name_from_id(&player_id),
            Some(Value::String(name)) => {
                text::check_display_name(name).map_err(|e| bad(&format!("name: {e}")))?;
                name.clone()
            }
            Some(_) => return Err(bad("the name claim is not a string")),
        };
        let rating = match claims.get("rating") {
            None | Some(Value::Null) => None,
            Some(value) => Some(
                value
                    .as_u64()
                    .and_then(|r| u16::try_from(r).ok())
                    .ok_or_else(|| bad("the rating claim is not an integer from 0 to 65535"))?,
            ),
        };
        Ok(Identity {
            player_id,
            display_name,
            rating,
        })
    }
}

/// Checks tokens against the configured keys, issuer and audience.
pub struct Authenticator {
    hs256: Option<DecodingKey>,
    rs256: Option<DecodingKey>,
    es256: Option<DecodingKey>,
    issuer: Option<String>,
    audience: Option<String>,
    leeway_secs: u64,
}

impl fmt::Debug for Authenticator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Authenticator")
            .field("algorithms", &self.algorithms())
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

#[derive(serde::Deserialize)]
struct Header {
    alg: String,
}

impl Authenticator {
    /// Builds the authenticator `config` describes; `None` in guest mode.
    ///
    /// # Errors
    /// [`AuthSetupError`] when the key file cannot be read or holds no usable key, or the
    /// secret is empty.
    pub fn from_config(config: &AuthConfig) -> Result<Option<Authenticator>, AuthSetupError> {
        if !config.enabled() {
            return Ok(None);
        }
        let hs256 = match &config.hs256_secret {
            Some(secret) if secret.is_empty() => return Err(AuthSetupError::EmptySecret),
            Some(secret) => Some(DecodingKey::from_secret(secret)),
            None => None,
        };
        let (mut rs256, mut es256) = (None, None);
        if let Some(path) = &config.public_key_pem {
            let pem = std::fs::read(path).map_err(|source| AuthSetupError::ReadKey {
                path: path.clone(),
                source,
            })?;
            if let Ok(key) = DecodingKey::from_rsa_pem(&pem) {
                rs256 = Some(key);
            } else if let Ok(key) = DecodingKey::from_ec_pem(&pem) {
                es256 = Some(key);
            } else {
                return Err(AuthSetupError::BadKey(path.clone()));
            }
        }
        Ok(Some(Authenticator {
            hs256,
            rs256,
            es256,
            issuer: config.issuer.clone(),
            audience: config.audience.clone(),
            leeway_secs: config.leeway_secs,
        }))
    }

    /// The algorithms accepted, for the start-up log.
    pub fn algorithms(&self) -> Vec<&'static str> {
        [
            (self.hs256.is_some(), "HS256"),
            (self.rs256.is_some(), "RS256"),
            (self.es256.is_some(), "ES256"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect()
    }

    /// The configured issuer, if any.
    pub fn issuer(&self) -> Option<&str> {
        self.issuer.as_deref()
    }

    /// The configured audience, if any.
    pub fn audience(&self) -> Option<&str> {
        self.audience.as_deref()
    }

    /// Verifies `token` and returns the identity it carries.
    ///
    /// # Errors
    /// The [`AuthError`] naming the first check that failed.
    pub fn verify(&self, token: &str) -> Result<Identity, AuthError> {
        if token.len() > MAX_TOKEN_BYTES {
            return Err(AuthError::Malformed(format!(
                "longer than {MAX_TOKEN_BYTES} bytes"
            )));
        }
        let (algorithm, key) = self.key_for(&header_alg(token)?)?;
        let mut validation = Validation::new(algorithm);
        validation.leeway = self.leeway_secs;
        validation.validate_nbf = true;
        let mut required = vec!["exp"];
        if let Some(issuer) = &self.issuer {
            validation.set_issuer(&[issuer]);
            required.push("iss");
        }
        match &self.audience {
            Some(audience) => {
                validation.set_audience(&[audience]);
                required.push("aud");
            }
            None => validation.validate_aud = false,
        }
        validation.set_required_spec_claims(&required);
        let data = jsonwebtoken::decode::<Map<String, Value>>(token, key, &validation)
            .map_err(|e| refusal(e.kind()))?;
        Identity::from_claims(&data.claims)
    }

    /// The key for a header's `alg`.
    fn key_for(&self, alg: &str) -> Result<(Algorithm, &DecodingKey), AuthError> {
        if alg.eq_ignore_ascii_case("none") {
            return Err(AuthError::Unsigned);
        }
        let key = match alg {
            "HS256" => self.hs256.as_ref().map(|k| (Algorithm::HS256, k)),
            "RS256" => self.rs256.as_ref().map(|k| (Algorithm::RS256, k)),
            "ES256" => self.es256.as_ref().map(|k| (Algorithm::ES256, k)),
            _ => None,
        };
        key.ok_or_else(|| AuthError::WrongAlgorithm(alg.chars().take(16).collect()))
    }
}

/// The `alg` of a compact JWT's header, read without trusting anything else in it.
fn header_alg(token: &str) -> Result<String, AuthError> {
    let malformed = |what: &str| AuthError::Malformed(what.to_string());
    let mut parts = token.split('.');
    let (Some(header), Some(_), Some(_), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("not three dot-separated parts"));
    };
    let json = URL_SAFE_NO_PAD
        .decode(header)
        .map_err(|_| malformed("the header is not base64url"))?;
    let header: Header =
        serde_json::from_slice(&json).map_err(|_| malformed("the header has no alg"))?;
    Ok(header.alg)
}

/// The refusal for a `jsonwebtoken` error.
fn refusal(kind: &ErrorKind) -> AuthError {
    match kind {
        ErrorKind::ExpiredSignature => AuthError::Expired,
        ErrorKind::ImmatureSignature => AuthError::NotYetValid,
        ErrorKind::InvalidSignature => AuthError::BadSignature,
        ErrorKind::InvalidIssuer => AuthError::WrongIssuer,
        ErrorKind::InvalidAudience => AuthError::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) if claim == "iss" => AuthError::WrongIssuer,
        ErrorKind::MissingRequiredClaim(claim) if claim == "aud" => AuthError::WrongAudience,
        ErrorKind::MissingRequiredClaim(claim) => {
            AuthError::Malformed(format!("the {claim} claim is missing"))
        }
        ErrorKind::InvalidAlgorithm => AuthError::WrongAlgorithm("mismatch".into()),
        other => AuthError::Malformed(format!("{other:?}").chars().take(80).collect()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jsonwebtoken::{EncodingKey, Header as JwtHeader, encode};
    use serde_json::json;

    const SECRET: &[u8] = b"unit-test-secret";

    fn now() -> u64 {
        jsonwebtoken::get_current_timestamp()
    }

    fn authenticator(issuer: Option<&str>, audience: Option<&str>) -> Authenticator {
        Authenticator::from_config(&AuthConfig {
            hs256_secret: Some(SECRET.to_vec()),
            issuer: issuer.map(str::to_string),
            audience: audience.map(str::to_string),
            ..AuthConfig::default()
        })
        .unwrap()
        .unwrap()
    }

    fn sign(claims: &Value) -> String {
        encode(
            &JwtHeader::default(),
            claims,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap()
    }

    #[test]
    fn guest_mode_has_no_authenticator() {
        assert!(
            Authenticator::from_config(&AuthConfig::default())
                .unwrap()
                .is_none()
        );
    }

    #[test]
    fn a_good_token_gives_its_identity() {
        let auth = authenticator(Some("studio"), Some("ticksync"));
        let token = sign(&json!({"sub": "p-1", "name": "Ada", "rating": 1800,
            "exp": now() + 600, "iss": "studio", "aud": "ticksync"}));
        assert_eq!(
            auth.verify(&token),
            Ok(Identity {
                player_id: "p-1".into(),
                display_name: "Ada".into(),
                rating: Some(1800)
            })
        );
    }

    #[test]
    fn each_failure_has_its_own_reason() {
        let auth = authenticator(Some("studio"), Some("ticksync"));
        let base = json!({"sub": "p", "exp": now() + 600, "iss": "studio", "aud": "ticksync"});
        let with = |key: &str, value: Value| {
            let mut claims = base.clone();
            claims[key] = value;
            sign(&claims)
        };
        let cases = [
            (with("exp", json!(now() - 3600)), AuthError::Expired),
            (with("nbf", json!(now() + 3600)), AuthError::NotYetValid),
            (with("iss", json!("other")), AuthError::WrongIssuer),
            (with("aud", json!("other")), AuthError::WrongAudience),
            (
                with("rating", json!(70000)),
                AuthError::Malformed("the rating claim is not an integer from 0 to 65535".into()),
            ),
        ];
        for (token, expected) in cases {
            assert_eq!(auth.verify(&token), Err(expected));
        }
        // A signed token whose payload was swapped for another: forged.
        let signed = sign(&base);
        let parts: Vec<&str> = signed.split('.').collect();
        let swapped =
            sign(&json!({"sub": "admin", "exp": now() + 600, "iss": "studio", "aud": "ticksync"}));
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            swapped.split('.').nth(1).unwrap(),
            parts[2]
        );
        assert_eq!(auth.verify(&forged), Err(AuthError::BadSignature));
        let other_key = encode(
            &JwtHeader::default(),
            &base,
            &EncodingKey::from_secret(b"another secret"),
        )
        .unwrap();
        assert_eq!(auth.verify(&other_key), Err(AuthError::BadSignature));
        let hs384 = encode(
            &JwtHeader::new(Algorithm::HS384),
            &base,
            &EncodingKey::from_secret(SECRET),
        )
        .unwrap();
        assert_eq!(
            auth.verify(&hs384),
            Err(AuthError::WrongAlgorithm("HS384".into()))
        );
        let payload = URL_SAFE_NO_PAD.encode(base.to_string());
        for alg in ["none", "None", "NONE"] {
            let header = URL_SAFE_NO_PAD.encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#));
            assert_eq!(
                auth.verify(&format!("{header}.{payload}.")),
                Err(AuthError::Unsigned)
            );
        }
        for junk in [
            "",
            "a.b",
            "a.b.c.d",
            "!!.x.y",
            &"x".repeat(MAX_TOKEN_BYTES + 1),
        ] {
            assert!(matches!(auth.verify(junk), Err(AuthError::Malformed(_))));
        }
    }

    #[test]
    fn missing_issuer_or_audience_is_refused_when_configured() {
        let auth = authenticator(Some("studio"), Some("ticksync"));
        let no_iss = sign(&json!({"sub": "p", "exp": now() + 600, "aud": "ticksync"}));
        assert_eq!(auth.verify(&no_iss), Err(AuthError::WrongIssuer));
        let no_aud = sign(&json!({"sub": "p", "exp": now() + 600, "iss": "studio"}));
        assert_eq!(auth.verify(&no_aud), Err(AuthError::WrongAudience));
        let no_exp = sign(&json!({"sub": "p", "iss": "studio", "aud": "ticksync"}));
        assert!(matches!(auth.verify(&no_exp), Err(AuthError::Malformed(_))));
    }

    #[test]
    fn claims_are_checked() {
        let ok = |claims: Value| Identity::from_claims(claims.as_object().unwrap());
        assert_eq!(ok(json!({"sub": "p-9"})).unwrap().display_name, "p-9");
        assert!(ok(json!({})).is_err());
        assert!(ok(json!({"sub": 5})).is_err());
        assert!(ok(json!({"sub": ""})).is_err());
        assert!(ok(json!({"sub": "p", "name": "a\u{0}b"})).is_err());
        assert!(ok(json!({"sub": "p", "name": "x".repeat(33)})).is_err());
        assert!(ok(json!({"sub": "p", "rating": -1})).is_err());
        assert!(ok(json!({"sub": "p", "rating": 1.5})).is_err());
    }
}
