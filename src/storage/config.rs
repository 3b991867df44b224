//! What `--database` names and the storage settings: [`Database`] (parsed from the
//! command line, shown without a password), [`StorageConfig`], and the URL sqlx opens for
//! an SQLite file.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::Duration;

use super::{DEFAULT_GATHER, DEFAULT_QUEUE, StorageError};

/// What `--database` names.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Database {
    /// Keep nothing (results live only in memory, ids restart at 1).
    #[default]
    None,
    /// An SQLite file (created if missing, WAL mode).
    Sqlite(PathBuf),
    /// A PostgreSQL URL.
    Postgres(String),
}

impl FromStr for Database {
    type Err = StorageError;

    fn from_str(text: &str) -> Result<Database, StorageError> {
        if text == "none" {
            return Ok(Database::None);
        }
        if let Some(path) = text
            .strip_prefix("sqlite://")
            .or_else(|| text.strip_prefix("sqlite:"))
        {
            if path.is_empty() {
                return Err(StorageError::Url(format!("`{text}` names no file")));
            }
            return Ok(Database::Sqlite(PathBuf::from(path)));
        }
        if text.starts_with("postgres://") || text.starts_with("postgresql://") {
            return Ok(Database::Postgres(text.to_string()));
        }
        Err(StorageError::Url(format!(
            "`{text}` is not sqlite://PATH, postgres://... or none"
        )))
    }
}

impl fmt::Display for Database {
    /// The database for a log line: a PostgreSQL URL without its password.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Database::None => f.write_str("none"),
            Database::Sqlite(path) => write!(f, "sqlite://{}", path.display()),
            Database::Postgres(url) => match (url.find("://"), url.rfind('@')) {
                (Some(scheme), Some(at)) if at > scheme => {
                    let userinfo = &url[scheme + 3..at];
                    let user = userinfo.split(':').next().unwrap_or("");
                    write!(f, "{}{user}:***{}", &url[..scheme + 3], &url[at..])
                }
                _ => f.write_str(url),
            },
        }
    }
}

/// Storage settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageConfig {
    /// Where results are kept.
    pub database: Database,
    /// Finished games the writer's queue holds before new ones are dropped.
    pub queue: usize,
    /// How long the writer gathers finished games into one transaction (at most
    /// [`MAX_GATHER`](super::MAX_GATHER)); a `RatingChanged` comes up to this long after
    /// its `GameOver`.
    pub gather: Duration,
    /// Guests not seen for this long are pruned (`--guest-retention-days`; see the
    /// [`prune`](super::prune) module); `None` keeps every guest.
    pub guest_retention: Option<Duration>,
}

impl Default for StorageConfig {
    /// No database: the library's default, so embedders and tests never create a file by
    /// accident. The `ticksync` command defaults to
    /// [`DEFAULT_SQLITE_PATH`](super::DEFAULT_SQLITE_PATH).
    fn default() -> Self {
        StorageConfig {
            database: Database::None,
            queue: DEFAULT_QUEUE,
            gather: DEFAULT_GATHER,
            guest_retention: None,
        }
    }
}

/// The URL sqlx opens for an SQLite file: absolute, percent-encoded, created if missing.
pub(super) fn sqlite_url(path: &std::path::Path) -> Result<String, StorageError> {
    let absolute = std::path::absolute(path)
        .map_err(|e| StorageError::Url(format!("{}: {e}", path.display())))?;
    let text = absolute
        .to_str()
        .ok_or_else(|| StorageError::Url(format!("{} is not UTF-8", absolute.display())))?;
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"/._-~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    Ok(format!("sqlite:{encoded}?mode=rwc"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_urls_parse() {
        assert_eq!("none".parse::<Database>().unwrap(), Database::None);
        assert_eq!(
            "sqlite://./ticksync.db".parse::<Database>().unwrap(),
            Database::Sqlite("./ticksync.db".into())
        );
        assert_eq!(
            "sqlite:/tmp/x.db".parse::<Database>().unwrap(),
            Database::Sqlite("/tmp/x.db".into())
        );
        assert!(matches!(
            "postgresql://u:p@h/db".parse::<Database>().unwrap(),
            Database::Postgres(_)
        ));
        for bad in ["", "sqlite://", "mysql://x", "ticksync.db"] {
            assert!(bad.parse::<Database>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_logged_postgres_url_hides_its_password() {
        let db: Database = "postgres://ticksync:secret@127.0.0.1/ticksync"
            .parse()
            .unwrap();
        assert_eq!(db.to_string(), "postgres://ticksync:***@127.0.0.1/ticksync");
    }

    #[test]
    fn sqlite_paths_are_absolute_and_encoded() {
        let url = sqlite_url(std::path::Path::new("/tmp/a b?.db")).unwrap();
        assert_eq!(url, "sqlite:/tmp/a%20b%3F.db?mode=rwc");
    }
}
