//! nginx in front of ticksync, with the configuration we ship (`deploy/nginx/ticksync.conf`,
//! loaded as it is with only its addresses, ports and certificate paths replaced) and
//! Debian's nginx: a whole game over `wss://` through the proxy (TLS ends at nginx, the
//! upgrade passes through), and the per-IP limit counting the address nginx appends to
//! `X-Forwarded-For` (clients connect to nginx from 127.0.0.2 and 127.0.0.3; ticksync
//! sees every connection come from nginx's 127.0.0.1).
//!
//! Without nginx installed the test prints `SKIPPED: ...` and passes, unless
//! `TICKSYNC_REQUIRE_SERVICES=1` (as in `.ci/run`, which installs it).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail, ensure};
use rustls::pki_types::CertificateDer;
use ticksync::codec::Codec;
use ticksync::protocol::EndReason;
use ticksync::transport::guard::GuardConfig;
use tokio::net::TcpStream;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite;

use crate::support::{
    Client, WAIT, connector, play, scratch_dir, seated, start, test_config, ws_request,
};

/// The configuration we ship.
const SHIPPED: &str = include_str!("../../deploy/nginx/ticksync.conf");

const NGINX: &str = "/usr/sbin/nginx";

/// A running nginx, stopped when dropped.
struct Nginx {
    child: Child,
    dir: PathBuf,
}

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Nginx {
    fn error_log(&self) -> String {
        std::fs::read_to_string(self.dir.join("error.log")).unwrap_or_default()
    }
}

/// `SHIPPED` with its upstream nodes, listening addresses and certificate replaced.
fn configured(nodes: &[SocketAddr], listen: &[SocketAddr], dir: &Path) -> Result<String> {
    let mut conf = SHIPPED.to_string();
    let mut replace = |from: &str, to: String| -> Result<()> {
        ensure!(
            conf.contains(from),
            "deploy/nginx/ticksync.conf no longer has {from:?}"
        );
        conf = conf.replace(from, &to);
        Ok(())
    };
    replace(
        "    server 127.0.0.1:7777;\n",
        nodes.iter().map(|n| format!("    server {n};\n")).collect(),
    )?;
    replace(
        "    listen 443 ssl;\n    listen [::]:443 ssl;\n",
        listen
            .iter()
            .map(|l| format!("    listen {l} ssl;\n"))
            .collect(),
    )?;
    replace(
        "/etc/ssl/ticksync/fullchain.pem",
        dir.join("cert.pem").display().to_string(),
    )?;
    replace(
        "/etc/ssl/ticksync/privkey.pem",
        dir.join("key.pem").display().to_string(),
    )?;
    Ok(conf)
}

