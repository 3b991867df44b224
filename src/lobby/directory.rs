//! The room directory: every open room by id and by join code, with its latest summary.
//!
//! Written by the lobby when it places a room and by the engine's [`RoomObserver`] calls
//! as rooms change and close; read for `ListRooms`, `GET /rooms` and `JoinRoom`.
//!
//! [`RoomObserver`]: crate::engine::RoomObserver

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use rand::Rng;

use super::cluster_rooms::RoomFeed;
use super::listing::{Listing, ListingCache};
use crate::cluster::rooms::PublishedRoom;
use crate::engine::RoomAddr;
use crate::protocol::{RoomId, RoomSummary};

/// Join-code alphabet: capitals and digits without the look-alikes 0/O, 1/I/L.
pub const CODE_ALPHABET: &[u8] = b"ABCDEFGHJKMNPQRSTUVWXYZ23456789";
/// Characters in a join code: 31^8 ≈ 8.5 × 10^11 codes, so that guessing one is hopeless
/// at the code-attempt limits (see [`crate::limits::CodeGuard`]).
pub const CODE_LENGTH: usize = 8;

#[derive(Debug)]
struct Entry {
    addr: RoomAddr,
    code: String,
    summary: Option<RoomSummary>,
}

#[derive(Debug, Default)]
struct Tables {
    /// By the server's own ids and codes (a client's code only looks one up): foldhash,
    /// not SipHash.
    by_id: foldhash::HashMap<RoomId, Entry>,
    by_code: foldhash::HashMap<String, RoomId>,
}

/// Open rooms, by id and by code, and the [`Listing`] clients read.
#[derive(Debug)]
pub struct Directory {
    tables: Mutex<Tables>,
    /// Set when a summary changed since the listing was built.
    dirty: AtomicBool,
    listing: ListingCache,
    /// In a cluster: where changes are noted for the publisher (`cluster_rooms.rs`).
    feed: OnceLock<Arc<RoomFeed>>,
    /// In a cluster: the other live nodes' rooms, as last read from Redis.
    remote: Mutex<Vec<RoomSummary>>,
}

impl Default for Directory {
    fn default() -> Self {
        Directory::new(Duration::ZERO)
    }
}

/// Normalises a code as typed by a person: trimmed, upper case.
pub(super) fn normalise_code(code: &str) -> String {
    code.trim().to_ascii_uppercase()
}

impl Directory {
    /// An empty directory whose listing is rebuilt at most once per `rebuild_interval`.
    pub fn new(rebuild_interval: Duration) -> Directory {
        Directory {
            tables: Mutex::default(),
            dirty: AtomicBool::new(true),
            listing: ListingCache::new(rebuild_interval),
            feed: OnceLock::new(),
            remote: Mutex::default(),
        }
    }

    /// Publishes this directory to a cluster through `feed` (once; later calls do nothing).
    pub(super) fn set_feed(&self, feed: Arc<RoomFeed>) {
        let _ = self.feed.set(feed);
    }

    /// The cluster feed, with a cluster.
    pub(super) fn feed(&self) -> Option<&Arc<RoomFeed>> {
        self.feed.get()
    }

    /// Replaces the other nodes' rooms (read from the cluster) in the listing.
    pub(super) fn set_remote(&self, rooms: Vec<RoomSummary>) {
        let mut remote = self.remote.lock().unwrap_or_else(|e| e.into_inner());
        if *remote != rooms {
            *remote = rooms;
            self.changed();
        }
    }

    /// The rooms to publish: those of `ids` still open with a summary. All open rooms
    /// with a summary when `ids` is `None`.
    pub(super) fn published(&self, ids: Option<&[RoomId]>) -> Vec<PublishedRoom> {
        let tables = self.lock();
        let publish = |e: &Entry| {
            e.summary.clone().map(|summary| PublishedRoom {
                summary,
                code: e.code.clone(),
            })
        };
        match ids {
            Some(ids) => ids
                .iter()
                .filter_map(|id| tables.by_id.get(id).and_then(publish))
                .collect(),
            None => tables.by_id.values().filter_map(publish).collect(),
        }
    }

    /// A fresh join code no room here has (not registered).
    pub(super) fn fresh_code(&self) -> String {
        let tables = self.lock();
        fresh_code(&tables)
    }

    /// Registers a room being created with a code chosen before (claimed in the
    /// cluster); `false`, registering nothing, if a room here has that code.
    pub(super) fn register_with(&self, addr: RoomAddr, code: &str) -> bool {
        let mut tables = self.lock();
        if tables.by_code.contains_key(code) {
            return false;
        }
        tables.by_code.insert(code.to_string(), addr.id);
        tables.by_id.insert(
            addr.id,
            Entry {
                addr,
                code: code.to_string(),
                summary: None,
            },
        );
        true
    }

    fn changed(&self) {
        self.dirty.store(true, Ordering::Release);
    }

