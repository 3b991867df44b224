//! The per-IP door over real sockets: the concurrent cap and the new-connection rate
//! answer HTTP 429 with `Retry-After` before the upgrade, `X-Forwarded-For` counts only
//! with `trust_proxy`, and origins outside the allow-list get 403.

use anyhow::{Result, bail, ensure};
use ticksync::codec::Codec;
use ticksync::config::ServerConfig;
use ticksync::server::Stats;
use ticksync::transport::guard::GuardConfig;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{self, http::HeaderValue};

use crate::support::{Client, WAIT, start, test_config, wait_for_stats, ws_request};

fn guarded(guard: GuardConfig) -> ServerConfig {
    let mut config = test_config();
    config.security.guard = guard;
    config
}

/// Opens a WebSocket with extra request headers and says Hello.
async fn open(
    addr: std::net::SocketAddr,
    headers: &[(&'static str, &str)],
) -> Result<Client, tungstenite::Error> {
    let mut request = ws_request("ws", addr, "/").map_err(|_| tungstenite::Error::AlreadyClosed)?;
    for (name, value) in headers {
        request
            .headers_mut()
            .append(*name, HeaderValue::from_str(value).expect("header value"));
    }
    match Client::connect_request(request, Codec::MsgPack, None).await {
        Ok(mut client) => {
            client.hello(None).await.expect("Welcome");
            Ok(client)
        }
        Err(error) => match error.downcast::<tungstenite::Error>() {
            Ok(error) => Err(error),
            Err(other) => panic!("connect failed: {other:#}"),
        },
    }
}

/// The HTTP status and `Retry-After` of a refused handshake.
fn refusal(result: Result<Client, tungstenite::Error>) -> Result<(u16, Option<u64>)> {
    match result {
        Err(tungstenite::Error::Http(response)) => Ok((
            response.status().as_u16(),
            response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.parse().ok()),
        )),
        Err(other) => bail!("expected an HTTP refusal, got {other}"),
        Ok(_) => bail!("expected an HTTP refusal, got a connection"),
    }
}

fn counter(server: &ticksync::server::Server, reason: &str) -> u64 {
    server
        .security_counters()
        .into_iter()
        .find(|(name, labels, _)| {
            *name == "ticksync_upgrades_refused_total" && labels == &[("reason", reason)]
        })
        .map_or(0, |(_, _, value)| value)
}

#[tokio::test]
async fn one_address_cannot_hold_more_than_its_share_of_connections() -> Result<()> {
    let server = start(guarded(GuardConfig {
        max_connections_per_ip: 3,
        ..GuardConfig::unlimited()
    }))
    .await;
    let addr = server.local_addr();
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(open(addr, &[]).await?);
    }
    assert_eq!(refusal(open(addr, &[]).await)?, (429, Some(5)));
    assert_eq!(counter(&server, "ip_connections"), 1);

    // One leaves; its place is free again once its connection is gone.
    held.pop().expect("a client").close().await?;
    let deadline = Instant::now() + WAIT;
    let back = loop {
        match open(addr, &[]).await {
            Ok(client) => break client,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(error) => bail!("the freed place never came back: {error}"),
        }
    };
    held.push(back);
    for client in held {
        client.close().await?;
    }
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn a_burst_of_new_connections_gets_429_with_retry_after() -> Result<()> {
    let server = start(guarded(GuardConfig {
        new_connections_per_ip_per_second: 1,
        ..GuardConfig::unlimited()
    }))
    .await;
    let addr = server.local_addr();
    // One a second is allowed; 20 as fast as possible cannot all pass.
    let mut held = Vec::new();
    let mut refused = Vec::new();
    for _ in 0..20 {
        match open(addr, &[]).await {
            Ok(client) => held.push(client),
            refused_now => refused.push(refusal(refused_now)?),
        }
    }
    ensure!(
        !refused.is_empty(),
        "20 rapid connections were all accepted"
    );
    for (status, retry_after) in &refused {
        assert_eq!(*status, 429);
        assert!(
            matches!(retry_after, Some(1..=2)),
            "Retry-After {retry_after:?}"
        );
    }
    assert_eq!(counter(&server, "ip_rate"), refused.len() as u64);
    for client in held {
        client.close().await?;
    }
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn x_forwarded_for_counts_only_behind_a_trusted_proxy() -> Result<()> {
    let cap_one = GuardConfig {
        max_connections_per_ip: 1,
        ..GuardConfig::unlimited()
    };
    // Without --trust-proxy the header is the client's word: both are 127.0.0.1.
    let server = start(guarded(cap_one.clone())).await;
    let addr = server.local_addr();
    let a = open(addr, &[("X-Forwarded-For", "203.0.113.1")]).await?;
    assert_eq!(
        refusal(open(addr, &[("X-Forwarded-For", "203.0.113.2")]).await)?.0,
        429
    );
    a.close().await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;

    // Behind a trusted proxy the last address counts; earlier ones are the client's claim.
    let server = start(guarded(GuardConfig {
        trust_proxy: true,
        ..cap_one
    }))
    .await;
    let addr = server.local_addr();
    let a = open(addr, &[("X-Forwarded-For", "203.0.113.1")]).await?;
    let b = open(addr, &[("X-Forwarded-For", "203.0.113.2")]).await?;
    let spoofed = open(addr, &[("X-Forwarded-For", "198.51.100.7, 203.0.113.1")]).await;
    assert_eq!(refusal(spoofed)?.0, 429);
    let v6 = open(addr, &[("X-Forwarded-For", "2001:db8:1:2::1")]).await?;
    let same_64 = open(addr, &[("X-Forwarded-For", "2001:db8:1:2::99")]).await;
    assert_eq!(refusal(same_64)?.0, 429, "IPv6 counts per /64");
    for client in [a, b, v6] {
        client.close().await?;
    }
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn origins_outside_the_allow_list_get_403() -> Result<()> {
    let server = start(guarded(GuardConfig {
        allowed_origins: vec!["https://play.example.com".into()],
        ..GuardConfig::unlimited()
    }))
    .await;
    let addr = server.local_addr();
    for evil in [
        "https://evil.example.com",
        "null",
        "https://play.example.com.evil.net",
    ] {
        let (status, _) = refusal(open(addr, &[("Origin", evil)]).await)?;
        assert_eq!(status, 403, "{evil}");
    }
    assert_eq!(counter(&server, "origin"), 3);
    let browser = open(addr, &[("Origin", "https://play.example.com")]).await?;
    let native = open(addr, &[]).await?;
    browser.close().await?;
    native.close().await?;
    wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[test]
fn the_defaults_limit_each_address() {
    let defaults = ServerConfig::default().security.guard;
    assert_eq!(defaults.max_connections_per_ip, 100);
    assert_eq!(defaults.new_connections_per_ip_per_second, 20);
    assert!(!defaults.trust_proxy);
    assert!(defaults.allowed_origins.is_empty());
}
