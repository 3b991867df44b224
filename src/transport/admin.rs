//! The operator's HTTP endpoints: the `/monitor` page and the JSON API under `/admin/`.
//!
//! Both answer 404 unless `--admin-token` is set ([`crate::admin`]); every `/admin/`
//! request must then carry `Authorization: Bearer <token>` or gets 401. PROTOCOL.md
//! ("Operator endpoints") documents each path and its JSON. Reads go to the lobby (sessions,
//! queues) and to every shard (rooms, tick statistics); closing a room and kicking a
//! session are the lobby's and the engine's commands, applied like any other.

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use serde_json::json;

use super::Context;
use super::assets::MONITOR;
use crate::admin::Access;
use crate::engine::ShardStats;
use crate::histogram;

/// Largest request body (`{"reason": ...}`) read, in bytes.
const MAX_BODY_BYTES: usize = 4096;
/// Longest accepted reason, in characters.
pub(super) const MAX_REASON_CHARS: usize = 200;
/// The reason given when a request names none.
const DEFAULT_REASON: &str = "closed by the server's operator";

/// Whether `path` belongs to the operator's endpoints.
pub(crate) fn owns(path: &str) -> bool {
    path == "/monitor" || path == "/admin" || path.starts_with("/admin/")
}

/// Answers one request for a path that [`owns`] accepted.
pub(crate) async fn route(req: Request<Incoming>, ctx: &Arc<Context>) -> Response<Full<Bytes>> {
    let authorization = req
        .headers()
        .get(header::AUTHORIZATION)
        .map(HeaderValue::as_bytes);
    let access = ctx.config.admin.check(authorization);
    if access == Access::Disabled {
        return super::not_found();
    }
    let path = req.uri().path().to_string();
    if path == "/monitor" {
        // The page holds no data; it asks for the token and sends it with each request.
        return match *req.method() {
            Method::GET | Method::HEAD => MONITOR.response(),
            _ => method_not_allowed("GET, HEAD"),
        };
    }
    if access == Access::Refused {
        let mut response = error(StatusCode::UNAUTHORIZED, "missing or wrong bearer token");
        response.headers_mut().insert(
            header::WWW_AUTHENTICATE,
            HeaderValue::from_static("Bearer realm=\"ticksync admin\""),
        );
        return response;
    }
    let segments: Vec<&str> = path
        .strip_prefix("/admin")
        .unwrap_or_default()
        .split('/')
        .filter(|s| !s.is_empty())
        .collect();
    let get = matches!(*req.method(), Method::GET | Method::HEAD);
    let post = *req.method() == Method::POST;
    match segments.as_slice() {
        ["overview"] if get => ok(overview(ctx).await),
        ["rooms"] if get => ok(json!({ "rooms": ctx.lobby.engine().admin_rooms().await })),
        ["rooms", id] if get => match id.parse() {
            Ok(id) => match ctx.lobby.engine().inspect_room(id).await {
                Some(detail) => ok(json!(detail)),
                None => error(StatusCode::NOT_FOUND, "no such room"),
            },
            Err(_) => error(StatusCode::NOT_FOUND, "no such room"),
        },
        ["rooms", id, "close"] if post => {
            let reason = match reason(req).await {
                Ok(reason) => reason,
                Err(refused) => return refused,
            };
            match id.parse() {
                Ok(id) if ctx.lobby.engine().close_room(id, reason.clone()).await => {
                    ok(json!({ "closed": id, "reason": reason }))
                }
                _ => error(StatusCode::NOT_FOUND, "no such room"),
            }
        }
        ["sessions"] if get => ok(json!({ "sessions": ctx.lobby.admin_sessions() })),
        ["sessions", id, "kick"] if post => {
            let reason = match reason(req).await {
                Ok(reason) => reason,
                Err(refused) => return refused,
            };
            match id.parse() {
                Ok(id) if ctx.lobby.kick(id, &reason).await => {
                    ok(json!({ "kicked": id, "reason": reason }))
                }
                _ => error(StatusCode::NOT_FOUND, "no such session"),
            }
        }
        ["overview" | "rooms" | "sessions"] | ["rooms", _] => method_not_allowed("GET, HEAD"),
        ["rooms", _, "close"] | ["sessions", _, "kick"] => method_not_allowed("POST"),
        _ => error(StatusCode::NOT_FOUND, "no such admin endpoint"),
    }
}