    /// The rooms as clients see them: the cached listing, rebuilt first if something
    /// changed and the last build is at least one rebuild interval old.
    pub fn listing(&self) -> Arc<Listing> {
        self.listing.get(
            || self.dirty.swap(false, Ordering::AcqRel),
            || Listing::new(self.list_all()),
        )
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a room being created and returns its new, unique join code.
    pub fn register(&self, addr: RoomAddr) -> String {
        let mut tables = self.lock();
        let code = fresh_code(&tables);
        tables.by_code.insert(code.clone(), addr.id);
        tables.by_id.insert(
            addr.id,
            Entry {
                addr,
                code: code.clone(),
                summary: None,
            },
        );
        code
    }

    /// The room a join code names.
    pub fn find_code(&self, code: &str) -> Option<RoomAddr> {
        if !crate::auth::text::is_plausible_code(code.trim()) {
            return None;
        }
        let tables = self.lock();
        let id = tables.by_code.get(&normalise_code(code))?;
        tables.by_id.get(id).map(|e| e.addr)
    }

    /// Stores a room's latest summary.
    pub fn update(&self, summary: RoomSummary) {
        let id = summary.room_id;
        if let Some(entry) = self.lock().by_id.get_mut(&id) {
            entry.summary = Some(summary);
            self.changed();
            if let Some(feed) = self.feed.get() {
                feed.changed(id);
            }
        }
    }

    /// Whether room `id` is open here (registered, not yet removed).
    pub(super) fn contains(&self, id: RoomId) -> bool {
        self.lock().by_id.contains_key(&id)
    }

    /// Forgets a closed room.
    pub fn remove(&self, id: RoomId) {
        let mut tables = self.lock();
        if let Some(entry) = tables.by_id.remove(&id) {
            tables.by_code.remove(&entry.code);
            self.changed();
            if let Some(feed) = self.feed.get() {
                feed.closed(id, entry.code);
            }
        }
    }

    /// Every room's summary here, by room id, read from the tables now: O(rooms).
    /// Clients read [`Directory::listing`] instead, which adds the other nodes' rooms
    /// in a cluster. In a cluster each summary names this node.
    pub fn list(&self) -> Vec<RoomSummary> {
        let node = self
            .feed
            .get()
            .map(|feed| feed.cluster.node_id().to_string());
        let mut rooms: Vec<RoomSummary> = self
            .lock()
            .by_id
            .values()
            .filter_map(|e| e.summary.clone())
            .map(|mut summary| {
                summary.node.clone_from(&node);
                summary
            })
            .collect();
        rooms.sort_by_key(|r| r.room_id);
        rooms
    }

    /// This node's rooms and, in a cluster, every other live node's, by room id (then
    /// node).
    fn list_all(&self) -> Vec<RoomSummary> {
        let mut rooms = self.list();
        rooms.extend(
            self.remote
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .iter()
                .cloned(),
        );
        rooms.sort_by(|a, b| (a.room_id, &a.node).cmp(&(b.room_id, &b.node)));
        rooms
    }

    /// Open rooms.
    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Whether no room is open.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A random code no room in `tables` has.
fn fresh_code(tables: &Tables) -> String {
    let mut rng = rand::rng();
    loop {
        let code: String = (0..CODE_LENGTH)
            .map(|_| char::from(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())]))
            .collect();
        if !tables.by_code.contains_key(&code) {
            return code;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unambiguous_and_found_case_insensitively() {
        let directory = Directory::default();
        let addr = RoomAddr {
            id: RoomId::new(7),
            shard: 0,
        };
        let code = directory.register(addr);
        assert_eq!(code.len(), CODE_LENGTH);
        assert!(code.bytes().all(|b| CODE_ALPHABET.contains(&b)));
        assert!(!code.contains(['0', 'O', '1', 'I', 'L']));
        assert_eq!(directory.find_code(&code.to_lowercase()), Some(addr));
        directory.remove(RoomId::new(7));
        assert_eq!(directory.find_code(&code), None);
        assert!(directory.is_empty());
    }

    fn summary(id: u64, node: Option<&str>) -> RoomSummary {
        RoomSummary {
            room_id: RoomId::new(id),
            game: "tictactoe".into(),
            status: crate::protocol::RoomStatus::Waiting,
            players: 1,
            seats: 2,
            spectators: 0,
            public: false,
            code: None,
            node: node.map(str::to_string),
        }
    }

    #[test]
    fn the_listing_merges_other_nodes_rooms_by_room_id() {
        let directory = Directory::default();
        let addr = RoomAddr {
            id: RoomId::new(5),
            shard: 0,
        };
        let code = directory.fresh_code();
        assert!(directory.register_with(addr, &code));
        // A code taken here cannot be registered again.
        let other = RoomAddr {
            id: RoomId::new(6),
            shard: 0,
        };
        assert!(!directory.register_with(other, &code));
        assert_eq!(directory.find_code(&code), Some(addr));
        // Not published until the room has a summary.
        assert!(directory.published(None).is_empty());
        directory.update(summary(5, None));
        let published = directory.published(Some(&[RoomId::new(5), RoomId::new(6)]));
        assert_eq!(published.len(), 1);
        assert_eq!(published[0].code, code);
        directory.set_remote(vec![summary(9, Some("node-b")), summary(2, Some("node-c"))]);
        let listing = directory.listing();
        let rows: Vec<(u64, Option<&str>)> = listing
            .rooms()
            .iter()
            .map(|r| (r.room_id.get(), r.node.as_deref()))
            .collect();
        assert_eq!(rows, [(2, Some("node-c")), (5, None), (9, Some("node-b"))]);
        // The local list is this node's rooms only.
        assert_eq!(directory.list().len(), 1);
        directory.set_remote(Vec::new());
        assert_eq!(directory.listing().rooms().len(), 1);
    }
}
