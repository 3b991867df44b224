//! Sockets: the accept loop, HTTP (health, room directory, tick metrics, the browser client
//! in `assets`) and the WebSocket upgrade, all on one port.
//!
//! Every accepted TCP connection gets `TCP_NODELAY`, and its first request head is read
//! with a deadline ([`ServerConfig::handshake_timeout`]; a slow or partial one is dropped)
//! into a small buffer (`head`). A WebSocket upgrade request is checked ([`handshake`],
//! the guard, the connection cap: `admit`) and answered here, without hyper; anything
//! else goes to hyper's HTTP/1 server (with the bytes already read), which has the same
//! header-read timeout for the requests that follow. Once upgraded, the stream is split: its read half becomes a tokio-tungstenite
//! `WebSocketStream` with a deliberately small [`WebSocketConfig`], its write half goes to
//! the connection's writer, which frames by hand ([`ws_frame`]), and `connection` runs
//! both.

mod admin;
mod assets;
mod conn_guard;
mod connection;
mod dispatch;
pub mod guard;
pub mod handshake;
mod head;
mod history;
mod rooms;
mod split_io;
pub mod tls;
pub mod violation;
mod writer;

pub use writer::Frames;
pub mod ws_frame;

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};

use bytes::Bytes;
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::codec::{Codec, MAX_DECODE_BYTES};
use crate::config::ServerConfig;
use crate::limits::LimitCounters;
use crate::lobby::Lobby;
use crate::metrics::{HttpRefusal, Metrics, ServerSnapshot};
use crate::security::Security;
use crate::shutdown::Drain;

/// tungstenite's read buffer, allocated per connection up front. Client messages are tens
/// of bytes (an arena `Input` with its frame header is 14 to 25; a 16 KiB message is still
/// read, the buffer growing for it), so 256 bytes instead of the 128 KiB default costs
/// nothing in throughput: 1 KiB took server memory per idle connection from 10.0 to 6.8
/// KiB, and 256 bytes less again (BENCHMARKS.md).
const READ_BUFFER_BYTES: usize = 256;
/// tungstenite only writes control frames (pongs, a close reply), into the outbox, which
/// always takes them at once: nothing to buffer.
const WRITE_BUFFER_BYTES: usize = 0;
/// Cap on what tungstenite may hold unwritten; its writes never block, so this is never
/// reached (the outbox bounds queued control frames, see `crate::outbox`).
const MAX_WRITE_BUFFER_BYTES: usize = 64 * 1024;
/// The largest request head read before hyper, and hyper's own limit (`max_buf_size`): a
/// larger one is refused by hyper with 431.
const MAX_HEAD_BYTES: usize = 16 * 1024;

/// The WebSocket settings of every server-side connection.
pub fn websocket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_write_buffer_size(MAX_WRITE_BUFFER_BYTES)
        .max_message_size(Some(MAX_DECODE_BYTES))
        .max_frame_size(Some(MAX_DECODE_BYTES))
}

/// What every connection task shares.
pub(crate) struct Context {
    pub(crate) config: Arc<ServerConfig>,
    pub(crate) lobby: Lobby,
    pub(crate) shutdown: CancellationToken,
    pub(crate) tracker: TaskTracker,
    pub(crate) security: Security,
    pub(crate) metrics: Arc<Metrics>,
    pub(crate) drain: Drain,
    websockets: Arc<Semaphore>,
    /// When the server started (the operator's view shows the uptime).
    started: std::time::Instant,
    connections: AtomicUsize,
    next_conn_id: AtomicU64,
    /// Server-wide budget of `GET /rooms` requests.
    http_rooms: rooms::HttpRoomsLimit,
    /// `JoinRoom` lookups per client address, shared by all its connections.
    pub(crate) ip_codes: Arc<crate::limits::IpCodeLimiter>,
    /// The cluster this node is in, if any (seat tickets in `Hello`).
    pub(crate) cluster: Option<crate::cluster::Cluster>,
}

/// Decrements the connection count when a connection ends, however it ends.
pub(crate) struct ConnectionCount<'a>(&'a AtomicUsize);

