//! How much the scripts keep, and for how long.

use std::time::Duration;

/// How much the bus keeps, and for how long.
#[derive(Debug, Clone, Copy)]
pub struct BusLimits {
    /// Messages kept per event for replay (approximate trim).
    pub history_max: u64,
    /// Messages kept in the global stream the gateways tail (approximate trim).
    pub stream_max: u64,
    /// How long event counters, history and job state live after their last change.
    pub retention: Duration,
}

impl Default for BusLimits {
    fn default() -> Self {
        Self {
            history_max: 10_000,
            stream_max: 100_000,
            retention: Duration::from_secs(24 * 3600),
        }
    }
}

impl BusLimits {
    /// The retention in whole seconds, at least one (`EXPIRE` refuses 0).
    pub fn ttl_secs(&self) -> u64 {
        self.retention.as_secs().max(1)
    }
}