/// Starts nginx in front of `nodes`, serving TLS with `cert` on `listen`; `None` (after a
/// loud SKIPPED line) when nginx is not installed and services are not required.
async fn start_nginx(
    tag: &str,
    nodes: &[SocketAddr],
    listen: &[SocketAddr],
    cert: &rcgen::CertifiedKey<rcgen::KeyPair>,
) -> Result<Option<Nginx>> {
    if !Path::new(NGINX).exists() {
        if std::env::var("TICKSYNC_REQUIRE_SERVICES").as_deref() == Ok("1") {
            bail!("TICKSYNC_REQUIRE_SERVICES=1 but nginx is not installed ({NGINX})");
        }
        eprintln!("SKIPPED: {tag}: nginx is not installed (apt-get install nginx)");
        return Ok(None);
    }
    let dir = scratch_dir(tag);
    std::fs::write(dir.join("cert.pem"), cert.cert.pem())?;
    std::fs::write(dir.join("key.pem"), cert.signing_key.serialize_pem())?;
    std::fs::write(dir.join("ticksync.conf"), configured(nodes, listen, &dir)?)?;
    // nginx's own frame: in the foreground, its files in the scratch folder. As root,
    // workers would otherwise run as `nobody`, who cannot use the scratch folder.
    // SAFETY: geteuid has no preconditions.
    let user = if unsafe { libc::geteuid() } == 0 {
        "user root;"
    } else {
        ""
    };
    let d = dir.display();
    std::fs::write(
        dir.join("nginx.conf"),
        format!(
            "{user}\ndaemon off;\nworker_processes 1;\npid {d}/nginx.pid;\n\
             error_log {d}/error.log warn;\nevents {{ worker_connections 256; }}\n\
             http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  \
             proxy_temp_path {d}/proxy;\n  fastcgi_temp_path {d}/fastcgi;\n  \
             uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n  \
             include {d}/ticksync.conf;\n}}\n"
        ),
    )?;
    let child = Command::new(NGINX)
        .arg("-p")
        .arg(&dir)
        .arg("-c")
        .arg(dir.join("nginx.conf"))
        .arg("-e")
        .arg(dir.join("error.log"))
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .context("start nginx")?;
    let mut nginx = Nginx { child, dir };
    // Ready once every address takes connections (or nginx has exited: its log says why).
    let deadline = Instant::now() + WAIT;
    for addr in listen {
        while TcpStream::connect(addr).await.is_err() {
            if let Some(status) = nginx.child.try_wait()? {
                bail!("nginx exited ({status}): {}", nginx.error_log());
            }
            ensure!(
                Instant::now() < deadline,
                "nginx did not listen on {addr}: {}",
                nginx.error_log()
            );
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    }
    Ok(Some(nginx))
}

/// Connects from `from` through nginx at `addr` over `wss://` (trusting `cert`), says
/// Hello.
async fn through(
    from: &str,
    addr: SocketAddr,
    codec: Codec,
    cert: &CertificateDer<'static>,
) -> Result<Client, tungstenite::Error> {
    let request = ws_request("wss", addr, "/").map_err(|_| tungstenite::Error::AlreadyClosed)?;
    let from = from.parse().ok();
    match Client::connect_request_from(request, codec, Some(connector(cert)), from).await {
        Ok(mut client) => {
            client.hello(None).await.expect("Welcome through nginx");
            Ok(client)
        }
        Err(error) => match error.downcast::<tungstenite::Error>() {
            Ok(error) => Err(error),
            Err(other) => panic!("connect through nginx failed: {other:#}"),
        },
    }
}

#[tokio::test]
async fn a_game_through_nginx_with_tls_and_the_forwarded_address_counted() -> Result<()> {
    let mut config = test_config();
    config.security.guard = GuardConfig {
        max_connections_per_ip: 2,
        trust_proxy: true,
        ..GuardConfig::unlimited()
    };
    let server = start(config).await;
    let front: SocketAddr = "127.0.0.1:0".parse()?;
    let front = std::net::TcpListener::bind(front)?.local_addr()?;
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()])?;
    let der = cert.cert.der().clone();
    let Some(nginx) = start_nginx("nginx", &[server.local_addr()], &[front], &cert).await? else {
        server.shutdown().await;
        return Ok(());
    };

    // A whole game through the proxy.
    let mut a = through("127.0.0.2", front, Codec::Bincode, &der).await?;
    let mut b = through("127.0.0.2", front, Codec::MsgPack, &der).await?;
    a.find_match().await?;
    b.find_match().await?;
    let (seat_a, seat_b) = (a.match_found().await?.seat, b.match_found().await?.seat);
    let (mut x, mut o) = seated(a, seat_a, b, seat_b)?;
    play(&mut x, &mut o, &[0, 3, 1, 4, 2]).await?;
    assert_eq!(x.game_over().await?, (Some(0), EndReason::Win));
    assert_eq!(o.game_over().await?, (Some(0), EndReason::Win));

    // Two clients hold 127.0.0.2's share; a third from there is refused by ticksync
    // (nginx passes the 429 on), while one from 127.0.0.3 is let in: ticksync counted the
    // address nginx appended, not nginx's own (127.0.0.1 for every connection).
    match through("127.0.0.2", front, Codec::MsgPack, &der).await {
        Err(tungstenite::Error::Http(response)) => {
            assert_eq!(response.status().as_u16(), 429, "{}", nginx.error_log());
        }
        Err(other) => bail!("expected 429 through nginx, got {other}"),
        Ok(_) => bail!("a third client from 127.0.0.2 got in past a limit of 2"),
    }
    let other = through("127.0.0.3", front, Codec::MsgPack, &der)
        .await
        .context("a client from 127.0.0.3 was refused")?;
    other.close().await?;
    x.close().await?;
    o.close().await?;
    drop(nginx);
    server.shutdown().await;
    Ok(())
}
