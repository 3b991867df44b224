//! The edge's counters as metric sources: auth outcomes and refused upgrades
//! ([`Security`]), and abuse-limit hits ([`LimitCounters`]). Each reports
//! `(name, labels, value)` rows; here they get their help texts.

use super::{MetricSource, Rows};
use crate::limits::LimitCounters;
use crate::security::Security;

/// The help text of each counter family these sources report.
fn help(name: &str) -> &'static str {
    match name {
        "ticksync_auth_refused_total" => "Tokens refused at Hello, by reason.",
        "ticksync_auth_logins_total" => "Authenticated logins.",
        "ticksync_auth_takeovers_total" => {
            "Logins that took a session over from another connection."
        }
        "ticksync_upgrades_refused_total" => {
            "WebSocket upgrades refused before the handshake, by reason."
        }
        "ticksync_limit_hits_total" => "Abuse-limit hits, by reason.",
        "ticksync_room_code_attempts_total" => "JoinRoom code lookups, by result.",
        "ticksync_seatless_sessions_ended_total" => {
            "Sessions ended with their connection because they held no seat."
        }
        _ => "A ticksync counter.",
    }
}

fn report<L>(out: &mut Rows, rows: Vec<(&'static str, L, u64)>)
where
    L: IntoIterator<Item = (&'static str, &'static str)>,
{
    for row in rows {
        out.counter_rows(help(row.0), [row]);
    }
}

impl MetricSource for Security {
    fn collect(&self, out: &mut Rows) {
        report(out, self.counter_rows());
    }
}

impl MetricSource for LimitCounters {
    fn collect(&self, out: &mut Rows) {
        report(out, self.rows());
    }
}
