//! The Rust client's `--ca-file` trust ([`ClientTls`]): against a real server speaking TLS
//! with a certificate a test CA signed (made here with rcgen), the client connects when
//! given that CA's PEM file and is refused without it (the webpki roots alone) or with
//! another CA; bots given the CA play a whole game over `wss://`, dropping their connection
//! and resuming on the way.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::{Context, Result, bail, ensure};
use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, IsCa, KeyPair, KeyUsagePurpose,
};
use ticksync::client::{
    Backoff, Bot, BotConfig, ClientError, ClientTls, Connection, Recorder, words,
};
use ticksync::codec::Codec;
use ticksync::server::Server;
use ticksync::transport::tls::TlsConfig;
use tokio_util::sync::CancellationToken;

use crate::support::{WAIT, scratch_dir, start, test_config};

/// A certificate authority of the test's own.
fn test_ca(name: &str) -> Result<CertifiedIssuer<'static, KeyPair>> {
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.distinguished_name.push(DnType::CommonName, name);
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    Ok(CertifiedIssuer::self_signed(params, KeyPair::generate()?)?)
}

/// A TLS server whose certificate (for 127.0.0.1) `ca` signed; returns it with the path of
/// the CA's PEM file and the `wss://` URL.
async fn server_signed_by(
    ca: &CertifiedIssuer<'static, KeyPair>,
    dir: &Path,
) -> Result<(Server, PathBuf, String)> {
    let key = KeyPair::generate()?;
    let leaf = CertificateParams::new(vec!["127.0.0.1".into(), "localhost".into()])?
        .signed_by(&key, ca)?;
    let files = TlsConfig {
        cert: dir.join("cert.pem"),
        key: dir.join("key.pem"),
    };
    std::fs::write(&files.cert, leaf.pem())?;
    std::fs::write(&files.key, key.serialize_pem())?;
    let ca_file = dir.join("ca.pem");
    std::fs::write(&ca_file, ca.pem())?;
    let mut config = test_config();
    config.security.tls = Some(files);
    let server = start(config).await;
    let url = format!("wss://{}/", server.local_addr());
    Ok((server, ca_file, url))
}

/// What connecting with `tls` gives: the connection after `Welcome`, or the error.
async fn connect(url: &str, tls: Option<&ClientTls>) -> Result<Connection, ClientError> {
    let mut conn = Connection::connect_with(url, Codec::MsgPack, WAIT, tls).await?;
    conn.hello(None).await?;
    Ok(conn)
}

#[tokio::test]
async fn a_ca_file_lets_the_client_in_and_nothing_else_does() -> Result<()> {
    let dir = scratch_dir("client-tls");
    let ca = test_ca("ticksync test CA")?;
    let (server, ca_file, url) = server_signed_by(&ca, &dir).await?;

    // With the CA: in, and a whole Hello/Welcome over TLS.
    let trusted = ClientTls::with_ca_file(&ca_file)?;
    assert_eq!(trusted.added_roots(), 1);
    let conn = connect(&url, Some(&trusted))
        .await
        .context("the client given the CA was refused")?;
    conn.close().await?;

    // Without it: the webpki roots (explicitly, or by default) do not vouch for it.
    for (what, tls) in [
        ("no ClientTls", None),
        ("the webpki roots", Some(ClientTls::webpki())),
    ] {
        match connect(&url, tls.as_ref()).await {
            Ok(_) => bail!("{what}: connected to a server only the test CA vouches for"),
            Err(error) => {
                ensure!(error.is_untrusted_certificate(), "{what}: {error}");
                let said = words::explain(&error, &url);
                ensure!(said.contains("--ca-file"), "{what}: {said}");
            }
        }
    }

    // Another CA's file is no better.
    let other_dir = scratch_dir("client-tls-other");
    let other = test_ca("another CA")?;
    std::fs::write(other_dir.join("ca.pem"), other.pem())?;
    let wrong = ClientTls::with_ca_file(&other_dir.join("ca.pem"))?;
    let error = connect(&url, Some(&wrong))
        .await
        .err()
        .context("connected trusting another CA")?;
    ensure!(error.is_untrusted_certificate(), "{error}");

    server.shutdown().await;
    Ok(())
}

#[tokio::test]
async fn bots_given_the_ca_play_a_game_over_wss() -> Result<()> {
    let dir = scratch_dir("client-tls-bots");
    let ca = test_ca("ticksync test CA")?;
    let (server, ca_file, url) = server_signed_by(&ca, &dir).await?;
    let tls = ClientTls::with_ca_file(&ca_file)?;
    let recorder = Recorder::default();
    let mut bots = tokio::task::JoinSet::new();
    for seed in [1, 2] {
        let config = BotConfig {
            games: Some(1),
            seed: Some(seed),
            timeout: WAIT,
            tls: Some(tls.clone()),
            // Drops and resumes (Connection::resume_at_with) over wss:// too.
            chaos: 0.5,
            backoff: Backoff {
                base: Duration::from_millis(5),
                max: Duration::from_millis(50),
                attempts: 10,
            },
            ..BotConfig::new(url.clone())
        };
        let bot = Bot::new(config, recorder.clone(), CancellationToken::new());
        bots.spawn(bot.run());
    }
    while let Some(done) = bots.join_next().await {
        done?.context("a bot over wss:// failed")?;
    }
    let tally = recorder.tally();
    assert_eq!(
        tally.wins + tally.losses + tally.draws,
        2,
        "both bots finished their game: {tally:?}"
    );
    assert_eq!(tally.errors, 0, "{:?}", tally.error_samples);
    // Seed 2's first draw (0.297), its first turn's chaos roll, is under 0.5: at least
    // that drop and resume happened, over wss:// with the CA.
    assert!(tally.reconnects >= 1, "no resume over wss://: {tally:?}");
    server.shutdown().await;
    Ok(())
}
