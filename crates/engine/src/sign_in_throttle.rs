//! How hard guessing passwords is: per account and per client address, a few failures are
//! free, then every further one doubles the wait before the next attempt (2 s, 4 s, … at most
//! 15 minutes). Counts live in the database (`store::sign_in_throttle`), so every node agrees.

use sha2::{Digest, Sha256};
use std::net::IpAddr;
use std::time::Duration;

/// Failures an account may have before it waits: people mistype.
pub const ACCOUNT_FREE_FAILURES: i64 = 5;
/// Failures a client address may have before it waits: an office behind one address has many
/// people mistyping.
pub const ADDRESS_FREE_FAILURES: i64 = 20;
/// The first wait; each further failure doubles it.
pub const FIRST_DELAY: Duration = Duration::from_secs(2);
/// The longest wait, so a forgotten attacker cannot lock a person out for days.
pub const MAX_DELAY: Duration = Duration::from_secs(15 * 60);
/// Failures older than this are forgotten.
pub const FORGET_AFTER: Duration = Duration::from_secs(60 * 60);

/// The wait after a subject's `failures`-th failure, with `free` failures allowed.
pub fn delay_after(failures: i64, free: i64) -> Duration {
    let over = failures - free;
    if over <= 0 {
        return Duration::ZERO;
    }
    // 2^(over-1) first delays, capped well before the shift could overflow.
    let factor = 1u32 << (over - 1).min(20) as u32;
    (FIRST_DELAY * factor).min(MAX_DELAY)
}

pub(crate) struct Policy {
    free: i64,
}

impl store::sign_in_throttle::Delay for Policy {
    fn after_failures(&self, failures: i64) -> i64 {
        delay_after(failures, self.free).as_millis() as i64
    }
}

pub(crate) const ACCOUNT: Policy = Policy {
    free: ACCOUNT_FREE_FAILURES,
};
pub(crate) const ADDRESS: Policy = Policy {
    free: ADDRESS_FREE_FAILURES,
};

fn subject(kind: &str, value: &str) -> String {
    let digest = Sha256::digest(format!("{kind}\0{value}").as_bytes());
    format!("{kind}:{}", hex::encode(&digest[..16]))
}

/// The account's subject: a hash of the email as typed (lower-cased), so unknown accounts are
/// throttled alike and typed emails are not kept.
pub(crate) fn account_subject(email: &str) -> String {
    subject("account", &email.trim().to_lowercase())
}

/// The address's subject. An IPv6 client usually holds a whole /64, so that is the unit; an
/// IPv4 address mapped into IPv6 counts as the IPv4 one.
pub(crate) fn address_subject(address: IpAddr) -> String {
    let unit = match address {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => v4.to_string(),
            None => {
                let s = v6.segments();
                format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    };
    subject("address", &unit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_wait_doubles_after_the_free_failures_and_is_capped() {
        assert_eq!(delay_after(5, 5), Duration::ZERO);
        assert_eq!(delay_after(6, 5), Duration::from_secs(2));
        assert_eq!(delay_after(7, 5), Duration::from_secs(4));
        assert_eq!(delay_after(10, 5), Duration::from_secs(32));
        assert_eq!(delay_after(30, 5), MAX_DELAY);
        assert_eq!(delay_after(10_000, 5), MAX_DELAY);
    }

    #[test]
    fn an_ipv6_client_is_counted_by_its_64_and_mapped_ipv4_as_ipv4() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_subject(a), address_subject(b));
        assert_ne!(address_subject(a), address_subject(c));
        let mapped: IpAddr = "::ffff:192.0.2.7".parse().unwrap();
        let v4: IpAddr = "192.0.2.7".parse().unwrap();
        assert_eq!(address_subject(mapped), address_subject(v4));
        assert_eq!(account_subject(" Ada@X.com"), account_subject("ada@x.com"));
    }
}
