//! Per-client limits: connections per IP, subscriptions per connection, subscribe and enqueue
//! rates. A client over a limit gets `rate_limited` (Socket.IO) or 429 (HTTP), never a silent
//! drop, and other clients are not affected.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::{Arc, Mutex};

use governor::{DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter};

/// The configured limits and the live counters behind them.
pub struct Limits {
    pub max_subscriptions: usize,
    max_connections_per_ip: usize,
    subscribe_quota: Quota,
    connections: Mutex<HashMap<IpAddr, usize>>,
    enqueue: DefaultKeyedRateLimiter<String>,
}

fn per_second(rate: u32) -> Quota {
    let rate = NonZeroU32::new(rate.max(1)).unwrap_or(NonZeroU32::MIN);
    let burst = NonZeroU32::new(rate.get().saturating_mul(2)).unwrap_or(rate);
    Quota::per_second(rate).allow_burst(burst)
}

impl Limits {
    pub fn new(
        max_subscriptions: usize,
        max_connections_per_ip: usize,
        subscribe_per_second: u32,
        enqueue_per_second: u32,
    ) -> Self {
        Self {
            max_subscriptions,
            max_connections_per_ip,
            subscribe_quota: per_second(subscribe_per_second),
            connections: Mutex::new(HashMap::new()),
            enqueue: RateLimiter::keyed(per_second(enqueue_per_second)),
        }
    }

    /// Counts a new connection from `ip`; false when the IP already has the most allowed.
    pub fn admit_connection(&self, ip: IpAddr) -> bool {
        let mut connections = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        let count = connections.entry(ip).or_insert(0);
        if *count >= self.max_connections_per_ip {
            return false;
        }
        *count += 1;
        true
    }

    /// Forgets a closed connection from `ip`.
    pub fn release_connection(&self, ip: IpAddr) {
        let mut connections = self.connections.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(count) = connections.get_mut(&ip) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                connections.remove(&ip);
            }
        }
    }

    /// A fresh subscribe limiter for one connection.
    pub fn subscribe_limiter(&self) -> Arc<DefaultDirectRateLimiter> {
        Arc::new(RateLimiter::direct(self.subscribe_quota))
    }

    /// Whether the client `key` (token subject or IP) may enqueue now.
    pub fn allow_enqueue(&self, key: &str) -> bool {
        self.enqueue.check_key(&key.to_owned()).is_ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn connections_per_ip_are_capped_and_released() {
        let limits = Limits::new(10, 2, 10, 10);
        let ip: IpAddr = "10.0.0.1".parse().unwrap();
        assert!(limits.admit_connection(ip));
        assert!(limits.admit_connection(ip));
        assert!(!limits.admit_connection(ip));
        assert!(
            limits.admit_connection("10.0.0.2".parse().unwrap()),
            "other IPs are not affected"
        );
        limits.release_connection(ip);
        assert!(limits.admit_connection(ip));
    }

    #[test]
    fn enqueue_rate_allows_a_burst_then_refuses() {
        let limits = Limits::new(10, 10, 10, 5);
        let allowed = (0..50).filter(|_| limits.allow_enqueue("client")).count();
        assert_eq!(allowed, 10, "a burst of twice the rate");
        assert!(limits.allow_enqueue("another client"));
    }
}
