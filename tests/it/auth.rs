//! Player identity over real sockets: every kind of bad token refused with its own error
//! and close code before the player gets a session; tokens in `Hello`, in
//! `Authorization: Bearer` and in `?token=`; one session per player id (a second login
//! takes it over); and guest mode exactly as before when no key is configured.

use std::path::Path;

use anyhow::{Context, Result, bail, ensure};
use jsonwebtoken::{Algorithm, EncodingKey};
use serde_json::json;
use ticksync::codec::Codec;
use ticksync::config::ServerConfig;
use ticksync::protocol::{ClientMsg, ErrorCode, PROTOCOL_VERSION, ServerMsg, close_code};
use ticksync::server::Stats;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::http::HeaderValue;

use crate::support::{
    AUDIENCE, Client, ISSUER, SECRET, claims, ec_keys, finish_unnoticed_takeover, hs256, now,
    scratch_dir, seated, sign, start, test_config, wait_for_stats, wait_until, ws_request,
};

/// A server requiring tokens: HS256 with the test secret, ES256 with `public_pem`, the test
/// issuer and audience.
fn auth_config(public_pem: &str, dir: &Path) -> ServerConfig {
    let key = dir.join("jwt-public.pem");
    std::fs::write(&key, public_pem).expect("write the public key");
    let mut config = test_config();
    config.security.auth.hs256_secret = Some(SECRET.to_vec());
    config.security.auth.public_key_pem = Some(key);
    config.security.auth.issuer = Some(ISSUER.into());
    config.security.auth.audience = Some(AUDIENCE.into());
    config
}

/// Sends `Hello` with `token` and expects `Error code` then close `close`.
async fn refused(
    client: &mut Client,
    token: Option<String>,
    code: ErrorCode,
    close: u16,
) -> Result<()> {
    client
        .send(&ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            resume_token: None,
            last_event_seq: 0,
            auth_token: token,
            ticket: None,
        })
        .await?;
    match client.recv().await? {
        ServerMsg::Error { code: got, .. } if got == code => {}
        other => bail!("expected Error {code:?}, got {other:?}"),
    }
    let closed = client.closed().await?;
    ensure!(
        closed == Some(close),
        "expected close {close}, got {closed:?}"
    );
    Ok(())
}

