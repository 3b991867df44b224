//! Results over HTTP: match history, one match, its replay, and leaderboards.
//!
//! - `GET /matches?player=KEY&game=NAME&before=ID&limit=N`: `{"matches": [...], "next": ID
//!   or null}`, newest first; `limit` defaults to 20 and is capped at 100; `next` is the
//!   `before` of the next (older) page.
//! - `GET /matches/{id}`: one match (`404` when there is none).
//! - `GET /matches/{id}/replay`: the replay bytes, `application/octet-stream` (`404` when
//!   the match or its replay is missing).
//! - `GET /leaderboard?game=NAME&limit=N`: `{"game": NAME, "rows": [{rank, player, name,
//!   rating, games, wins}]}`; `limit` defaults to 50 and is capped at 100.
//!
//! With `--database none` every one of them answers `404` with a sentence saying so. At
//! most [`MAX_HTTP_READS`](crate::storage::MAX_HTTP_READS) of these requests read the
//! database at once; more get `503` with `Retry-After: 1`, as does a read that times out.

use bytes::Bytes;
use http_body_util::Full;
use hyper::header::{self, HeaderValue};
use hyper::{Request, Response, StatusCode};

use super::{Context, json, text};
use crate::protocol::MatchId;
use crate::storage::StorageError;

/// Whether `path` is one of this module's.
pub(crate) fn owns(path: &str) -> bool {
    path == "/matches" || path.starts_with("/matches/") || path == "/leaderboard"
}

/// The query's parameters, percent-decoded.
fn params(query: Option<&str>) -> Vec<(String, String)> {
    query.map_or_else(Vec::new, |q| {
        url::form_urlencoded::parse(q.as_bytes())
            .into_owned()
            .collect()
    })
}

fn param<'a>(params: &'a [(String, String)], name: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(n, _)| n == name)
        .map(|(_, v)| v.as_str())
        .filter(|v| !v.is_empty())
}

fn number(params: &[(String, String)], name: &str) -> Result<Option<u64>, String> {
    param(params, name)
        .map(|v| v.parse().map_err(|_| format!("bad {name}={v}")))
        .transpose()
}

fn unavailable(error: &StorageError) -> Response<Full<Bytes>> {
    match error {
        StorageError::Disabled => text(
            StatusCode::NOT_FOUND,
            "this server keeps no records (it runs with --database none)\n",
        ),
        other => {
            tracing::warn!(error = %other, "an HTTP read of the results database failed");
            busy("the results database did not answer in time\n")
        }
    }
}

fn busy(reason: &'static str) -> Response<Full<Bytes>> {
    let mut response = text(StatusCode::SERVICE_UNAVAILABLE, reason);
    response
        .headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    response
}

/// Answers `GET` on one of this module's paths.
pub(crate) async fn get<B>(req: &Request<B>, ctx: &Context) -> Response<Full<Bytes>> {
    let storage = ctx.lobby.storage();
    let Ok(db) = storage.db() else {
        return unavailable(&StorageError::Disabled);
    };
    let Ok(_permit) = db.http_reads.clone().try_acquire_owned() else {
        return busy("too many history requests at once; try again\n");
    };
    let params = params(req.uri().query());
    let path = req.uri().path();
    let result = match path {
        "/leaderboard" => leaderboard(&params, ctx).await,
        "/matches" => matches(&params, ctx).await,
        _ => {
            let rest = &path["/matches/".len()..];
            let (id, replay) = match rest.strip_suffix("/replay") {
                Some(id) => (id, true),
                None => (rest, false),
            };
            match id.parse::<MatchId>() {
                Ok(id) if replay => replay_of(id, ctx).await,
                Ok(id) => one_match(id, ctx).await,
                Err(_) => Ok(text(StatusCode::NOT_FOUND, "not found\n")),
            }
        }
    };
    result.unwrap_or_else(|error| unavailable(&error))
}

type Answer = Result<Response<Full<Bytes>>, StorageError>;

async fn matches(params: &[(String, String)], ctx: &Context) -> Answer {
    let (before, limit) = match (number(params, "before"), number(params, "limit")) {
        (Ok(before), Ok(limit)) => (before, limit.unwrap_or(20) as usize),
        (Err(reason), _) | (_, Err(reason)) => {
            return Ok(text(StatusCode::BAD_REQUEST, format!("{reason}\n")));
        }
    };
    let page = ctx
        .lobby
        .storage()
        .matches(
            param(params, "player"),
            param(params, "game"),
            before.map(MatchId::new),
            limit,
        )
        .await?;
    Ok(json(&serde_json::to_value(page).unwrap_or_default()))
}

async fn one_match(id: MatchId, ctx: &Context) -> Answer {
    Ok(match ctx.lobby.storage().match_detail(id).await? {
        Some(detail) => json(&serde_json::to_value(detail).unwrap_or_default()),
        None => text(StatusCode::NOT_FOUND, "no such match\n"),
    })
}

async fn replay_of(id: MatchId, ctx: &Context) -> Answer {
    Ok(match ctx.lobby.storage().replay(id).await? {
        Some(bytes) => {
            let mut response = Response::new(Full::new(Bytes::from(bytes)));
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/octet-stream"),
            );
            response
        }
        None => text(StatusCode::NOT_FOUND, "no replay for this match\n"),
    })
}

async fn leaderboard(params: &[(String, String)], ctx: &Context) -> Answer {
    let Some(game) = param(params, "game") else {
        return Ok(text(StatusCode::BAD_REQUEST, "game= is required\n"));
    };
    // Only registered games: the leaderboard cache holds one entry per game.
    let Some(entry) = ctx.lobby.engine().registry().get(game) else {
        return Ok(text(StatusCode::NOT_FOUND, "no such game\n"));
    };
    let limit = match number(params, "limit") {
        Ok(limit) => limit.unwrap_or(50) as usize,
        Err(reason) => return Ok(text(StatusCode::BAD_REQUEST, format!("{reason}\n"))),
    };
    let rows = ctx.lobby.storage().leaderboard(entry.name, limit).await?;
    Ok(json(
        &serde_json::json!({ "game": entry.name, "rows": rows.as_slice() }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_are_decoded_and_numbers_checked() {
        let p = params(Some("player=user%3Aal%20ice&limit=5&game="));
        assert_eq!(param(&p, "player"), Some("user:al ice"));
        assert_eq!(param(&p, "game"), None, "empty means absent");
        assert_eq!(number(&p, "limit"), Ok(Some(5)));
        assert!(number(&params(Some("before=x")), "before").is_err());
        assert!(owns("/matches/12/replay") && owns("/leaderboard") && !owns("/matchesx"));
    }
}