impl Drop for ConnectionCount<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Context {
    pub(crate) fn new(
        config: Arc<ServerConfig>,
        lobby: Lobby,
        shutdown: CancellationToken,
        tracker: TaskTracker,
        security: Security,
        metrics: Arc<Metrics>,
        cluster: Option<crate::cluster::Cluster>,
    ) -> Context {
        // Past tokio's largest permit count (2^61) is unlimited in practice: clamped, where
        // `Semaphore::new` would panic.
        let permits = config.max_connections.clamp(1, Semaphore::MAX_PERMITS);
        let websockets = Arc::new(Semaphore::new(permits));
        let http_rooms = rooms::HttpRoomsLimit::new(&config.limits);
        let ip_codes = Arc::new(crate::limits::IpCodeLimiter::new(&config.limits));
        let drain = Drain::new(config.shutdown.clone());
        Context {
            http_rooms,
            ip_codes,
            config,
            lobby,
            shutdown,
            tracker,
            security,
            metrics,
            drain,
            websockets,
            started: std::time::Instant::now(),
            connections: AtomicUsize::new(0),
            next_conn_id: AtomicU64::new(1),
            cluster,
        }
    }

    /// Open WebSocket connections.
    pub(crate) fn connections(&self) -> usize {
        self.connections.load(Ordering::Relaxed)
    }

    /// Limit hits by reason.
    pub(crate) fn counters(&self) -> &LimitCounters {
        self.lobby.limit_counters()
    }

    fn next_conn_id(&self) -> u64 {
        self.next_conn_id.fetch_add(1, Ordering::Relaxed)
    }

    fn count_connection(&self) -> ConnectionCount<'_> {
        self.connections.fetch_add(1, Ordering::Relaxed);
        ConnectionCount(&self.connections)
    }
}

