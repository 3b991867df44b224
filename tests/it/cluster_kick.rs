//! The operator's kick on a node of a cluster: a queued session leaves the cluster's global
//! queue, not only the node's own matchmaker (which a clustered node does not use).

use anyhow::{Result, ensure};
use ticksync::codec::Codec;

use crate::support::{Client, RedisServer, http_send, test_config, wait_until};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kicked_session_leaves_the_global_queue() -> Result<()> {
    let Some(redis) = RedisServer::start("cluster kick")? else {
        return Ok(());
    };
    let mut config = test_config();
    config.admin.token = Some("cluster-kick-admin-token-0123".to_string());
    let a = crate::cluster::start_node_config(&redis, "node-a", config).await?;
    let mut x = Client::connect(a.local_addr(), Codec::Bincode).await?;
    x.find_match().await?;
    wait_until(&a, |s| s.queued == 1).await?;

    let kick = format!("/admin/sessions/{}/kick", x.session_id.get());
    let bearer = [("Authorization", "Bearer cluster-kick-admin-token-0123")];
    let answer = http_send(a.local_addr(), "POST", &kick, &bearer, "").await?;
    ensure!(answer.status == 200, "{} {}", answer.status, answer.body);

    // Out of the global queue: nobody is left waiting.
    wait_until(&a, |s| s.queued == 0).await?;
    a.shutdown().await;
    Ok(())
}
