//! The org's clock: real time by default, but settable and scalable so tests can jump a day
//! ahead (token expiry, date literals, the API window) or run outbound retries fast.

use parking_lot::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug)]
struct Reading {
    real: Instant,
    org_ms: i64,
    scale: f64,
}

/// Org time in milliseconds since the epoch, running at `scale` times real time.
#[derive(Debug)]
pub struct Clock {
    inner: Mutex<Reading>,
}

impl Default for Clock {
    fn default() -> Self {
        Clock::new()
    }
}

impl Clock {
    pub fn new() -> Clock {
        Clock {
            inner: Mutex::new(Reading {
                real: Instant::now(),
                org_ms: chrono::Utc::now().timestamp_millis(),
                scale: 1.0,
            }),
        }
    }

    pub fn now_ms(&self) -> i64 {
        let r = self.inner.lock();
        r.org_ms
            .saturating_add((r.real.elapsed().as_secs_f64() * 1000.0 * r.scale) as i64)
    }

    /// Sets the org's current time.
    pub fn set_ms(&self, ms: i64) {
        let mut r = self.inner.lock();
        r.real = Instant::now();
        r.org_ms = ms;
    }

    pub fn advance(&self, by: Duration) {
        let now = self.now_ms();
        self.set_ms(now.saturating_add(by.as_millis() as i64));
    }

    /// How many org seconds pass per real second (clamped to something sane).
    pub fn set_scale(&self, scale: f64) {
        let now = self.now_ms();
        let mut r = self.inner.lock();
        r.real = Instant::now();
        r.org_ms = now;
        r.scale = if scale.is_finite() {
            scale.clamp(0.001, 1_000_000.0)
        } else {
            1.0
        };
    }

    pub fn scale(&self) -> f64 {
        self.inner.lock().scale
    }

    /// The real time to wait for `org_ms` of org time to pass.
    pub fn real_duration(&self, org_ms: i64) -> Duration {
        let s = self.scale();
        Duration::try_from_secs_f64((org_ms.max(0) as f64 / 1000.0) / s)
            .unwrap_or(Duration::from_secs(86_400))
    }
}