#[tokio::test]
async fn every_bad_token_is_refused_with_its_own_code_before_any_session() -> Result<()> {
    let keys = ec_keys();
    let dir = scratch_dir("auth");
    let server = start(auth_config(&keys.public_pem, &dir)).await;
    let addr = server.local_addr();
    let with = |key: &str, value: serde_json::Value| {
        let mut c = claims("mallory");
        c[key] = value;
        c
    };
    let unsigned = {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let header = b64.encode(r#"{"alg":"none","typ":"JWT"}"#);
        format!("{header}.{}.", b64.encode(claims("mallory").to_string()))
    };
    let other_ec = ec_keys();
    let cases: Vec<(&str, Option<String>, ErrorCode, u16)> = vec![
        (
            "no token",
            None,
            ErrorCode::AuthRequired,
            close_code::AUTH_REQUIRED,
        ),
        (
            "expired",
            Some(hs256(&with("exp", json!(now() - 3600)))),
            ErrorCode::TokenExpired,
            close_code::TOKEN_EXPIRED,
        ),
        (
            "not yet valid",
            Some(hs256(&with("nbf", json!(now() + 3600)))),
            ErrorCode::TokenNotYetValid,
            close_code::TOKEN_NOT_YET_VALID,
        ),
        (
            "forged HS256 (another secret)",
            Some(sign(
                Algorithm::HS256,
                &EncodingKey::from_secret(b"guessed"),
                &claims("mallory"),
            )),
            ErrorCode::TokenBadSignature,
            close_code::TOKEN_BAD_SIGNATURE,
        ),
        (
            "forged ES256 (another key)",
            Some(sign(
                Algorithm::ES256,
                &other_ec.private,
                &claims("mallory"),
            )),
            ErrorCode::TokenBadSignature,
            close_code::TOKEN_BAD_SIGNATURE,
        ),
        (
            "wrong issuer",
            Some(hs256(&with("iss", json!("https://evil.example")))),
            ErrorCode::TokenWrongIssuer,
            close_code::TOKEN_WRONG_ISSUER,
        ),
        (
            "wrong audience",
            Some(hs256(&with("aud", json!("another-game")))),
            ErrorCode::TokenWrongAudience,
            close_code::TOKEN_WRONG_AUDIENCE,
        ),
        (
            "wrong algorithm (HS384)",
            Some(sign(
                Algorithm::HS384,
                &EncodingKey::from_secret(SECRET),
                &claims("mallory"),
            )),
            ErrorCode::TokenWrongAlgorithm,
            close_code::TOKEN_WRONG_ALGORITHM,
        ),
        (
            "alg: none",
            Some(unsigned),
            ErrorCode::TokenUnsigned,
            close_code::TOKEN_UNSIGNED,
        ),
        (
            "not a JWT",
            Some("not-a-jwt".into()),
            ErrorCode::TokenMalformed,
            close_code::TOKEN_MALFORMED,
        ),
        (
            "display name with a bidi override",
            Some(hs256(&with("name", json!("admin\u{202E}nimda")))),
            ErrorCode::TokenMalformed,
            close_code::TOKEN_MALFORMED,
        ),
    ];
    let refusals = cases.len();
    for (i, (what, token, code, close)) in cases.into_iter().enumerate() {
        let codec = Codec::ALL[i % 2];
        let mut client = Client::connect_raw(addr, codec).await?;
        refused(&mut client, token, code, close)
            .await
            .with_context(|| format!("{what} ({codec:?})"))?;
    }
    // No refused client ever had a session, a queue place or a room.
    wait_for_stats(&server, Stats::default()).await?;
    let counted: u64 = server
        .security_counters()
        .iter()
        .filter(|(name, _, _)| *name == "ticksync_auth_refused_total")
        .map(|(_, _, value)| value)
        .sum();
    assert_eq!(counted, refusals as u64);

    // The same server takes a good token of either kind.
    let (mut ada, resumed) =
        Client::login(addr, Codec::Bincode, &hs256(&claims("ada")), None).await?;
    assert!(!resumed);
    ada.ping(1).await?;
    let es = sign(Algorithm::ES256, &keys.private, &claims("bob"));
    let (bob, _) = Client::login(addr, Codec::MsgPack, &es, None).await?;
    ada.close().await?;
    bob.close().await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn browsers_can_offer_the_token_at_the_handshake() -> Result<()> {
    let keys = ec_keys();
    let dir = scratch_dir("auth-handshake");
    let server = start(auth_config(&keys.public_pem, &dir)).await;
    let addr = server.local_addr();

    // Authorization: Bearer, with an ES256 token; Hello carries none.
    let mut request = ws_request("ws", addr, "/")?;
    let bearer = format!(
        "Bearer {}",
        sign(Algorithm::ES256, &keys.private, &claims("ada"))
    );
    request
        .headers_mut()
        .insert("Authorization", HeaderValue::from_str(&bearer)?);
    let mut ada = Client::connect_request(request, Codec::MsgPack, None).await?;
    assert!(!ada.hello(None).await?);

    // ?token=, with an HS256 token.
    let query = format!("/?token={}", hs256(&claims("bob")));
    let mut bob =
        Client::connect_request(ws_request("ws", addr, &query)?, Codec::Bincode, None).await?;
    assert!(!bob.hello(None).await?);
    assert_ne!(ada.session_id, bob.session_id);

    // A bad handshake token is refused when Hello arrives, with its own code.
    let expired = {
        let mut c = claims("carol");
        c["exp"] = json!(now() - 3600);
        hs256(&c)
    };
    let query = format!("/?token={expired}");
    let mut carol =
        Client::connect_request(ws_request("ws", addr, &query)?, Codec::MsgPack, None).await?;
    refused(
        &mut carol,
        None,
        ErrorCode::TokenExpired,
        close_code::TOKEN_EXPIRED,
    )
    .await?;

    // A token in Hello wins over the handshake's.
    let mut dave =
        Client::connect_request(ws_request("ws", addr, &query)?, Codec::Bincode, None).await?;
    assert!(!dave.hello_with(None, Some(hs256(&claims("dave")))).await?);

    for client in [ada, bob, dave] {
        client.close().await?;
    }
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_second_login_takes_the_session_over_mid_game() -> Result<()> {
    let keys = ec_keys();
    let dir = scratch_dir("auth-takeover");
    let server = start(auth_config(&keys.public_pem, &dir)).await;
    let addr = server.local_addr();
    let (mut a, _) = Client::login(addr, Codec::Bincode, &hs256(&claims("ada")), None).await?;
    let (mut b, _) = Client::login(addr, Codec::MsgPack, &hs256(&claims("bob")), None).await?;
    a.find_match().await?;
    b.find_match().await?;
    let (seat_a, seat_b) = (a.match_found().await?.seat, b.match_found().await?.seat);
    let ada_first = seat_a == Some(0);
    let (mut x, mut o) = seated(a, seat_a, b, seat_b)?;
    crate::support::play(&mut x, &mut o, &[4, 0]).await?;

    // The player in seat 0 logs in again elsewhere (a new token, same `sub`), with the
    // other codec. The new connection gets the same session, the room and the board; the
    // old one is closed with 4002; the opponent notices nothing.
    let sub = if ada_first { "ada" } else { "bob" };
    let fresh = hs256(&claims(sub));
    let (mut x2, resumed) =
        Client::login(addr, Codec::MsgPack, &fresh, Some(&x.resumable())).await?;
    assert!(resumed, "Welcome.resumed");
    assert_eq!(x2.session_id, x.session_id);
    assert_eq!(Some(x2.room_joined().await?), x.room.clone());
    let (_, _, view) = x2.snapshot_where(|_| true).await?;
    assert_eq!(view.board, [2, 0, 0, 0, 1, 0, 0, 0, 0]);
    assert_eq!(x.closed().await?, Some(close_code::SESSION_TAKEN_OVER));
    wait_until(&server, |s| s.connections == 2 && s.sessions == 2).await?;
    let takeovers = server
        .security_counters()
        .into_iter()
        .find(|(name, _, _)| *name == "ticksync_auth_takeovers_total")
        .map(|(_, _, v)| v);
    assert_eq!(takeovers, Some(1));

    finish_unnoticed_takeover(&mut x2, &mut o).await?;
    x2.close().await?;
    o.close().await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn guest_mode_ignores_tokens_and_accepts_the_old_bincode_hello() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    // A token in Hello or at the handshake changes nothing: a new guest session each time.
    let (mut a, resumed) = Client::login(addr, Codec::MsgPack, "not-even-a-jwt", None).await?;
    assert!(!resumed);
    let (b, _) = Client::login(addr, Codec::Bincode, &hs256(&claims("ada")), None).await?;
    assert_ne!(a.session_id, b.session_id);
    let query = format!("/?token={}", hs256(&claims("ada")));
    let mut c =
        Client::connect_request(ws_request("ws", addr, &query)?, Codec::MsgPack, None).await?;
    assert!(!c.hello(None).await?);

    // A bincode Hello without `auth_token` (the form before the field was appended).
    let mut old = Client::connect_raw(addr, Codec::Bincode).await?;
    old.send_raw(Message::Binary(vec![0u8, 2, 0, 0].into()))
        .await?;
    match old.recv().await? {
        ServerMsg::Welcome { resumed: false, .. } => {}
        other => bail!("expected Welcome, got {other:?}"),
    }
    a.ping(7).await?;
    old.ping(8).await?;
    for client in [a, b, c, old] {
        client.close().await?;
    }
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn chat_text_and_join_codes_are_checked() -> Result<()> {
    let server = start(test_config()).await;
    let addr = server.local_addr();
    let mut a = Client::connect(addr, Codec::MsgPack).await?;
    a.send(&ClientMsg::CreateRoom {
        game: crate::support::TICTACTOE.into(),
        settings: Default::default(),
    })
    .await?;
    a.room_joined().await?;
    for (text, code) in [
        ("ring\u{7}", ErrorCode::InvalidText),
        ("flip\u{202E}txet", ErrorCode::InvalidText),
        ("", ErrorCode::ChatTooLong),
    ] {
        a.refused(&ClientMsg::Chat { text: text.into() }, code)
            .await?;
    }
    let mut b = Client::connect(addr, Codec::Bincode).await?;
    for code in ["K7QX 2M", "x".repeat(10_000).as_str(), "ÄÖÜÄÖÜ"] {
        b.refused(
            &ClientMsg::JoinRoom {
                code: code.into(),
                spectate: false,
            },
            ErrorCode::UnknownRoomCode,
        )
        .await?;
    }
    a.close().await?;
    b.close().await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn rs256_tokens_verify_with_an_rsa_public_key() -> Result<()> {
    let keys = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/it/keys");
    let mut config = test_config();
    config.security.auth.public_key_pem = Some(format!("{keys}/rsa-test-public.pem").into());
    let server = start(config).await;
    let addr = server.local_addr();
    let private =
        EncodingKey::from_rsa_pem(&std::fs::read(format!("{keys}/rsa-test-private.pem"))?)?;
    let (ada, resumed) = Client::login(
        addr,
        Codec::MsgPack,
        &sign(Algorithm::RS256, &private, &claims("ada")),
        None,
    )
    .await?;
    assert!(!resumed);
    // Without a secret, HS256 is a wrong algorithm here, whatever it is signed with.
    let mut mallory = Client::connect_raw(addr, Codec::Bincode).await?;
    let hs = hs256(&claims("mallory"));
    refused(
        &mut mallory,
        Some(hs),
        ErrorCode::TokenWrongAlgorithm,
        close_code::TOKEN_WRONG_ALGORITHM,
    )
    .await?;
    ada.close().await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn the_library_client_logs_in_with_a_token() -> Result<()> {
    use ticksync::client::{ClientError, Connection};
    let keys = ec_keys();
    let dir = scratch_dir("auth-library");
    let server = start(auth_config(&keys.public_pem, &dir)).await;
    let url = format!("ws://{}/", server.local_addr());
    let wait = crate::support::WAIT;
    let mut without = Connection::connect(&url, Codec::Bincode, wait).await?;
    match without.hello(None).await {
        Err(ClientError::Refused { code, .. }) => assert_eq!(code, ErrorCode::AuthRequired),
        other => bail!("expected a refusal, got {other:?}"),
    }
    let mut first = Connection::connect(&url, Codec::Bincode, wait).await?;
    first.set_auth_token(Some(hs256(&claims("ada"))));
    let welcome = first.hello(None).await?;
    assert!(!welcome.resumed);
    let mut second = Connection::connect(&url, Codec::MsgPack, wait).await?;
    second.set_auth_token(Some(hs256(&claims("ada"))));
    let again = second.hello(None).await?;
    assert!(again.resumed);
    assert_eq!(again.session_id, welcome.session_id);
    drop(without);
    // The first connection was taken over (closed by the server); the second says goodbye.
    drop(first);
    second.close().await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}
