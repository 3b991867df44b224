//! SIGTERM and SIGINT as a stream of [`Signal`]s.

use tokio::signal::unix::{SignalKind, signal};

/// A shutdown signal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    /// SIGTERM (what `systemctl stop`, `docker stop` and Kubernetes send).
    Term,
    /// SIGINT (Ctrl-C).
    Int,
}

impl Signal {
    /// The exit status of a process that stops at once because of this signal:
    /// 128 + the signal number.
    pub fn exit_code(self) -> i32 {
        128 + match self {
            Signal::Term => SignalKind::terminate().as_raw_value(),
            Signal::Int => SignalKind::interrupt().as_raw_value(),
        }
    }
}

/// Listens for SIGTERM and SIGINT. Create it before serving, so that a signal that comes
/// early is not lost (nor kills the process by its default action).
#[derive(Debug)]
pub struct Signals {
    term: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers. Must be called inside a tokio runtime.
    ///
    /// # Errors
    /// If a handler cannot be installed.
    pub fn new() -> std::io::Result<Signals> {
        Ok(Signals {
            term: signal(SignalKind::terminate())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// Waits for the next SIGTERM or SIGINT.
    pub async fn recv(&mut self) -> Signal {
        tokio::select! {
            _ = self.term.recv() => Signal::Term,
            _ = self.int.recv() => Signal::Int,
        }
    }
}