/// Counters, queues and every shard's tick statistics.
async fn overview(ctx: &Context) -> serde_json::Value {
    let lobby = ctx.lobby.stats();
    let shards = ctx.lobby.engine().stats().await;
    let finished: u64 = shards.iter().map(|s| s.games_finished_total()).sum();
    json!({
        "uptime_s": ctx.started.elapsed().as_secs_f64(),
        "tick_hz": ctx.config.effective_tick_hz(),
        "connections": ctx.connections(),
        "max_connections": ctx.config.max_connections,
        "sessions": lobby.sessions,
        "rooms": lobby.rooms,
        "queued": lobby.queued,
        "games_finished": finished,
        "queues": ctx.lobby.admin_queues(),
        "shards": shards.iter().map(shard).collect::<Vec<_>>(),
    })
}

/// One shard's counters, percentiles, and its tick-duration histogram in powers of two.
fn shard(stats: &ShardStats) -> serde_json::Value {
    json!({
        "shard": stats.shard,
        "rooms": stats.rooms,
        "ticks": stats.ticks,
        "overruns": stats.overruns,
        "skipped": stats.skipped,
        "superseded": stats.superseded,
        "games_finished": stats.games_finished_total(),
        "tick_us": histogram::summary(&stats.tick_us),
        "tick_cpu_us": histogram::summary(&stats.tick_cpu_us),
        "lateness_us": histogram::summary(&stats.lateness_us),
        "tick_us_log2": histogram::log2_buckets(&stats.tick_us),
    })
}

/// The `reason` of a `{"reason": "..."}` body; an empty body or no `reason` gives the
/// default. A body that is too big, not that JSON, or a reason over
/// [`MAX_REASON_CHARS`] is refused with 400 or 413.
async fn reason(req: Request<Incoming>) -> Result<String, Response<Full<Bytes>>> {
    let body = match Limited::new(req.into_body(), MAX_BODY_BYTES)
        .collect()
        .await
    {
        Ok(body) => body.to_bytes(),
        Err(_) => {
            let message = format!("the body must be at most {MAX_BODY_BYTES} bytes");
            return Err(error(StatusCode::PAYLOAD_TOO_LARGE, &message));
        }
    };
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(DEFAULT_REASON.to_string());
    }
    #[derive(serde::Deserialize)]
    struct Body {
        reason: Option<String>,
    }
    let parsed: Body = serde_json::from_slice(&body).map_err(|e| {
        let message = format!("the body must be JSON like {{\"reason\": \"...\"}}: {e}");
        error(StatusCode::BAD_REQUEST, &message)
    })?;
    let reason = parsed.reason.unwrap_or_default().trim().to_string();
    if reason.chars().count() > MAX_REASON_CHARS {
        let message = format!("the reason must be at most {MAX_REASON_CHARS} characters");
        return Err(error(StatusCode::BAD_REQUEST, &message));
    }
    Ok(if reason.is_empty() {
        DEFAULT_REASON.to_string()
    } else {
        reason
    })
}

fn ok(value: serde_json::Value) -> Response<Full<Bytes>> {
    let mut response = super::json(&value);
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn error(status: StatusCode, message: &str) -> Response<Full<Bytes>> {
    let mut response = ok(json!({ "error": message }));
    *response.status_mut() = status;
    response
}

fn method_not_allowed(allow: &'static str) -> Response<Full<Bytes>> {
    let mut response = error(StatusCode::METHOD_NOT_ALLOWED, "method not allowed here");
    response
        .headers_mut()
        .insert(header::ALLOW, HeaderValue::from_static(allow));
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_monitor_and_admin_paths_are_owned() {
        for owned in ["/monitor", "/admin", "/admin/", "/admin/rooms/7/close"] {
            assert!(owns(owned), "{owned}");
        }
        for other in ["/monitor/", "/administrator", "/play", "/rooms", "/"] {
            assert!(!owns(other), "{other}");
        }
    }
}
