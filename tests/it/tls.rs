//! TLS on the game port: a whole tic-tac-toe game over `wss://` with rustls on both ends,
//! `https://` on the same port, plain clients refused, and the certificate swapped by
//! `SIGHUP` for new connections. Certificates are made at test time with rcgen.

use std::net::SocketAddr;

use anyhow::{Context, Result, bail, ensure};
use rustls::pki_types::{CertificateDer, ServerName};
use ticksync::codec::Codec;
use ticksync::config::ServerConfig;
use ticksync::protocol::EndReason;
use ticksync::server::Stats;
use ticksync::transport::tls::TlsConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::support::{
    Client, TestCert, WAIT, client_tls, connector, play, scratch_dir, seated, start, test_cert,
    test_config, ws_request,
};

/// Writes `cert` where `files` point.
fn install(cert: &TestCert, files: &TlsConfig) {
    std::fs::write(&files.cert, &cert.cert_pem).expect("write the certificate");
    std::fs::write(&files.key, &cert.key_pem).expect("write the key");
}

fn tls_config(files: &TlsConfig) -> ServerConfig {
    let mut config = test_config();
    config.security.tls = Some(files.clone());
    config
}

fn files(tag: &str) -> TlsConfig {
    let dir = scratch_dir(tag);
    TlsConfig {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    }
}

/// Connects over `wss://` trusting only `cert`, and says Hello.
async fn wss_client(
    addr: SocketAddr,
    codec: Codec,
    cert: &CertificateDer<'static>,
) -> Result<Client> {
    let mut client =
        Client::connect_request(ws_request("wss", addr, "/")?, codec, Some(connector(cert)))
            .await?;
    ensure!(
        !client.hello(None).await?,
        "a new session came back resumed"
    );
    Ok(client)
}

/// `GET path` over TLS trusting only `cert`; returns the whole response as text.
async fn https_get(addr: SocketAddr, cert: &CertificateDer<'static>, path: &str) -> Result<String> {
    let exchange = async {
        let tcp = TcpStream::connect(addr).await?;
        let tls = tokio_rustls::TlsConnector::from(client_tls(cert));
        let name = ServerName::try_from("localhost")?.to_owned();
        let mut stream = tls.connect(name, tcp).await?;
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        stream.write_all(request.as_bytes()).await?;
        let mut raw = Vec::new();
        // A peer that closes without close_notify is an error to rustls; the bytes are in.
        let _ = stream.read_to_end(&mut raw).await;
        anyhow::Ok(String::from_utf8(raw)?)
    };
    tokio::time::timeout(WAIT, exchange)
        .await
        .context("https timed out")?
}

#[tokio::test]
async fn a_whole_game_over_wss_and_https_on_the_same_port() -> Result<()> {
    let cert = test_cert();
    let files = files("tls-game");
    install(&cert, &files);
    let server = start(tls_config(&files)).await;
    let addr = server.local_addr();

    let response = https_get(addr, &cert.der, "/healthz").await?;
    ensure!(response.starts_with("HTTP/1.1 200"), "{response}");
    ensure!(response.contains(r#""status":"ok""#), "{response}");

    let mut a = wss_client(addr, Codec::Bincode, &cert.der).await?;
    let mut b = wss_client(addr, Codec::MsgPack, &cert.der).await?;
    a.find_match().await?;
    b.find_match().await?;
    let (seat_a, seat_b) = (a.match_found().await?.seat, b.match_found().await?.seat);
    let (mut x, mut o) = seated(a, seat_a, b, seat_b)?;
    play(&mut x, &mut o, &[0, 3, 1, 4, 2]).await?;
    assert_eq!(x.game_over().await?, (Some(0), EndReason::Win));
    assert_eq!(o.game_over().await?, (Some(0), EndReason::Win));

    // Plain ws:// to a TLS port gets no WebSocket.
    let plain = Client::connect_raw(addr, Codec::MsgPack).await;
    ensure!(plain.is_err(), "a plain client got through");
    // A client that does not trust the certificate gets none either.
    let stranger = test_cert();
    let refused = Client::connect_request(
        ws_request("wss", addr, "/")?,
        Codec::MsgPack,
        Some(connector(&stranger.der)),
    )
    .await;
    ensure!(refused.is_err(), "an untrusted certificate was accepted");

    x.close().await?;
    o.close().await?;
    crate::support::wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn sighup_swaps_the_certificate_for_new_connections() -> Result<()> {
    let (old, new) = (test_cert(), test_cert());
    let files = files("tls-reload");
    install(&old, &files);
    let server = start(tls_config(&files)).await;
    let addr = server.local_addr();
    let mut before = wss_client(addr, Codec::MsgPack, &old.der).await?;

    // Broken files: the reload fails and the old certificate stays.
    std::fs::write(&files.key, "not a key")?;
    ensure!(server.reload_tls().is_err(), "a broken key was loaded");
    wss_client(addr, Codec::Bincode, &old.der)
        .await?
        .close()
        .await?;

    // New files, then SIGHUP to this process (the server registered its handler at start).
    install(&new, &files);
    // SAFETY: kill(2) on our own pid with a signal whose handler is installed.
    let sent = unsafe { libc::kill(libc::getpid(), libc::SIGHUP) };
    ensure!(sent == 0, "kill failed");
    let deadline = Instant::now() + WAIT;
    let mut after = loop {
        match wss_client(addr, Codec::MsgPack, &new.der).await {
            Ok(client) => break client,
            Err(_) if Instant::now() < deadline => {
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            Err(error) => bail!("the new certificate never served: {error:#}"),
        }
    };
    ensure!(
        wss_client(addr, Codec::MsgPack, &old.der).await.is_err(),
        "the old certificate still serves new connections"
    );
    // The connection made before the reload carries on.
    before.ping(1).await?;
    after.ping(2).await?;
    before.close().await?;
    after.close().await?;
    crate::support::wait_for_stats(&server, Stats::default()).await?;
    server.shutdown().await;
    Ok(())
}
