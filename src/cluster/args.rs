//! The `ticksync serve` options that join a cluster.

use super::{ClusterConfig, TICKET_TTL, TicketKey, random_node_id};

/// `--cluster`, `--public-url`, `--node-id`, `--cluster-secret`.
#[derive(Debug, Clone, clap::Args)]
pub struct ClusterArgs {
    /// Join a cluster through this Redis: `redis://HOST:PORT`. Needs --public-url and
    /// --cluster-secret. Off when unset (a single node).
    #[arg(long, env = "TICKSYNC_CLUSTER", hide_env_values = true)]
    pub cluster: Option<String>,
    /// With --cluster: the URL clients use to reach this node, e.g.
    /// `wss://node-a.example/` (sent to players redirected here).
    #[arg(long, env = "TICKSYNC_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// With --cluster: this node's id, unique in the cluster (1 to 64 of A-Z a-z 0-9 _ -).
    /// Random when unset.
    #[arg(long, env = "TICKSYNC_NODE_ID")]
    pub node_id: Option<String>,
    /// With --cluster: the secret (16 bytes or more, the same on every node) that signs
    /// seat tickets. Prefer the environment variable: command lines are visible to other
    /// local users.
    #[arg(long, env = "TICKSYNC_CLUSTER_SECRET", hide_env_values = true)]
    pub cluster_secret: Option<String>,
}

impl ClusterArgs {
    /// The cluster configuration these options give: `None` without `--cluster`.
    ///
    /// # Errors
    /// A sentence naming the missing or unusable option.
    pub fn config(&self) -> Result<Option<ClusterConfig>, String> {
        let Some(redis_url) = &self.cluster else {
            for (given, option) in [
                (self.public_url.is_some(), "--public-url"),
                (self.node_id.is_some(), "--node-id"),
                (self.cluster_secret.is_some(), "--cluster-secret"),
            ] {
                if given {
                    return Err(format!(
                        "{option} is only used with --cluster redis://HOST:PORT"
                    ));
                }
            }
            return Ok(None);
        };
        let public_url = self.public_url.clone().ok_or(
            "--cluster needs --public-url (the ws:// or wss:// URL clients use to reach this node)",
        )?;
        let secret = self.cluster_secret.as_deref().ok_or(
            "--cluster needs --cluster-secret or TICKSYNC_CLUSTER_SECRET (the same on every node)",
        )?;
        let config = ClusterConfig {
            redis_url: redis_url.clone(),
            public_url,
            node_id: self.node_id.clone().unwrap_or_else(random_node_id),
            key: TicketKey::new(secret.as_bytes())?,
            ticket_ttl: TICKET_TTL,
        };
        config.check()?;
        Ok(Some(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(
        cluster: Option<&str>,
        url: Option<&str>,
        id: Option<&str>,
        secret: Option<&str>,
    ) -> ClusterArgs {
        ClusterArgs {
            cluster: cluster.map(String::from),
            public_url: url.map(String::from),
            node_id: id.map(String::from),
            cluster_secret: secret.map(String::from),
        }
    }

    const SECRET: &str = "sixteen bytes or more";

    #[test]
    fn no_cluster_is_a_single_node() {
        assert!(args(None, None, None, None).config().unwrap().is_none());
        let stray = args(None, Some("ws://a:1/"), None, None)
            .config()
            .unwrap_err();
        assert!(
            stray.contains("--public-url is only used with --cluster"),
            "{stray}"
        );
    }

    #[test]
    fn a_cluster_needs_a_public_url_and_a_secret() {
        let r = Some("redis://127.0.0.1:6379");
        let no_url = args(r, None, None, Some(SECRET)).config().unwrap_err();
        assert!(no_url.contains("needs --public-url"), "{no_url}");
        let no_secret = args(r, Some("ws://a:1/"), None, None).config().unwrap_err();
        assert!(no_secret.contains("needs --cluster-secret"), "{no_secret}");
        let short = args(r, Some("ws://a:1/"), None, Some("short"))
            .config()
            .unwrap_err();
        assert!(short.contains("at least 16 bytes"), "{short}");
        let bad_url = args(r, Some("http://a/"), None, Some(SECRET))
            .config()
            .unwrap_err();
        assert!(bad_url.contains("ws:// or wss://"), "{bad_url}");
        let bad_redis = args(
            Some("127.0.0.1:6379"),
            Some("ws://a:1/"),
            None,
            Some(SECRET),
        )
        .config()
        .unwrap_err();
        assert!(bad_redis.contains("redis://HOST:PORT"), "{bad_redis}");
        let bad_id = args(r, Some("ws://a:1/"), Some("a b"), Some(SECRET))
            .config()
            .unwrap_err();
        assert!(bad_id.contains("--node-id"), "{bad_id}");
    }

    #[test]
    fn node_ids_default_to_random_ones() {
        let r = Some("redis://127.0.0.1:6379");
        let a = args(r, Some("wss://a.example/"), None, Some(SECRET))
            .config()
            .unwrap()
            .unwrap();
        let b = args(r, Some("wss://a.example/"), None, Some(SECRET))
            .config()
            .unwrap()
            .unwrap();
        assert!(super::super::valid_node_id(&a.node_id));
        assert_ne!(a.node_id, b.node_id);
        let named = args(
            r,
            Some("ws://127.0.0.1:7878/"),
            Some("node-a"),
            Some(SECRET),
        )
        .config()
        .unwrap()
        .unwrap();
        assert_eq!(named.node_id, "node-a");
    }
}
