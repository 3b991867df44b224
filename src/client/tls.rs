//! Which servers a client trusts over `wss://`: the webpki roots (Mozilla's set, what the
//! client trusts with no option), plus certificate authorities of one's own from a PEM file
//! (`--ca-file` on `examples/bot.rs` and `loadgen`).
//!
//! Policy:
//! - Added roots extend the webpki set; they never replace it, so a client given a CA file
//!   still reaches servers with public certificates.
//! - The file is read once, when the [`ClientTls`] is made, and must hold at least one
//!   certificate, each of which must parse as a root: a missing, empty, oversized
//!   (over [`MAX_CA_FILE_BYTES`]) or malformed file is an error naming the file, never a
//!   silently smaller trust.
//! - Certificates are checked as rustls always does (chain to a root, name, validity
//!   dates); there is no option to skip the check.
//!
//! A local cluster behind nginx with a certificate made for the occasion (README, "Run a
//! cluster", `deploy/cluster/local.sh`) is reached this way: its bots trust the local CA
//! that signed nginx's certificate.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::CertificateDer;
use rustls::pki_types::pem::PemObject;
use thiserror::Error;
use tokio_tungstenite::Connector;

/// The largest CA file read (1 MiB: hundreds of certificates).
pub const MAX_CA_FILE_BYTES: u64 = 1024 * 1024;

/// Why a CA file could not be added to the roots.
#[derive(Debug, Error)]
pub enum CaFileError {
    /// The file could not be read.
    #[error("cannot read the CA file {path}: {source}")]
    Read {
        /// The file.
        path: PathBuf,
        /// What reading it said.
        source: std::io::Error,
    },
    /// The file is larger than [`MAX_CA_FILE_BYTES`].
    #[error("the CA file {path} is larger than {MAX_CA_FILE_BYTES} bytes")]
    TooLarge {
        /// The file.
        path: PathBuf,
    },
    /// The file is not PEM, or a PEM section in it is broken.
    #[error("the CA file {path} is not PEM: {reason}")]
    Pem {
        /// The file.
        path: PathBuf,
        /// The PEM parser's words.
        reason: String,
    },
    /// The file holds no `BEGIN CERTIFICATE` section.
    #[error("the CA file {path} holds no certificate (no `-----BEGIN CERTIFICATE-----`)")]
    Empty {
        /// The file.
        path: PathBuf,
    },
    /// A certificate in the file cannot be a root.
    #[error("certificate {index} of the CA file {path} cannot be a root: {reason}")]
    BadRoot {
        /// The file.
        path: PathBuf,
        /// Its place in the file, from 1.
        index: usize,
        /// rustls' words.
        reason: String,
    },
}

/// What a client trusts over `wss://`: the webpki roots and any added ones. Cheap to
/// clone (one shared rustls configuration).
#[derive(Clone)]
pub struct ClientTls {
    config: Arc<rustls::ClientConfig>,
    added: usize,
}

impl std::fmt::Debug for ClientTls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientTls")
            .field("added_roots", &self.added)
            .finish()
    }
}

impl ClientTls {
    /// The webpki roots only (what a client trusts with no `ClientTls` at all).
    pub fn webpki() -> ClientTls {
        ClientTls::with_roots(webpki_root_store(), 0)
    }

    /// The webpki roots and every certificate in the PEM file at `path` (e.g. the CA that
    /// signed a local nginx's certificate).
    ///
    /// # Errors
    /// [`CaFileError`]: the file cannot be read, is too large, is not PEM, holds no
    /// certificate, or holds one that cannot be a root.
    pub fn with_ca_file(path: &Path) -> Result<ClientTls, CaFileError> {
        let read_error = |source| CaFileError::Read {
            path: path.to_path_buf(),
            source,
        };
        // At most one byte past the limit is read, whatever the file's size.
        let mut pem = Vec::new();
        std::fs::File::open(path)
            .and_then(|file| file.take(MAX_CA_FILE_BYTES + 1).read_to_end(&mut pem))
            .map_err(read_error)?;
        if pem.len() as u64 > MAX_CA_FILE_BYTES {
            return Err(CaFileError::TooLarge {
                path: path.to_path_buf(),
            });
        }
        let mut roots = webpki_root_store();
        let mut added = 0;
        for cert in CertificateDer::pem_slice_iter(&pem) {
            let cert = cert.map_err(|error| CaFileError::Pem {
                path: path.to_path_buf(),
                reason: error.to_string(),
            })?;
            added += 1;
            roots.add(cert).map_err(|error| CaFileError::BadRoot {
                path: path.to_path_buf(),
                index: added,
                reason: error.to_string(),
            })?;
        }
        if added == 0 {
            return Err(CaFileError::Empty {
                path: path.to_path_buf(),
            });
        }
        Ok(ClientTls::with_roots(roots, added))
    }

