//! The load generator's command line: the workload, the server's URL and the run's shape
//! ([`Args`]), and the runs refused before any connection is made ([`check`]).

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{Parser, ValueEnum};
use rustls::pki_types::ServerName;
use ticksync::client::{ArenaLoadConfig, ClientTls};
use ticksync::codec::Codec;
use tokio_tungstenite::tungstenite::http::Uri;

use crate::{http, procfs};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Workload {
    /// Tic-tac-toe, moves as fast as the server answers.
    Ttt,
    /// Real-time movement, 8 players a room.
    Arena,
    /// Clients that only say Hello and stay connected (memory per idle connection).
    Idle,
}

/// Load generator for ticksync (WORKLOADS.md).
#[derive(Debug, Parser)]
pub(crate) struct Args {
    /// The workload to run.
    #[arg(long, value_enum, default_value = "ttt")]
    pub(crate) workload: Workload,
    /// Clients (N); even for ttt.
    #[arg(long, default_value_t = 200)]
    pub(crate) clients: usize,
    /// Seconds the load runs (S), from its start.
    #[arg(long, default_value_t = 20)]
    pub(crate) seconds: u64,
    /// Seconds of warm-up before the measured window (ttt; the arena window always starts
    /// 2 s after the last client joined).
    #[arg(long, default_value_t = 3)]
    pub(crate) warmup: u64,
    /// Server WebSocket URL. ttt: several, separated by commas (a cluster's nodes), share the
    /// bots out in turn; the server's HTTP figures (tick, `/healthz`) come from the first.
    #[arg(long, default_value = "ws://127.0.0.1:7878")]
    pub(crate) url: String,
    /// The server's process id, to measure its CPU and memory from /proc.
    #[arg(long)]
    pub(crate) server_pid: Option<u32>,
    /// Wire codec.
    #[arg(long, default_value = "bincode")]
    pub(crate) codec: Codec,
    /// Write the latency distribution (ttt moves, arena inputs) to this SVG file.
    #[arg(long)]
    pub(crate) plot: Option<PathBuf>,
    /// Most clients connecting at once.
    #[arg(long, default_value_t = 50)]
    pub(crate) joins: usize,
    /// arena: the light driver for capacity runs. Same wire traffic (Hello, FindMatch,
    /// 20 inputs/s acknowledging the newest state tick, close 1000) and the same state,
    /// byte and missed-tick counts, but states are read by their envelope (tick, full or
    /// delta), never decoded, applied or checked against predictions, in a loop without a
    /// timer per message: about the CPU per client of the bare WebSocket client. No input
    /// latency then.
    #[arg(long)]
    pub(crate) no_checks: bool,
    /// PEM file of certificate authorities to trust for `wss://` (and the HTTPS checks
    /// beside it), besides the webpki roots: e.g. the CA that signed a local nginx's
    /// certificate.
    #[arg(long)]
    pub(crate) ca_file: Option<PathBuf>,
}

impl Args {
    pub(crate) fn codec(&self) -> Codec {
        self.codec
    }

    /// What the bots trust over `wss://`: the webpki roots, plus `--ca-file`'s.
    pub(crate) fn tls(&self) -> anyhow::Result<ClientTls> {
        match &self.ca_file {
            Some(path) => Ok(ClientTls::with_ca_file(path)?),
            None => Ok(ClientTls::webpki()),
        }
    }

    /// The server's HTTP endpoints (the first URL's host and port; HTTPS for `wss://`).
    pub(crate) fn authority(&self) -> anyhow::Result<http::Endpoint> {
        let first = self.url.split(',').next().unwrap_or_default().trim();
        let uri: Uri = first.parse().context("--url is not a URL")?;
        let authority = uri.authority().context("--url has no host")?;
        let secure = uri.scheme_str() == Some("wss");
        let authority = match authority.port() {
            Some(_) => authority.to_string(),
            None => format!("{}:{}", authority.host(), if secure { 443 } else { 80 }),
        };
        let tls = if secure {
            let host = uri.host().context("--url has no host")?;
            let host = host.trim_start_matches('[').trim_end_matches(']');
            let name = ServerName::try_from(host.to_string())
                .with_context(|| format!("{host} is not a TLS server name"))?;
            Some((self.tls()?.rustls_config(), name))
        } else {
            None
        };
        Ok(http::Endpoint { authority, tls })
    }

    pub(crate) fn server_sample(&self) -> Option<procfs::ProcSample> {
        let pid = self.server_pid?;
        match procfs::sample(&pid.to_string()) {
            Ok(sample) => Some(sample),
            Err(error) => {
                eprintln!("cannot read the server's /proc entries: {error:#}");
                None
            }
        }
    }
}

/// Refuses runs that cannot measure anything, before any connection is made.
pub(crate) fn check(args: &Args) -> anyhow::Result<()> {
    if args.seconds == 0 {
        bail!("--seconds must be at least 1");
    }
    // The arena is measured from its settle time after the last join.
    let settle = ArenaLoadConfig::arena(args.url.clone(), args.clients, Duration::ZERO)
        .settle
        .as_secs();
    match args.workload {
        Workload::Ttt if args.warmup >= args.seconds => bail!(
            "--warmup ({} s) must be shorter than --seconds ({} s): only the time after the \
             warm-up is measured, so this run would measure nothing",
            args.warmup,
            args.seconds
        ),
        Workload::Arena if args.seconds <= settle => bail!(
            "--seconds ({} s) must be more than {settle} s: the arena is measured from \
             {settle} s after the last client joined until --seconds after the start, so \
             this run would measure nothing",
            args.seconds
        ),
        _ => Ok(()),
    }
}