/// Accepts connections until a drain or shutdown begins (the listener is dropped then, so
/// new connections are refused). Accept errors (e.g. out of file descriptors) are
/// logged and retried; they never stop the server.
pub(crate) async fn accept_loop(listener: TcpListener, ctx: Arc<Context>) {
    loop {
        let accepted = tokio::select! {
            _ = ctx.shutdown.cancelled() => return,
            _ = ctx.drain.started() => return,
            accepted = listener.accept() => accepted,
        };
        match accepted {
            Ok((stream, peer)) => {
                let ctx2 = ctx.clone();
                ctx.tracker.spawn(async move {
                    serve_tcp(stream, peer, ctx2).await;
                    tracing::trace!(%peer, "tcp connection done");
                });
            }
            Err(error) => {
                tracing::warn!(
                    %error,
                    "accepting a connection failed; retrying in 50 ms (if this says too many \
                     open files, raise the limit: ulimit -n, or LimitNOFILE for systemd)"
                );
                // Back off a little so a persistent error (EMFILE) does not spin.
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
        }
    }
}

/// Serves one TCP connection: HTTP directly, or inside TLS when it is configured (the TLS
/// handshake has the same deadline as the HTTP request).
async fn serve_tcp(stream: TcpStream, peer: SocketAddr, ctx: Arc<Context>) {
    if let Err(error) = stream.set_nodelay(true) {
        tracing::debug!(%error, "could not set TCP_NODELAY");
    }
    // A small kernel send buffer: a client that stops reading stalls our writes (and is
    // then cut as a slow reader) after tens of kilobytes instead of megabytes.
    let send_buffer = ctx.config.limits.send_buffer_bytes as usize;
    if send_buffer > 0
        && let Err(error) = socket2::SockRef::from(&stream).set_send_buffer_size(send_buffer)
    {
        tracing::debug!(%error, "could not set SO_SNDBUF");
    }
    let Some(tls) = &ctx.security.tls else {
        return serve_http(stream, peer.ip(), ctx).await;
    };
    let accepting = tls.acceptor().accept(stream);
    match tokio::time::timeout(ctx.config.handshake_timeout, accepting).await {
        Ok(Ok(stream)) => serve_http(stream, peer.ip(), ctx).await,
        Ok(Err(error)) => tracing::debug!(%peer, %error, "TLS handshake failed"),
        Err(_) => tracing::debug!(%peer, "TLS handshake timed out"),
    }
}

/// Reads the connection's first request head: an upgrade is answered here, anything else
/// is served by hyper.
async fn serve_http<S: split_io::Socket>(mut stream: S, peer: IpAddr, ctx: Arc<Context>) {
    let reading = tokio::time::timeout(
        ctx.config.handshake_timeout,
        head::read(&mut stream, MAX_HEAD_BYTES),
    );
    let read = tokio::select! {
        read = reading => read,
        _ = ctx.shutdown.cancelled() => return,
    };
    match read {
        Ok(Ok(head::Head::Upgrade(req, ahead))) => {
            upgrade_directly(stream, req, ahead, peer, ctx).await
        }
        Ok(Ok(head::Head::Other(read))) => {
            serve_hyper(head::Prefixed::new(read, stream), peer, ctx).await
        }
        Ok(Ok(head::Head::Closed)) => {}
        Ok(Err(error)) => tracing::debug!(%error, "reading a request failed"),
        Err(_) => tracing::debug!("request head timed out"),
    }
}

async fn serve_hyper<S>(stream: S, peer: IpAddr, ctx: Arc<Context>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let service_ctx = ctx.clone();
    let service = service_fn(move |req| {
        let ctx = service_ctx.clone();
        async move { Ok::<_, Infallible>(route(req, ctx, peer).await) }
    });
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(ctx.config.handshake_timeout)
        .max_buf_size(MAX_HEAD_BYTES);
    let conn = builder
        .serve_connection(TokioIo::new(stream), service)
        .with_upgrades();
    tokio::pin!(conn);
    tokio::select! {
        result = conn.as_mut() => {
            if let Err(error) = result {
                tracing::debug!(%error, "http connection ended with an error");
            }
        }
        _ = ctx.shutdown.cancelled() => {
            conn.as_mut().graceful_shutdown();
            let _ = conn.await;
        }
    }
}

/// Answers an upgrade request read by `head` (the same checks and answers as through
/// hyper; a refusal ends the connection) and starts the WebSocket connection in a task of
/// its own, so that this task's future (which can hold hyper's) ends.
async fn upgrade_directly<S: split_io::Socket>(
    mut stream: S,
    req: Box<Request<()>>,
    ahead: Bytes,
    peer: IpAddr,
    ctx: Arc<Context>,
) {
    let (response, admitted) = match admit(&req, &ctx, peer) {
        Ok(admitted) => (
            switching_protocols(admitted.codec, &admitted.accept_key),
            Some(admitted),
        ),
        Err(refusal) => (*refusal, None),
    };
    drop(req);
    let (head, body) = response.into_parts();
    let body = http_body_util::BodyExt::collect(body)
        .await
        .map(http_body_util::Collected::to_bytes)
        .unwrap_or_default();
    let bytes = head::response_bytes(&head, &body);
    // Flushed: a TLS stream may hold the answer until its next write otherwise.
    let writing = async {
        stream.write_all(&bytes).await?;
        stream.flush().await
    };
    match tokio::time::timeout(ctx.config.handshake_timeout, writing).await {
        Ok(Ok(())) => {}
        Ok(Err(error)) => return tracing::debug!(%error, "writing the upgrade answer failed"),
        Err(_) => return tracing::debug!("writing the upgrade answer timed out"),
    }
    let Some(admitted) = admitted else {
        // Bounded: over TLS the shutdown writes (close_notify) to a client that may not read.
        let _ = tokio::time::timeout(ctx.config.handshake_timeout, stream.shutdown()).await;
        return;
    };
    let (read, write) = stream.into_halves();
    let halves = split_io::Halves { read, ahead, write };
    ctx.tracker
        .spawn(run_websocket(halves, admitted, ctx.clone()));
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response
}

fn json(value: &serde_json::Value) -> Response<Full<Bytes>> {
    json_bytes(Bytes::from(value.to_string()))
}

fn json_bytes(body: Bytes) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    response
}

