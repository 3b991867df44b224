//! nginx in front of ticksync, with the configuration we ship (`deploy/nginx/ticksync.conf`,
//! loaded as it is with only its addresses, ports and certificate paths replaced) and
//! Debian's nginx: a whole game over `wss://` through the proxy (TLS ends at nginx, the
//! upgrade passes through), and the per-IP limit counting the address nginx appends to
//! `X-Forwarded-For` (clients connect to nginx from 127.0.0.2 and 127.0.0.3; ticksync
//! sees every connection come from nginx's 127.0.0.1).
//!
//! In front of a cluster of two nodes (each also on its own `/node/<id>/` path, which is its
//! `--public-url`): two players who came in on different nodes are matched, the one on the
//! other node is redirected to the host's path through nginx, and they play to the end.
//!
//! Without nginx (or, for the cluster, redis-server) installed a test prints `SKIPPED: ...`
//! and passes, unless `TICKSYNC_REQUIRE_SERVICES=1` (as in `.ci/run`, which installs both).

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, Result, bail, ensure};
use rustls::pki_types::CertificateDer;
use ticksync::cluster::ClusterConfig;
use ticksync::codec::Codec;
use ticksync::protocol::{ClientMsg, EndReason, PROTOCOL_VERSION, ServerMsg};
use ticksync::server::Server;
use ticksync::transport::guard::GuardConfig;
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;
use tokio_tungstenite::tungstenite;

use crate::support::{
    Client, RedisServer, WAIT, connector, play, scratch_dir, seated, start, test_config, ws_request,
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

/// `SHIPPED` with its upstream nodes (id and address: each also gets its `/node/<id>/`
/// location), listening addresses and certificate replaced.
fn configured(nodes: &[(&str, SocketAddr)], listen: &[SocketAddr], dir: &Path) -> Result<String> {
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
        nodes
            .iter()
            .map(|(_, n)| format!("    server {n};\n"))
            .collect(),
    )?;
    replace(
        "    location /node/a/ {\n        proxy_pass http://127.0.0.1:7777/;\n    }\n",
        nodes
            .iter()
            .map(|(id, n)| {
                format!("    location /node/{id}/ {{\n        proxy_pass http://{n}/;\n    }}\n")
            })
            .collect(),
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
    nodes: &[(&str, SocketAddr)],
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
    let Some(nginx) = start_nginx("nginx", &[("a", server.local_addr())], &[front], &cert).await?
    else {
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

/// Connects to `url` (a `wss://` URL through nginx, trusting `cert`) without a Hello.
async fn open_url(url: &str, codec: Codec, cert: &CertificateDer<'static>) -> Result<Client> {
    use tokio_tungstenite::tungstenite::client::IntoClientRequest;
    Client::connect_request(url.into_client_request()?, codec, Some(connector(cert))).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cluster_behind_nginx_redirects_through_it() -> Result<()> {
    let Some(redis) = RedisServer::start("a_cluster_behind_nginx_redirects_through_it")? else {
        return Ok(());
    };
    let front = std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?;
    // Two nodes, each reachable through nginx on its own path, which is its public URL.
    let mut nodes = Vec::new();
    for id in ["a", "b"] {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let mut cluster = ClusterConfig::new(
            &redis.url(),
            &format!("wss://{front}/node/{id}/"),
            b"the cluster secret of the nginx test",
        )
        .map_err(anyhow::Error::msg)?;
        cluster.node_id = id.to_string();
        let mut config = test_config();
        config.cluster = Some(cluster);
        config.security.guard = GuardConfig {
            trust_proxy: true,
            ..GuardConfig::unlimited()
        };
        nodes.push(Server::open(listener, config).await?);
    }
    let addrs: Vec<(&str, SocketAddr)> =
        vec![("a", nodes[0].local_addr()), ("b", nodes[1].local_addr())];
    let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".into()])?;
    let der = cert.cert.der().clone();
    let Some(nginx) = start_nginx("nginx-cluster", &addrs, &[front], &cert).await? else {
        for node in nodes {
            node.shutdown().await;
        }
        return Ok(());
    };

    // New connections through `/` reach a node (nginx's upstream).
    let mut anyone = open_url(&format!("wss://{front}/"), Codec::MsgPack, &der).await?;
    anyone.hello(None).await?;
    anyone.close().await?;

    // One player on each node, through each node's path.
    let mut one = open_url(&format!("wss://{front}/node/a/"), Codec::Bincode, &der).await?;
    one.hello(None).await?;
    let mut two = open_url(&format!("wss://{front}/node/b/"), Codec::MsgPack, &der).await?;
    two.hello(None).await?;
    // Wait until both nodes' loads show one connection each (the heartbeat), so the
    // placement is the documented tie-break (the lower id hosts: a).
    crate::cluster::wait_for_loads(&nodes[0], 2, 1).await?;
    one.find_match().await?;
    two.find_match().await?;
    let (url, ticket) = two
        .recv_until(|m| match m {
            ServerMsg::Redirect { url, ticket } => Some((url.clone(), ticket.clone())),
            _ => None,
        })
        .await?;
    assert_eq!(
        url,
        format!("wss://{front}/node/a/"),
        "the host's path through nginx"
    );
    two.close().await?;
    // The redirect, followed through nginx: Hello with the ticket takes the reserved seat.
    let mut moved = open_url(&url, Codec::MsgPack, &der).await?;
    moved
        .send(&ClientMsg::Hello {
            version: PROTOCOL_VERSION,
            resume_token: None,
            last_event_seq: 0,
            auth_token: None,
            ticket: Some(ticket),
        })
        .await?;
    ensure!(
        matches!(moved.recv().await?, ServerMsg::Welcome { .. }),
        "no Welcome for the ticket: {}",
        nginx.error_log()
    );
    let seat_one = one.match_found().await?.seat;
    let seat_two = moved
        .recv_until(|m| match m {
            ServerMsg::RoomJoined(joined) => Some(joined.seat),
            _ => None,
        })
        .await?;
    let (mut x, mut o) = seated(one, seat_one, moved, seat_two)?;
    play(&mut x, &mut o, &[0, 3, 1, 4, 2]).await?;
    assert_eq!(x.game_over().await?, (Some(0), EndReason::Win));
    assert_eq!(o.game_over().await?, (Some(0), EndReason::Win));
    x.close().await?;
    o.close().await?;
    drop(nginx);
    for node in nodes {
        node.shutdown().await;
    }
    Ok(())
}
