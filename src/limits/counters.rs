//! Counters of every limit hit, by reason: plain atomics, read as `(name, labels, value)`
//! rows so that any metrics exporter can register them.

use std::sync::atomic::{AtomicU64, Ordering};

/// One counter reading: metric name, label pairs, value.
pub type CounterRow = (&'static str, Vec<(&'static str, &'static str)>, u64);

/// Why a limit was hit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LimitReason {
    /// A message dropped: over the connection's messages-per-second bucket.
    Messages,
    /// A message dropped: over the connection's bytes-per-second bucket.
    Bytes,
    /// An input refused: the connection's share of its shard's inbox was full.
    InboxShare,
    /// A connection closed with 1008: it kept flooding past the drop budget.
    Flood,
    /// A `JoinRoom` refused unanswered: too many failed code attempts lately.
    CodeAttemptsLimited,
    /// A connection closed with 4020: too many failed code attempts in all.
    CodeGuessClose,
    /// A `ListRooms` refused with `RateLimited`.
    ListRooms,
    /// A `GET /rooms` answered 429.
    HttpRooms,
    /// A connection closed with 4003: its state went unsent for the slow-reader timeout.
    SlowReader,
    /// A connection closed with 1002: a WebSocket protocol violation.
    ProtocolViolation,
    /// A connection closed with 1007: invalid UTF-8 in a text message.
    InvalidUtf8,
    /// A connection closed with 1009: a frame or message over the size cap.
    TooBig,
    /// A `JoinRoom` refused unanswered: its client address made too many lookups lately.
    CodeAttemptsIp,
    /// A connection closed with 4003: it answered no ping for the idle timeout plus a ping
    /// interval.
    NoPong,
}

impl LimitReason {
    /// Every reason, in counter order.
    pub const ALL: [LimitReason; 14] = [
        LimitReason::Messages,
        LimitReason::Bytes,
        LimitReason::InboxShare,
        LimitReason::Flood,
        LimitReason::CodeAttemptsLimited,
        LimitReason::CodeGuessClose,
        LimitReason::ListRooms,
        LimitReason::HttpRooms,
        LimitReason::SlowReader,
        LimitReason::ProtocolViolation,
        LimitReason::InvalidUtf8,
        LimitReason::TooBig,
        LimitReason::CodeAttemptsIp,
        LimitReason::NoPong,
    ];

    /// The `reason` label.
    pub fn label(self) -> &'static str {
        match self {
            LimitReason::Messages => "messages",
            LimitReason::Bytes => "bytes",
            LimitReason::InboxShare => "inbox_share",
            LimitReason::Flood => "flood",
            LimitReason::CodeAttemptsLimited => "code_attempts",
            LimitReason::CodeGuessClose => "code_guesses",
            LimitReason::ListRooms => "list_rooms",
            LimitReason::HttpRooms => "http_rooms",
            LimitReason::SlowReader => "slow_reader",
            LimitReason::ProtocolViolation => "protocol_violation",
            LimitReason::InvalidUtf8 => "invalid_utf8",
            LimitReason::TooBig => "too_big",
            LimitReason::CodeAttemptsIp => "code_attempts_ip",
            LimitReason::NoPong => "no_pong",
        }
    }

    fn index(self) -> usize {
        self as usize
    }
}

/// Limit hits by reason, room-code attempts by result, and sessions ended with their
/// connection because they held no seat. Shared by every connection; relaxed atomics.
#[derive(Debug, Default)]
pub struct LimitCounters {
    hits: [AtomicU64; LimitReason::ALL.len()],
    code_found: AtomicU64,
    code_unknown: AtomicU64,
    seatless_ended: AtomicU64,
}

impl LimitCounters {
    /// Counts one hit of `reason`.
    pub fn hit(&self, reason: LimitReason) {
        self.hits[reason.index()].fetch_add(1, Ordering::Relaxed);
    }

    /// Hits of `reason` so far.
    pub fn hits(&self, reason: LimitReason) -> u64 {
        self.hits[reason.index()].load(Ordering::Relaxed)
    }

    /// Counts a `JoinRoom` whose code was looked up: found a room, or not.
    pub fn code_attempt(&self, found: bool) {
        let counter = if found {
            &self.code_found
        } else {
            &self.code_unknown
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    /// `JoinRoom` codes looked up so far that named no room.
    pub fn code_failures(&self) -> u64 {
        self.code_unknown.load(Ordering::Relaxed)
    }

    /// Counts a session ended with its connection because it held no seat.
    pub fn seatless_session_ended(&self) {
        self.seatless_ended.fetch_add(1, Ordering::Relaxed);
    }

    /// Sessions ended with their connection because they held no seat.
    pub fn seatless_sessions_ended(&self) -> u64 {
        self.seatless_ended.load(Ordering::Relaxed)
    }

    /// Every counter as a row: `ticksync_limit_hits_total{reason}`,
    /// `ticksync_room_code_attempts_total{result}` (`found`, `unknown`; refused attempts
    /// are the `code_attempts` limit hits) and `ticksync_seatless_sessions_ended_total`.
    pub fn rows(&self) -> Vec<CounterRow> {
        let mut rows: Vec<CounterRow> = LimitReason::ALL
            .iter()
            .map(|&reason| {
                (
                    "ticksync_limit_hits_total",
                    vec![("reason", reason.label())],
                    self.hits(reason),
                )
            })
            .collect();
        rows.push((
            "ticksync_room_code_attempts_total",
            vec![("result", "found")],
            self.code_found.load(Ordering::Relaxed),
        ));
        rows.push((
            "ticksync_room_code_attempts_total",
            vec![("result", "unknown")],
            self.code_failures(),
        ));
        rows.push((
            "ticksync_seatless_sessions_ended_total",
            vec![],
            self.seatless_sessions_ended(),
        ));
        rows
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_reason_has_its_own_row() {
        let counters = LimitCounters::default();
        for (i, reason) in LimitReason::ALL.into_iter().enumerate() {
            assert_eq!(reason.index(), i);
            counters.hit(reason);
        }
        counters.hit(LimitReason::Flood);
        counters.code_attempt(false);
        counters.seatless_session_ended();
        let rows = counters.rows();
        let flood = rows
            .iter()
            .find(|(_, labels, _)| labels == &vec![("reason", "flood")])
            .unwrap();
        assert_eq!(flood.2, 2);
        let labels: std::collections::HashSet<_> = rows.iter().map(|r| &r.1).collect();
        assert_eq!(labels.len(), rows.len(), "labels repeat");
        assert_eq!(counters.code_failures(), 1);
        assert_eq!(rows.last().unwrap().2, 1);
    }
}