    /// Roots added to the webpki set (0 for [`ClientTls::webpki`]).
    pub fn added_roots(&self) -> usize {
        self.added
    }

    /// The rustls client configuration (ring, TLS 1.2 and 1.3, no client certificate), for
    /// connections a client makes itself (e.g. an HTTPS request beside the WebSocket).
    pub fn rustls_config(&self) -> Arc<rustls::ClientConfig> {
        self.config.clone()
    }

    /// The connector tokio-tungstenite uses for a `wss://` URL (and ignores for `ws://`).
    pub(crate) fn connector(&self) -> Connector {
        Connector::Rustls(self.config.clone())
    }

    fn with_roots(roots: RootCertStore, added: usize) -> ClientTls {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            // The ring provider supports both default versions: this cannot fail.
            .expect("ring supports TLS 1.2 and 1.3")
            .with_root_certificates(roots)
            .with_no_client_auth();
        ClientTls {
            config: Arc::new(config),
            added,
        }
    }
}

fn webpki_root_store() -> RootCertStore {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    roots
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(name: &str, contents: &[u8]) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("ticksync-client-tls-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    #[test]
    fn a_ca_file_adds_its_certificates_to_the_webpki_roots() {
        let ca = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let other = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let pem = format!("{}{}", ca.cert.pem(), other.cert.pem());
        let tls = ClientTls::with_ca_file(&file("two.pem", pem.as_bytes())).unwrap();
        assert_eq!(tls.added_roots(), 2);
        assert_eq!(ClientTls::webpki().added_roots(), 0);
        assert!(!webpki_roots::TLS_SERVER_ROOTS.is_empty());
    }

    #[test]
    fn a_ca_file_without_certificates_is_an_error_naming_the_file() {
        let path = file("empty.pem", b"no pem here\n");
        let error = ClientTls::with_ca_file(&path).unwrap_err();
        assert!(matches!(error, CaFileError::Empty { .. }), "{error}");
        assert!(error.to_string().contains("empty.pem"), "{error}");

        let key = rcgen::KeyPair::generate().unwrap().serialize_pem();
        let only_a_key = file("key.pem", key.as_bytes());
        assert!(matches!(
            ClientTls::with_ca_file(&only_a_key),
            Err(CaFileError::Empty { .. })
        ));

        let missing = ClientTls::with_ca_file(Path::new("/nonexistent/ca.pem")).unwrap_err();
        assert!(matches!(missing, CaFileError::Read { .. }), "{missing}");
    }

    #[test]
    fn a_broken_pem_section_or_certificate_is_an_error() {
        let broken = file(
            "broken.pem",
            b"-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n",
        );
        let error = ClientTls::with_ca_file(&broken).unwrap_err();
        assert!(
            matches!(error, CaFileError::Pem { .. } | CaFileError::BadRoot { .. }),
            "{error}"
        );
        // Valid base64, but not a certificate.
        let garbage = file(
            "garbage.pem",
            b"-----BEGIN CERTIFICATE-----\nAAECAwQFBgcICQ==\n-----END CERTIFICATE-----\n",
        );
        let error = ClientTls::with_ca_file(&garbage).unwrap_err();
        assert!(
            matches!(error, CaFileError::BadRoot { index: 1, .. }),
            "{error}"
        );
    }

    #[test]
    fn an_oversized_ca_file_is_refused() {
        let big = file("big.pem", &vec![b'a'; MAX_CA_FILE_BYTES as usize + 1]);
        let refused = ClientTls::with_ca_file(&big);
        std::fs::remove_file(&big).unwrap();
        assert!(matches!(refused, Err(CaFileError::TooLarge { .. })));
    }
}
