//! The room directory: every open room by id and by join code, with its latest summary.
//!
//! Written by the lobby when it places a room and by the engine's [`RoomObserver`] calls
//! as rooms change and close; read for `ListRooms`, `GET /rooms` and `JoinRoom`.
//!
//! [`RoomObserver`]: crate::engine::RoomObserver

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use rand::Rng;

use super::listing::{Listing, ListingCache};
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
    by_id: HashMap<RoomId, Entry>,
    by_code: HashMap<String, RoomId>,
}

/// Open rooms, by id and by code, and the [`Listing`] clients read.
#[derive(Debug)]
pub struct Directory {
    tables: Mutex<Tables>,
    /// Set when a summary changed since the listing was built.
    dirty: AtomicBool,
    listing: ListingCache,
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
        }
    }

    fn changed(&self) {
        self.dirty.store(true, Ordering::Release);
    }

    /// The rooms as clients see them: the cached listing, rebuilt first if something
    /// changed and the last build is at least one rebuild interval old.
    pub fn listing(&self) -> Arc<Listing> {
        self.listing.get(
            || self.dirty.swap(false, Ordering::AcqRel),
            || Listing::new(self.list()),
        )
    }

    fn lock(&self) -> MutexGuard<'_, Tables> {
        self.tables.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Registers a room being created and returns its new, unique join code.
    pub fn register(&self, addr: RoomAddr) -> String {
        let mut tables = self.lock();
        let mut rng = rand::rng();
        let code = loop {
            let code: String = (0..CODE_LENGTH)
                .map(|_| char::from(CODE_ALPHABET[rng.random_range(0..CODE_ALPHABET.len())]))
                .collect();
            if !tables.by_code.contains_key(&code) {
                break code;
            }
        };
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
    pub fn update(&self, summary: &RoomSummary) {
        if let Some(entry) = self.lock().by_id.get_mut(&summary.room_id) {
            entry.summary = Some(summary.clone());
            self.changed();
        }
    }

    /// Forgets a closed room.
    pub fn remove(&self, id: RoomId) {
        let mut tables = self.lock();
        if let Some(entry) = tables.by_id.remove(&id) {
            tables.by_code.remove(&entry.code);
            self.changed();
        }
    }

    /// Every room's summary, by room id, read from the tables now: O(rooms). Clients read
    /// [`Directory::listing`] instead.
    pub fn list(&self) -> Vec<RoomSummary> {
        let mut rooms: Vec<RoomSummary> = self
            .lock()
            .by_id
            .values()
            .filter_map(|e| e.summary.clone())
            .collect();
        rooms.sort_by_key(|r| r.room_id);
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
}
