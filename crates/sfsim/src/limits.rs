//! The daily API allocation: every REST and Bulk call counts against a rolling 24-hour pool,
//! reported in `Sforce-Limit-Info` and refused with 403 REQUEST_LIMIT_EXCEEDED once spent.
//! Per-endpoint counters let tests and benchmarks see exactly which calls a client made.

use parking_lot::Mutex;
use std::collections::{BTreeMap, VecDeque};

const DAY_MS: i64 = 86_400_000;
const BUCKET_MS: i64 = 60_000;

#[derive(Debug, Default)]
struct Pool {
    /// (minute bucket, calls) within the last 24 h of org time.
    buckets: VecDeque<(i64, u64)>,
    used: u64,
    max: u64,
    exhausted: bool,
    per_endpoint: BTreeMap<String, u64>,
}

#[derive(Debug)]
pub struct Limits {
    pool: Mutex<Pool>,
}

impl Limits {
    pub fn new(max: u64) -> Limits {
        Limits {
            pool: Mutex::new(Pool {
                max,
                ..Default::default()
            }),
        }
    }

    fn expire(p: &mut Pool, now: i64) {
        while let Some((b, n)) = p.buckets.front().copied() {
            if b * BUCKET_MS + DAY_MS <= now {
                p.buckets.pop_front();
                p.used = p.used.saturating_sub(n);
            } else {
                break;
            }
        }
    }

    /// Counts one call, or refuses it when the allocation is spent. Returns (used, max).
    pub fn take(&self, now: i64, endpoint: &str) -> Result<(u64, u64), (u64, u64)> {
        let mut p = self.pool.lock();
        Self::expire(&mut p, now);
        if p.exhausted || p.used >= p.max {
            let used = if p.exhausted {
                p.max.max(p.used)
            } else {
                p.used
            };
            return Err((used, p.max));
        }
        let b = now / BUCKET_MS;
        match p.buckets.back_mut() {
            Some((last, n)) if *last == b => *n += 1,
            _ => p.buckets.push_back((b, 1)),
        }
        p.used += 1;
        *p.per_endpoint.entry(endpoint.to_string()).or_default() += 1;
        Ok((p.used, p.max))
    }

    /// Counts a call answered with an injected fault (503, hang, lost connection) in the
    /// per-endpoint counters: the client made it, and tests of retries must see every attempt.
    /// It does not spend the daily pool, which only calls the org served count against.
    pub fn count_faulted(&self, endpoint: &str) {
        *self
            .pool
            .lock()
            .per_endpoint
            .entry(endpoint.to_string())
            .or_default() += 1;
    }

    pub fn usage(&self, now: i64) -> (u64, u64) {
        let mut p = self.pool.lock();
        Self::expire(&mut p, now);
        if p.exhausted {
            (p.max.max(p.used), p.max)
        } else {
            (p.used, p.max)
        }
    }

    pub fn set_max(&self, max: u64) {
        self.pool.lock().max = max;
    }

    /// Forces every call to be refused until cleared, as if the pool were spent.
    pub fn set_exhausted(&self, on: bool) {
        self.pool.lock().exhausted = on;
    }

    /// Per-endpoint call counts since start (or the last reset).
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.pool.lock().per_endpoint.clone()
    }

    pub fn calls_to(&self, endpoint: &str) -> u64 {
        self.pool
            .lock()
            .per_endpoint
            .get(endpoint)
            .copied()
            .unwrap_or(0)
    }

    pub fn reset_calls(&self) {
        self.pool.lock().per_endpoint.clear();
    }

    /// Empties the rolling pool (a new day).
    pub fn reset_usage(&self) {
        let mut p = self.pool.lock();
        p.buckets.clear();
        p.used = 0;
    }
}
