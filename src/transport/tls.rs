//! TLS on the listening port (rustls with the `ring` provider; no OpenSSL): with a
//! certificate and key configured, every accepted TCP connection is a TLS connection, so
//! the same port serves `wss://` and `https://` (HTTP/1.1 only, announced by ALPN).
//!
//! [`Tls::reload`] reads the files again and swaps the configuration in for connections
//! accepted from then on (open ones keep theirs); `ticksync serve` calls it on `SIGHUP`
//! ([`reload_on_sighup`]). A reload that fails keeps the previous certificate.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// Where the certificate chain and private key are.
#[derive(Debug, Clone)]
pub struct TlsConfig {
    /// PEM file with the certificate chain, leaf first.
    pub cert: PathBuf,
    /// PEM file with the private key (PKCS#8, PKCS#1 or SEC1).
    pub key: PathBuf,
}

/// Why a certificate could not be loaded.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The certificate file holds no certificate.
    #[error("{0} holds no PEM certificate")]
    NoCertificate(PathBuf),
    /// The key file holds no private key.
    #[error("{0} holds no PEM private key")]
    NoKey(PathBuf),
    /// rustls refused the pair (e.g. the key does not match the certificate).
    #[error("unusable certificate or key: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The current TLS server configuration, replaceable at run time.
#[derive(Debug)]
pub struct Tls {
    files: TlsConfig,
    current: RwLock<Arc<rustls::ServerConfig>>,
}

impl Tls {
    /// Loads the certificate and key.
    ///
    /// # Errors
    /// [`TlsError`] when a file is unreadable, empty of what it should hold, or the pair is
    /// unusable.
    pub fn load(files: TlsConfig) -> Result<Tls, TlsError> {
        let config = build(&files)?;
        Ok(Tls {
            files,
            current: RwLock::new(Arc::new(config)),
        })
    }

    /// Reads the files again; connections accepted from now on use the new certificate.
    ///
    /// # Errors
    /// As [`Tls::load`]; the previous certificate stays in use.
    pub fn reload(&self) -> Result<(), TlsError> {
        let config = Arc::new(build(&self.files)?);
        *self.current.write().unwrap_or_else(|e| e.into_inner()) = config;
        Ok(())
    }

    /// An acceptor with the current configuration.
    pub fn acceptor(&self) -> TlsAcceptor {
        TlsAcceptor::from(
            self.current
                .read()
                .unwrap_or_else(|e| e.into_inner())
                .clone(),
        )
    }
}

fn read(path: &Path) -> Result<Vec<u8>, TlsError> {
    std::fs::read(path).map_err(|source| TlsError::Read {
        path: path.to_path_buf(),
        source,
    })
}

fn build(files: &TlsConfig) -> Result<rustls::ServerConfig, TlsError> {
    let cert_pem = read(&files.cert)?;
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_slice_iter(&cert_pem)
        .filter_map(Result::ok)
        .collect();
    if certs.is_empty() {
        return Err(TlsError::NoCertificate(files.cert.clone()));
    }
    let key = PrivateKeyDer::from_pem_slice(&read(&files.key)?)
        .map_err(|_| TlsError::NoKey(files.key.clone()))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certs, key)?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Reloads `tls` on every `SIGHUP` until `shutdown`. Registers the signal handler before
/// returning, so a `SIGHUP` sent after this call is never the default "terminate".
///
/// # Errors
/// The signal handler could not be installed.
#[cfg(unix)]
pub fn reload_on_sighup(
    tls: Arc<Tls>,
    shutdown: CancellationToken,
    tracker: &TaskTracker,
) -> std::io::Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut hangups = signal(SignalKind::hangup())?;
    tracker.spawn(async move {
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => return,
                received = hangups.recv() => if received.is_none() { return },
            }
            match tls.reload() {
                Ok(()) => tracing::info!(cert = %tls.files.cert.display(), "SIGHUP: TLS certificate reloaded"),
                Err(error) => tracing::warn!(%error, "SIGHUP: TLS reload failed; keeping the previous certificate"),
            }
        }
    });
    Ok(())
}

/// Elsewhere there is no `SIGHUP`; [`Tls::reload`] is the way.
///
/// # Errors
/// Never.
#[cfg(not(unix))]
pub fn reload_on_sighup(
    _tls: Arc<Tls>,
    _shutdown: CancellationToken,
    _tracker: &TaskTracker,
) -> std::io::Result<()> {
    Ok(())
}
