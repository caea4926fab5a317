//! Where a subscriber to an event resumes: the one decision behind `since` and `recovered`
//! (docs/PROTOCOL.md, "Resuming"), shared by the Socket.IO `subscribe:event` and the native
//! WebSocket route `/ws/events/{eventId}?since=…`.

use finishline_bus::{BusError, ProgressBus};
use finishline_wire::EventId;

/// Where a subscription starts and what its client is told.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Resume {
    /// Replay every message with a larger `seq`, then go live.
    pub after: u64,
    /// `None` without `since`; `Some(true)` when every message after `since` is replayed;
    /// `Some(false)` when the history no longer reaches back that far (the snapshot is the
    /// truth) or `since` is beyond the last `seq` (the history was lost).
    pub recovered: Option<bool>,
}

impl Resume {
    /// The resume point of a client that saw `since` (or nothing), for an event whose last
    /// published `seq` is `last_seq`. Reads the event's history start only when it matters.
    ///
    /// # Errors
    /// Fails when Redis cannot be reached for the history start.
    pub async fn of(
        bus: &ProgressBus,
        event_id: &EventId,
        last_seq: u64,
        since: Option<u64>,
    ) -> Result<Self, BusError> {
        let history_start = match since {
            Some(since) if since < last_seq => bus.history_start(event_id).await?,
            _ => None,
        };
        Ok(Self::decide(last_seq, since, history_start))
    }

    /// The decision itself, from what Redis said: the event's last `seq` and the smallest
    /// `seq` its history still holds (read only when `since < last_seq`).
    fn decide(last_seq: u64, since: Option<u64>, history_start: Option<u64>) -> Self {
        let (after, recovered) = match since {
            None => (last_seq, None),
            // Nothing newer exists; a `since` beyond the last seq means the history was lost.
            Some(since) if since >= last_seq => (last_seq, Some(since == last_seq)),
            Some(since) => match history_start {
                Some(first) if first <= since + 1 => (since, Some(true)),
                _ => (last_seq, Some(false)),
            },
        };
        Self { after, recovered }
    }
}

#[cfg(test)]
mod tests {
    use super::Resume;

    fn decide(last_seq: u64, since: Option<u64>, start: Option<u64>) -> (u64, Option<bool>) {
        let resume = Resume::decide(last_seq, since, start);
        (resume.after, resume.recovered)
    }

    #[test]
    fn without_since_a_subscriber_starts_live_at_the_last_seq() {
        assert_eq!(decide(10, None, None), (10, None));
    }

    #[test]
    fn a_since_the_history_still_covers_is_replayed_from_there() {
        assert_eq!(decide(10, Some(4), Some(1)), (4, Some(true)));
        assert_eq!(decide(10, Some(4), Some(5)), (4, Some(true)));
    }

    #[test]
    fn a_since_older_than_the_history_is_not_recovered() {
        assert_eq!(decide(10, Some(4), Some(6)), (10, Some(false)));
        assert_eq!(decide(10, Some(4), None), (10, Some(false)));
    }

    #[test]
    fn a_since_at_or_beyond_the_last_seq_replays_nothing() {
        assert_eq!(decide(10, Some(10), None), (10, Some(true)));
        assert_eq!(decide(10, Some(12), None), (10, Some(false)));
    }
}
