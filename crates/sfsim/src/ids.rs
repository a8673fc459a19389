//! Salesforce record ids: 15-character case-sensitive ids and their 18-character
//! case-insensitive form with the three-letter checksum suffix.
//!
//! Ids are `key prefix (3) + pod (2) + reserved (1) + base62 counter (9)`, so ids of one
//! object sort in creation order, which is also the order a real org tends to return rows.

use std::fmt;

const BASE62: &[u8; 62] = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
const SUFFIX: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";

/// A record id in its 15-character form; the 18-character form is derived on output.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id([u8; 15]);

impl Id {
    /// Builds the `n`th id for an object with `prefix` (three characters).
    pub fn new(prefix: &str, n: u64) -> Id {
        let mut out = [b'0'; 15];
        let p = prefix.as_bytes();
        out[..3].copy_from_slice(&p[..3.min(p.len())]);
        // "5g" looks like a real pod; the sixth character is always 0 in real ids.
        out[3] = b'5';
        out[4] = b'g';
        out[5] = b'0';
        let mut v = n;
        for slot in out[6..].iter_mut().rev() {
            *slot = BASE62[(v % 62) as usize];
            v /= 62;
        }
        Id(out)
    }

    /// Parses a 15- or 18-character id. An 18-character id must carry a correct suffix;
    /// its case is then restored from the suffix, which is what makes it case-insensitive.
    pub fn parse(s: &str) -> Option<Id> {
        let b = s.as_bytes();
        if !(b.len() == 15 || b.len() == 18) || !b.iter().all(|c| c.is_ascii_alphanumeric()) {
            return None;
        }
        let mut out = [0u8; 15];
        out.copy_from_slice(&b[..15]);
        if b.len() == 18 {
            let suffix = &b[15..];
            for (chunk, s) in suffix.iter().enumerate() {
                let s = s.to_ascii_uppercase();
                let bits = SUFFIX.iter().position(|c| *c == s)?;
                for i in 0..5 {
                    let c = &mut out[chunk * 5 + i];
                    if bits & (1 << i) != 0 {
                        if !c.is_ascii_alphabetic() {
                            return None;
                        }
                        *c = c.to_ascii_uppercase();
                    } else {
                        *c = c.to_ascii_lowercase();
                    }
                }
            }
        }
        Some(Id(out))
    }

    /// The three-character key prefix naming the object.
    pub fn prefix(&self) -> &str {
        std::str::from_utf8(&self.0[..3]).unwrap_or("000")
    }

    pub fn as15(&self) -> &str {
        std::str::from_utf8(&self.0).unwrap_or("000000000000000")
    }

    /// The 18-character form every API response uses.
    pub fn to18(&self) -> String {
        let mut s = String::with_capacity(18);
        s.push_str(self.as15());
        s.push_str(&checksum(&self.0));
        s
    }
}

/// The three suffix characters: one per five-character chunk, a bitmap of its capitals.
pub fn checksum(id15: &[u8; 15]) -> String {
    let mut s = String::with_capacity(3);
    for chunk in id15.chunks(5) {
        let mut bits = 0usize;
        for (i, c) in chunk.iter().enumerate() {
            if c.is_ascii_uppercase() {
                bits |= 1 << i;
            }
        }
        s.push(SUFFIX[bits] as char);
    }
    s
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to18())
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to18())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_checksum() {
        // A documented example: 001A0000006Vm9r -> 001A0000006Vm9rIAC
        let id = Id::parse("001A0000006Vm9r").unwrap();
        assert_eq!(id.to18(), "001A0000006Vm9rIAC");
        assert_eq!(Id::parse("001a0000006vm9riac").unwrap(), id);
    }

    #[test]
    fn new_ids_round_trip() {
        let a = Id::new("001", 1);
        let b = Id::new("001", 2);
        assert!(a < b);
        assert_eq!(Id::parse(&a.to18()), Some(a));
        assert_eq!(a.prefix(), "001");
        assert!(Id::parse("short").is_none());
    }
}
