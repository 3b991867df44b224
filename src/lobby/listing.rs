//! The room directory as clients read it: a sorted copy of every room's summary, rebuilt
//! at most once per tick, with its most-asked-for encodings made once per build.
//!
//! `ListRooms`, `ListRoomsAfter` and `GET /rooms` read a [`Listing`] instead of walking the
//! directory's tables: a page is a binary search and a slice, and the first page (what
//! `ListRooms` and a plain `GET /rooms` ask for) is encoded once per codec per build and
//! then shared as `Bytes`. So asking for the directory costs O(page), not O(rooms), and
//! never takes the directory's lock.

use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::{Duration, Instant};

use bytes::Bytes;

use crate::codec::Codec;
use crate::protocol::{MAX_LISTED_ROOMS, RoomId, RoomSummary, ServerMsg};

/// One build of the directory, sorted by room id (oldest first).
#[derive(Debug, Default)]
pub struct Listing {
    rooms: Vec<RoomSummary>,
    frames: [OnceLock<Bytes>; 2],
    json: OnceLock<Bytes>,
}

impl Listing {
    /// A listing of `rooms` (in any order).
    pub fn new(mut rooms: Vec<RoomSummary>) -> Listing {
        rooms.sort_by_key(|r| r.room_id);
        Listing {
            rooms,
            ..Listing::default()
        }
    }

    /// Every room.
    pub fn rooms(&self) -> &[RoomSummary] {
        &self.rooms
    }

    /// Up to `limit` rooms (at most [`MAX_LISTED_ROOMS`]) whose id is above `after`.
    pub fn page(&self, after: RoomId, limit: usize) -> &[RoomSummary] {
        let start = self.rooms.partition_point(|r| r.room_id <= after);
        let rest = &self.rooms[start..];
        &rest[..rest.len().min(limit.min(MAX_LISTED_ROOMS))]
    }

    /// The cursor for the page after `page`: its last room id, if more rooms follow it.
    pub fn next_after(&self, page: &[RoomSummary]) -> Option<RoomId> {
        let last = page.last()?.room_id;
        (self.rooms.last()?.room_id > last).then_some(last)
    }

    /// The first page as a `RoomList` frame in `codec`, encoded once per build.
    pub fn first_page_frame(&self, codec: Codec) -> Bytes {
        self.frames[codec.index()]
            .get_or_init(|| {
                let msg = ServerMsg::RoomList {
                    rooms: self.page(RoomId::new(0), MAX_LISTED_ROOMS).to_vec(),
                };
                codec.encode(&msg).unwrap_or_default()
            })
            .clone()
    }

    /// A page as the `GET /rooms` JSON body: `{"rooms": [...], "next": id or null}`.
    pub fn page_json(&self, after: RoomId, limit: usize) -> Bytes {
        let page = self.page(after, limit);
        let body = serde_json::json!({ "rooms": page, "next": self.next_after(page) });
        Bytes::from(body.to_string())
    }

    /// The first page's JSON, encoded once per build.
    pub fn first_page_json(&self) -> Bytes {
        self.json
            .get_or_init(|| self.page_json(RoomId::new(0), MAX_LISTED_ROOMS))
            .clone()
    }
}

/// The latest [`Listing`] and when it was built.
#[derive(Debug)]
pub(crate) struct ListingCache {
    interval: Duration,
    latest: Mutex<(Option<Instant>, std::sync::Arc<Listing>)>,
}

impl ListingCache {
    /// A cache rebuilt at most once per `interval`.
    pub(crate) fn new(interval: Duration) -> ListingCache {
        ListingCache {
            interval,
            latest: Mutex::new((None, std::sync::Arc::default())),
        }
    }

    fn lock(&self) -> MutexGuard<'_, (Option<Instant>, std::sync::Arc<Listing>)> {
        self.latest.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The cached listing, rebuilt with `build` first if `stale` and the last build is at
    /// least one interval old. `stale` is called (and cleared by the caller) only then.
    pub(crate) fn get(
        &self,
        stale: impl FnOnce() -> bool,
        build: impl FnOnce() -> Listing,
    ) -> std::sync::Arc<Listing> {
        let mut latest = self.lock();
        let now = Instant::now();
        let due = latest
            .0
            .is_none_or(|built| now.duration_since(built) >= self.interval);
        if due && stale() {
            *latest = (Some(now), std::sync::Arc::new(build()));
        }
        latest.1.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::RoomStatus;

    fn room(room_id: u64) -> RoomSummary {
        RoomSummary {
            room_id: RoomId::new(room_id),
            game: "tictactoe".into(),
            status: RoomStatus::Waiting,
            players: 1,
            seats: 2,
            spectators: 0,
            public: false,
            code: None,
            node: None,
        }
    }

    #[test]
    fn pages_follow_the_cursor_and_end() {
        let listing = Listing::new((1..=250).rev().map(room).collect());
        let first = listing.page(RoomId::new(0), 1000);
        assert_eq!(first.len(), MAX_LISTED_ROOMS);
        assert_eq!(first[0].room_id, RoomId::new(1));
        let after = listing.next_after(first).unwrap();
        assert_eq!(after, RoomId::new(100));
        let third = listing.page(RoomId::new(200), 100);
        assert_eq!(third.len(), 50);
        assert_eq!(listing.next_after(third), None);
        assert!(listing.page(RoomId::new(250), 10).is_empty());
        assert_eq!(listing.page(RoomId::new(7), 2)[0].room_id, RoomId::new(8));
        let frame = listing.first_page_frame(Codec::Bincode);
        let decoded: ServerMsg = Codec::Bincode.decode(&frame).unwrap();
        assert_eq!(
            decoded,
            ServerMsg::RoomList {
                rooms: first.to_vec()
            }
        );
        let json: serde_json::Value = serde_json::from_slice(&listing.first_page_json()).unwrap();
        assert_eq!(json["next"], 100);
        assert_eq!(json["rooms"].as_array().unwrap().len(), 100);
    }

    #[test]
    fn the_cache_rebuilds_at_most_once_per_interval() {
        let cache = ListingCache::new(Duration::from_secs(3600));
        let mut builds = 0;
        for _ in 0..3 {
            cache.get(
                || true,
                || {
                    builds += 1;
                    Listing::default()
                },
            );
        }
        assert_eq!(builds, 1, "built again within the interval");
        let cache = ListingCache::new(Duration::ZERO);
        let listing = cache.get(|| true, || Listing::new(vec![room(3)]));
        assert_eq!(listing.rooms().len(), 1);
        let again = cache.get(|| false, || unreachable!("not stale"));
        assert!(std::sync::Arc::ptr_eq(&listing, &again));
    }
}
