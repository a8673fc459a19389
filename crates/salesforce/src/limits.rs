//! API budget tracking: the org's usage as Salesforce reports it in `Sforce-Limit-Info`, and the
//! calls this client made, by kind, so Sonde can respect the daily allocation and benchmarks can
//! show how few calls a feature costs.

use std::sync::atomic::{AtomicU64, Ordering};

/// What a call was for; each kind has its own counter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallKind {
    /// `/services/oauth2/*` (token, revoke, userinfo).
    OAuth,
    /// Versions, `/limits`, describeGlobal and describe.
    Metadata,
    /// Single-record create/retrieve/update/delete/upsert.
    Record,
    /// `/query` and `/queryAll`, first pages and `nextRecordsUrl` pages alike.
    Query,
    /// sObject Collections (`/composite/sobjects`).
    Collections,
    /// Bulk API 2.0 (`/jobs/...`).
    Bulk,
}

impl CallKind {
    pub const ALL: [CallKind; 6] = [
        CallKind::OAuth,
        CallKind::Metadata,
        CallKind::Record,
        CallKind::Query,
        CallKind::Collections,
        CallKind::Bulk,
    ];

    fn index(self) -> usize {
        self as usize
    }
}

/// The org's API usage from the latest `Sforce-Limit-Info` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ApiUsage {
    /// Calls used in the rolling 24 h window.
    pub used: u64,
    /// The daily allocation.
    pub max: u64,
}

impl ApiUsage {
    /// Calls left before Salesforce answers `REQUEST_LIMIT_EXCEEDED`.
    pub fn remaining(&self) -> u64 {
        self.max.saturating_sub(self.used)
    }
}

/// Parses `api-usage=N/M` out of a `Sforce-Limit-Info` value (which may list other limits,
/// comma-separated, such as `per-app-api-usage=...`).
pub fn parse_limit_info(value: &str) -> Option<ApiUsage> {
    value.split(',').find_map(|part| {
        let (key, rest) = part.trim().split_once('=')?;
        if key.trim() != "api-usage" {
            return None;
        }
        let (used, max) = rest.trim().split_once('/')?;
        Some(ApiUsage {
            used: used.trim().parse().ok()?,
            max: max.trim().parse().ok()?,
        })
    })
}

/// Per-connection budget: the last usage Salesforce reported and this client's own counts.
#[derive(Debug, Default)]
pub struct Budget {
    // u64::MAX means "not seen yet".
    used: AtomicU64,
    max: AtomicU64,
    calls: [AtomicU64; 6],
}

impl Budget {
    pub fn new() -> Self {
        Budget {
            used: AtomicU64::new(u64::MAX),
            max: AtomicU64::new(u64::MAX),
            calls: Default::default(),
        }
    }

    pub(crate) fn record_call(&self, kind: CallKind) {
        self.calls[kind.index()].fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn record_header(&self, value: &str) {
        if let Some(u) = parse_limit_info(value) {
            self.max.store(u.max, Ordering::Relaxed);
            self.used.store(u.used, Ordering::Relaxed);
        }
    }

    /// The org's usage as last reported, if any response carried the header yet.
    pub fn usage(&self) -> Option<ApiUsage> {
        let used = self.used.load(Ordering::Relaxed);
        let max = self.max.load(Ordering::Relaxed);
        (used != u64::MAX && max != u64::MAX).then_some(ApiUsage { used, max })
    }

    /// Calls this client sent of one kind (retries included: Salesforce counts them too).
    pub fn calls(&self, kind: CallKind) -> u64 {
        self.calls[kind.index()].load(Ordering::Relaxed)
    }

    /// Calls this client sent, all kinds together.
    pub fn total_calls(&self) -> u64 {
        CallKind::ALL.iter().map(|k| self.calls(*k)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_api_usage() {
        assert_eq!(
            parse_limit_info("api-usage=25/15000"),
            Some(ApiUsage {
                used: 25,
                max: 15000
            })
        );
        assert_eq!(
            parse_limit_info("per-app-api-usage=3/500(appName=x), api-usage=7/100"),
            Some(ApiUsage { used: 7, max: 100 })
        );
        assert_eq!(parse_limit_info("api-usage=x/100"), None);
        assert_eq!(parse_limit_info(""), None);
    }

    #[test]
    fn budget_counts_and_remembers() {
        let b = Budget::new();
        assert_eq!(b.usage(), None);
        b.record_call(CallKind::Query);
        b.record_call(CallKind::Query);
        b.record_call(CallKind::Bulk);
        b.record_header("api-usage=10/20");
        assert_eq!(b.calls(CallKind::Query), 2);
        assert_eq!(b.total_calls(), 3);
        assert_eq!(b.usage().unwrap().remaining(), 10);
    }
}
