//! Ids unique across restarts.
//!
//! Every start of the server inserts a row into `server_boots`; the row's id is the
//! start's *epoch*. Room and session ids of that run count up from `epoch * 2^32`, so a
//! new run never reuses an old run's ids, and a match id (the room's id) names one game
//! forever. Ids stay below 2^53, the largest integer a JavaScript number holds exactly,
//! for 2^21 (about two million) starts of at most 2^32 rooms or sessions each.

use sqlx::AnyPool;

use super::StorageError;

/// Bits of an id below the epoch.
const EPOCH_SHIFT: u32 = 32;
/// Most starts before ids would reach 2^53.
const MAX_EPOCH: i64 = (1 << (53 - EPOCH_SHIFT)) - 1;

/// The id every id of `epoch`'s run is above.
pub(super) fn base(epoch: u64) -> u64 {
    epoch << EPOCH_SHIFT
}

/// Records this start and returns its epoch.
pub(super) async fn record_start(pool: &AnyPool) -> Result<u64, StorageError> {
    let now = super::record::now_ms();
    let (epoch,): (i64,) =
        sqlx::query_as("INSERT INTO server_boots (started_at_ms) VALUES ($1) RETURNING id")
            .bind(now)
            .fetch_one(pool)
            .await?;
    if !(1..=MAX_EPOCH).contains(&epoch) {
        return Err(StorageError::TooManyStarts(epoch));
    }
    Ok(epoch as u64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_of_the_last_epoch_stay_below_2_pow_53() {
        let last = base(MAX_EPOCH as u64) + u64::from(u32::MAX);
        assert!(last < 1 << 53);
        assert!(base(2) > base(1) + u64::from(u32::MAX));
    }
}
