//! The progress line under the bar: what phase the run is in and what it has done, short
//! enough that bar and line stay under 80 columns on any run size.

/// Columns the bar and its elapsed time take before the message.
pub const BAR_COLUMNS: usize = 28;
/// Longest message that keeps the whole line under 80 columns.
pub const MAX_MESSAGE: usize = 79 - BAR_COLUMNS;

/// The `ttt` line. During warm-up games and moves are not counted yet (only the measured
/// window counts), so it shows the joins and the time left until measuring starts.
pub fn ttt(
    warmup_left_s: Option<u64>,
    connected: usize,
    clients: usize,
    games: u64,
    moves: u64,
    errors: u64,
) -> String {
    let line = match warmup_left_s {
        Some(left) => {
            format!("warm-up {left}s left: {connected}/{clients} connected, {errors} err")
        }
        None => format!("measuring: {connected} conn, {games} games, {moves} moves, {errors} err"),
    };
    fit(line)
}

/// The `arena` line: joining, then settling, then measuring.
pub fn arena(
    measuring: bool,
    joined: usize,
    playing: usize,
    clients: usize,
    states: u64,
    errors: u64,
) -> String {
    let phase = if measuring {
        "measuring"
    } else if joined < clients {
        "joining"
    } else {
        "settling"
    };
    fit(format!(
        "{phase}: {joined}/{clients} in, {playing} play, {states} states, {errors} err"
    ))
}

/// Cuts `line` to [`MAX_MESSAGE`] characters (only absurd sizes need it).
fn fit(mut line: String) -> String {
    if line.chars().count() > MAX_MESSAGE {
        line = line.chars().take(MAX_MESSAGE - 1).collect();
        line.push('…');
    }
    line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_fit_in_80_columns_even_for_huge_runs() {
        let big = u64::from(u32::MAX);
        for line in [
            ttt(Some(3), 100_000, 100_000, 0, 0, 0),
            ttt(None, 100_000, 100_000, big, big * 9, 12_345),
            arena(false, 799, 800, 800, 0, 0),
            arena(true, 100_000, 100_000, 100_000, big, big),
        ] {
            assert!(line.chars().count() <= MAX_MESSAGE, "{} {line}", line.len());
        }
        assert_eq!(
            ttt(Some(2), 150, 200, 0, 0, 0),
            "warm-up 2s left: 150/200 connected, 0 err"
        );
        assert!(arena(false, 800, 800, 800, 5, 0).starts_with("settling:"));
        assert!(arena(false, 10, 10, 800, 5, 0).starts_with("joining:"));
    }
}