async fn route(req: Request<Incoming>, ctx: Arc<Context>, peer: IpAddr) -> Response<Full<Bytes>> {
    if handshake::is_upgrade_request(&req) {
        return upgrade(req, ctx, peer);
    }
    if admin::owns(req.uri().path()) {
        return admin::route(req, &ctx).await;
    }
    // HEAD is answered as GET; hyper sends the headers (Content-Length included) and no body.
    let method = match req.method().as_str() {
        "HEAD" => "GET",
        other => other,
    };
    match (method, req.uri().path()) {
        ("GET", "/healthz") => {
            let stats = ctx.lobby.stats();
            json(&serde_json::json!({
                "status": "ok",
                "connections": ctx.connections(),
                "sessions": stats.sessions,
                "rooms": stats.rooms,
                "queued": stats.queued,
            }))
        }
        ("GET", "/rooms") => rooms::get(&req, &ctx),
        ("GET", path) if history::owns(path) => history::get(&req, &ctx).await,
        ("GET", "/metrics") => prometheus(&ctx).await,
        ("GET", "/metrics.json") => json(&metrics(&ctx).await),
        ("GET", "/") => text(
            StatusCode::OK,
            "ticksync game server: open a WebSocket here with subprotocol \
             ticksync.msgpack.v2, ticksync.msgpack.v1 or ticksync.bincode.v1 (see \
             PROTOCOL.md), \
             or play tic-tac-toe in a browser at /play and the arena at /arena\n",
        ),
        ("GET", "/play/") => redirect("/play"),
        ("GET", path) => assets::find(path).map_or_else(not_found, assets::Asset::response),
        _ => not_found(),
    }
}

fn not_found() -> Response<Full<Bytes>> {
    text(StatusCode::NOT_FOUND, "not found\n")
}

/// `GET /metrics`: everything in the Prometheus text format (see [`crate::metrics`]).
async fn prometheus(ctx: &Context) -> Response<Full<Bytes>> {
    let lobby = ctx.lobby.stats();
    let snapshot = ServerSnapshot {
        connections: ctx.connections(),
        sessions: lobby.sessions,
        games: {
            let mut games: Vec<&'static str> = ctx.lobby.engine().registry().names().collect();
            games.sort_unstable();
            games
        },
        queued_by_game: ctx.lobby.queued_by_game(),
        rooms: ctx.lobby.list_rooms(),
        shards: ctx.lobby.engine().stats().await,
        draining: ctx.drain.is_draining(),
    };
    let mut response = Response::new(Full::new(Bytes::from(ctx.metrics.render(&[
        &snapshot,
        &ctx.security,
        ctx.counters(),
    ]))));
    response.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(crate::metrics::CONTENT_TYPE),
    );
    response
}

/// `GET /metrics.json`: each shard's tick statistics since the server started, for load drivers: counters, tick
/// A permanent redirect to `location` (308: the method is kept).
fn redirect(location: &'static str) -> Response<Full<Bytes>> {
    let mut response = text(
        StatusCode::PERMANENT_REDIRECT,
        format!("moved to {location}\n"),
    );
    response
        .headers_mut()
        .insert(header::LOCATION, HeaderValue::from_static(location));
    response
}

/// Each shard's tick statistics since the server started, for load drivers: counters, tick
/// duration and lateness percentiles in microseconds, and the tick-duration histogram as
/// `[value_us, count]` pairs so that a driver can subtract two readings to get a window.
async fn metrics(ctx: &Context) -> serde_json::Value {
    let shards: Vec<serde_json::Value> = ctx
        .lobby
        .engine()
        .stats()
        .await
        .iter()
        .map(|shard| {
            serde_json::json!({
                "shard": shard.shard,
                "ticks": shard.ticks,
                "overruns": shard.overruns,
                "skipped": shard.skipped,
                "superseded": shard.superseded,
                "rooms": shard.rooms,
                "tick_us": crate::histogram::summary(&shard.tick_us),
                "lateness_us": crate::histogram::summary(&shard.lateness_us),
                "tick_us_recorded": crate::histogram::recorded(&shard.tick_us),
                "tick_cpu_us": crate::histogram::summary(&shard.tick_cpu_us),
                "tick_cpu_us_recorded": crate::histogram::recorded(&shard.tick_cpu_us),
            })
        })
        .collect();
    serde_json::json!({ "connections": ctx.connections(), "shards": shards })
}

