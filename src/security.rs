//! The server's edge defences in one place: who may play ([`crate::auth`]), TLS
//! ([`crate::transport::tls`]) and the per-IP door ([`crate::transport::guard`]).
//!
//! [`SecurityConfig`] is the part of [`crate::config::ServerConfig`] they read;
//! [`SecurityArgs`] the `ticksync serve` options that fill it (flattened into the CLI);
//! [`Security`] what the server builds from it at start-up, logging which mode it runs in.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::auth::{AuthConfig, AuthError, AuthSetupError, Authenticator, Identity};
use crate::transport::guard::{Guard, GuardConfig};
use crate::transport::tls::{Tls, TlsConfig, TlsError};

/// Auth, TLS and per-IP settings. The default is guest mode, plain TCP, and the default
/// per-IP limits ([`GuardConfig::default`]).
#[derive(Debug, Clone, Default)]
pub struct SecurityConfig {
    /// Player identity (guest mode when no key is set).
    pub auth: AuthConfig,
    /// TLS certificate and key; `None` serves plain `ws://`/`http://`.
    pub tls: Option<TlsConfig>,
    /// Per-IP limits and the Origin allow-list.
    pub guard: GuardConfig,
}

/// Why the security settings could not be used.
#[derive(Debug, thiserror::Error)]
pub enum SecurityError {
    /// Bad auth settings.
    #[error(transparent)]
    Auth(#[from] AuthSetupError),
    /// Bad TLS files.
    #[error(transparent)]
    Tls(#[from] TlsError),
}

/// One counter for the metrics endpoint: `(name, labels, value)`.
pub type CounterRow = (&'static str, Vec<(&'static str, &'static str)>, u64);

/// Token refusals by reason, and logins that took a session over.
#[derive(Debug, Default)]
pub struct AuthCounters {
    refused: [AtomicU64; 9],
    logins: AtomicU64,
    takeovers: AtomicU64,
}

const REFUSAL_REASONS: [&str; 9] = [
    "missing",
    "expired",
    "not_yet_valid",
    "bad_signature",
    "wrong_issuer",
    "wrong_audience",
    "wrong_algorithm",
    "unsigned",
    "malformed",
];

fn reason_index(error: &AuthError) -> usize {
    match error {
        AuthError::Missing => 0,
        AuthError::Expired => 1,
        AuthError::NotYetValid => 2,
        AuthError::BadSignature => 3,
        AuthError::WrongIssuer => 4,
        AuthError::WrongAudience => 5,
        AuthError::WrongAlgorithm(_) => 6,
        AuthError::Unsigned => 7,
        AuthError::Malformed(_) => 8,
    }
}

impl AuthCounters {
    /// Counts a login; `took_over` when it replaced another connection.
    pub fn login(&self, took_over: bool) {
        self.logins.fetch_add(1, Ordering::Relaxed);
        if took_over {
            self.takeovers.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// `(name, labels, value)` rows for the metrics endpoint.
    pub fn rows(&self) -> Vec<CounterRow> {
        let mut rows: Vec<_> = REFUSAL_REASONS
            .iter()
            .zip(&self.refused)
            .map(|(reason, count)| {
                (
                    "ticksync_auth_refused_total",
                    vec![("reason", *reason)],
                    count.load(Ordering::Relaxed),
                )
            })
            .collect();
        rows.push((
            "ticksync_auth_logins_total",
            Vec::new(),
            self.logins.load(Ordering::Relaxed),
        ));
        rows.push((
            "ticksync_auth_takeovers_total",
            Vec::new(),
            self.takeovers.load(Ordering::Relaxed),
        ));
        rows
    }
}

/// What the server runs with, built from a [`SecurityConfig`].
#[derive(Debug)]
pub struct Security {
    /// `None` in guest mode.
    pub auth: Option<Authenticator>,
    /// `None` without TLS.
    pub tls: Option<Arc<Tls>>,
    /// The per-IP door.
    pub guard: Arc<Guard>,
    /// Auth outcomes.
    pub auth_counters: AuthCounters,
}

impl Security {
    /// Loads keys and certificates, and logs the mode the server runs in.
    ///
    /// # Errors
    /// [`SecurityError`] for an unreadable or unusable key, secret or certificate.
    pub fn from_config(config: &SecurityConfig) -> Result<Security, SecurityError> {
        let auth = Authenticator::from_config(&config.auth)?;
        let tls = config.tls.clone().map(Tls::load).transpose()?.map(Arc::new);
        let security = Security {
            auth,
            tls,
            guard: Arc::new(Guard::new(config.guard.clone())),
            auth_counters: AuthCounters::default(),
        };
        security.log_mode(config);
        Ok(security)
    }

    fn log_mode(&self, config: &SecurityConfig) {
        match &self.auth {
            None => tracing::info!(
                "auth: guest mode: no --auth-secret or --auth-public-key, anyone may play \
                 under a new anonymous session"
            ),
            Some(auth) => tracing::info!(
                algorithms = ?auth.algorithms(),
                issuer = auth.issuer().unwrap_or("(any)"),
                audience = auth.audience().unwrap_or("(any)"),
                "auth: every Hello needs a valid JWT"
            ),
        }
        match &config.tls {
            None => tracing::info!("tls: off (plain ws:// and http://)"),
            Some(files) => {
                tracing::info!(cert = %files.cert.display(), "tls: on (wss:// and https://)")
            }
        }
        let guard = &config.guard;
        tracing::info!(
            max_connections_per_ip = guard.max_connections_per_ip,
            new_connections_per_ip_per_second = guard.new_connections_per_ip_per_second,
            trust_proxy = guard.trust_proxy,
            allowed_origins = ?guard.allowed_origins,
            "per-IP limits (0 = off)"
        );
    }

    /// The identity a connection's `Hello` proves: `Ok(None)` in guest mode (any token is
    /// ignored). `hello_token` wins over `handshake_token`.
    ///
    /// # Errors
    /// The [`AuthError`] to refuse the connection with (also counted).
    pub fn authenticate(
        &self,
        hello_token: Option<&str>,
        handshake_token: Option<&str>,
    ) -> Result<Option<Identity>, AuthError> {
        let Some(auth) = &self.auth else {
            return Ok(None);
        };
        let verified = hello_token
            .or(handshake_token)
            .ok_or(AuthError::Missing)
            .and_then(|token| auth.verify(token));
        match verified {
            Ok(identity) => Ok(Some(identity)),
            Err(error) => {
                self.auth_counters.refused[reason_index(&error)].fetch_add(1, Ordering::Relaxed);
                Err(error)
            }
        }
    }

    /// Every counter row: auth outcomes and refused upgrades.
    pub fn counter_rows(&self) -> Vec<CounterRow> {
        let mut rows = self.auth_counters.rows();
        rows.extend(self.guard.counters.rows());
        rows
    }
}

/// One `--allowed-origins` entry: a scheme and host, without a trailing slash.
fn parse_origins(text: &str) -> Result<String, String> {
    let origin = text.trim();
    if origin.starts_with("http://") || origin.starts_with("https://") {
        Ok(origin.trim_end_matches('/').to_string())
    } else {
        Err(format!(
            "`{text}` is not an origin like https://play.example.com"
        ))
    }
}

/// The `ticksync serve` options for auth, TLS and per-IP limits.
#[derive(Debug, Clone, clap::Args)]
pub struct SecurityArgs {
    /// Require players to log in with HS256 JWTs signed with this secret. Prefer the
    /// environment variable: command lines are visible to other local users.
    #[arg(long, env = "TICKSYNC_AUTH_SECRET", hide_env_values = true)]
    pub auth_secret: Option<String>,
    /// Require players to log in with RS256 or ES256 JWTs; a PEM public key file
    /// (`-----BEGIN PUBLIC KEY-----`, RSA or P-256).
    #[arg(long, env = "TICKSYNC_AUTH_PUBLIC_KEY")]
    pub auth_public_key: Option<PathBuf>,
    /// Tokens must carry this `iss`.
    #[arg(long, env = "TICKSYNC_AUTH_ISSUER")]
    pub auth_issuer: Option<String>,
    /// Tokens must carry this `aud`.
    #[arg(long, env = "TICKSYNC_AUTH_AUDIENCE")]
    pub auth_audience: Option<String>,
    /// Seconds of clock skew allowed on a token's `exp` and `nbf`.
    #[arg(long, env = "TICKSYNC_AUTH_LEEWAY", default_value_t = 60)]
    pub auth_leeway: u64,
    /// TLS certificate chain (PEM); with --tls-key, serve wss:// and https://.
    #[arg(long, env = "TICKSYNC_TLS_CERT", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// TLS private key (PEM). Both files are read again on SIGHUP.
    #[arg(long, env = "TICKSYNC_TLS_KEY", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// Most open WebSocket connections per client address (IPv6: per /64); more get
    /// HTTP 429. 0: no limit.
    #[arg(long, env = "TICKSYNC_MAX_CONNECTIONS_PER_IP", default_value_t = 100)]
    pub max_connections_per_ip: usize,
    /// New WebSocket connections per second per client address (also the burst); more get
    /// HTTP 429 with Retry-After. 0: no limit.
    #[arg(long, env = "TICKSYNC_NEW_CONNECTIONS_PER_IP", default_value_t = 20)]
    pub new_connections_per_ip: u32,
    /// Count clients by the last X-Forwarded-For address (only behind a proxy that sets it).
    #[arg(long, env = "TICKSYNC_TRUST_PROXY")]
    pub trust_proxy: bool,
    /// Comma-separated origins browsers may connect from, e.g. `https://play.example.com`;
    /// others get HTTP 403. Unset: any origin.
    #[arg(long, env = "TICKSYNC_ALLOWED_ORIGINS", value_delimiter = ',', value_parser = parse_origins)]
    pub allowed_origins: Vec<String>,
}

impl SecurityArgs {
    /// The configuration these options describe.
    pub fn config(&self) -> SecurityConfig {
        SecurityConfig {
            auth: AuthConfig {
                hs256_secret: self.auth_secret.as_ref().map(|s| s.as_bytes().to_vec()),
                public_key_pem: self.auth_public_key.clone(),
                issuer: self.auth_issuer.clone(),
                audience: self.auth_audience.clone(),
                leeway_secs: self.auth_leeway,
            },
            tls: match (&self.tls_cert, &self.tls_key) {
                (Some(cert), Some(key)) => Some(TlsConfig {
                    cert: cert.clone(),
                    key: key.clone(),
                }),
                _ => None,
            },
            guard: GuardConfig {
                max_connections_per_ip: self.max_connections_per_ip,
                new_connections_per_ip_per_second: self.new_connections_per_ip,
                trust_proxy: self.trust_proxy,
                allowed_origins: self.allowed_origins.clone(),
            },
        }
    }
}