/// An upgrade that passed every check: what its connection needs.
struct Admitted {
    codec: Codec,
    accept_key: String,
    /// Its place under `--max-connections`.
    permit: OwnedSemaphorePermit,
    peer: connection::Peer,
}

/// Checks an upgrade request (handshake, shutdown, the guard's limits, the connection cap)
/// and admits it, or gives the HTTP answer that refuses it.
fn admit<B>(
    req: &Request<B>,
    ctx: &Context,
    peer: IpAddr,
) -> Result<Admitted, Box<Response<Full<Bytes>>>> {
    let accepted = match handshake::check(req) {
        Ok(accepted) => accepted,
        Err(refused) => {
            ctx.metrics.wire().http_refused(HttpRefusal::BadHandshake);
            let mut response = text(refused.status, format!("{}\n", refused.reason));
            if refused.status == StatusCode::UPGRADE_REQUIRED {
                response.headers_mut().insert(
                    header::SEC_WEBSOCKET_VERSION,
                    HeaderValue::from_static("13"),
                );
            }
            return Err(Box::new(response));
        }
    };
    if ctx.shutdown.is_cancelled() || ctx.drain.is_draining() {
        ctx.metrics.wire().http_refused(HttpRefusal::ShuttingDown);
        let refusal = text(StatusCode::SERVICE_UNAVAILABLE, "server shutting down\n");
        return Err(Box::new(refusal));
    }
    let ip_permit = match ctx.security.guard.admit(req.headers(), peer) {
        Ok(permit) => permit,
        Err(refused) => {
            let mut response = text(refused.status, format!("{}\n", refused.reason));
            if let Some(seconds) = refused.retry_after {
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            return Err(Box::new(response));
        }
    };
    let Ok(permit) = ctx.websockets.clone().try_acquire_owned() else {
        ctx.metrics.wire().http_refused(HttpRefusal::Full);
        return Err(Box::new(text(
            StatusCode::SERVICE_UNAVAILABLE,
            "server full\n",
        )));
    };
    Ok(Admitted {
        codec: accepted.codec,
        accept_key: accepted.accept_key,
        permit,
        peer: connection::Peer {
            ip: ctx.security.guard.client_ip(req.headers(), peer),
            token: handshake::offered_token(req),
            _permit: ip_permit,
        },
    })
}

/// The 101 answer to an admitted upgrade.
fn switching_protocols(codec: Codec, accept_key: &str) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    headers.insert(
        header::SEC_WEBSOCKET_PROTOCOL,
        HeaderValue::from_static(codec.subprotocol()),
    );
    if let Ok(accept) = HeaderValue::from_str(accept_key) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    response
}

/// An upgrade request that reached hyper (one `head` left to it, e.g. a second request on a
/// kept-alive connection).
fn upgrade(mut req: Request<Incoming>, ctx: Arc<Context>, peer: IpAddr) -> Response<Full<Bytes>> {
    let admitted = match admit(&req, &ctx, peer) {
        Ok(admitted) => admitted,
        Err(refusal) => return *refusal,
    };
    let response = switching_protocols(admitted.codec, &admitted.accept_key);
    let on_upgrade = hyper::upgrade::on(&mut req);
    let task_ctx = ctx.clone();
    ctx.tracker.spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                run_websocket(split_io::split(upgraded), admitted, task_ctx).await;
            }
            Err(error) => tracing::debug!(%error, "websocket upgrade failed"),
        }
    });
    response
}

async fn run_websocket(halves: split_io::Halves, admitted: Admitted, ctx: Arc<Context>) {
    let Admitted {
        codec,
        permit: _permit,
        peer,
        ..
    } = admitted;
    connection::run(halves, codec, ctx, peer).await;
}
