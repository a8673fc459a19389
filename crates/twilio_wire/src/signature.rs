//! `X-Twilio-Signature`: how Twilio signs each webhook request it sends (status callbacks,
//! incoming messages), and how a receiver checks it.
//!
//! The signed string is the full URL Twilio requested followed by every POST parameter's name
//! and value, sorted by name (a repeated name: by value too), with no separators. The signature
//! is base64(HMAC-SHA1(key = auth token, that string)).
//!
//! Twilio's own validators accept the URL both without its port and with it (the default port
//! added when absent), because Twilio's back end is not consistent about default ports; a
//! receiver behind a proxy that sees `:443` or not must not care. [`verify`] does the same.
//!
//! JSON bodies carry no parameters: their SHA-256 (lower-case hex) travels in the URL's
//! `bodySHA256` query parameter and the signature covers the URL alone ([`verify_json`]).

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use sha1::Sha1;
use sha2::{Digest, Sha256};

pub const SIGNATURE_HEADER: &str = "X-Twilio-Signature";

type HmacSha1 = Hmac<Sha1>;

/// The signature Twilio sends for a form-encoded request to `url` with `params`.
pub fn signature<K: AsRef<str>, V: AsRef<str>>(
    auth_token: &str,
    url: &str,
    params: &[(K, V)],
) -> String {
    STANDARD.encode(mac(auth_token, url, params).finalize().into_bytes())
}

/// Whether `signature` is what Twilio would send for this request, with or without the URL's
/// port. Constant-time in the signature.
pub fn verify<K: AsRef<str>, V: AsRef<str>>(
    auth_token: &str,
    url: &str,
    params: &[(K, V)],
    signature: &str,
) -> bool {
    let Ok(given) = STANDARD.decode(signature.trim()) else {
        return false;
    };
    port_variants(url)
        .iter()
        .any(|u| mac(auth_token, u, params).verify_slice(&given).is_ok())
}

/// Lower-case hex SHA-256 of a JSON body, as Twilio puts it in `bodySHA256`.
pub fn body_sha256(body: &[u8]) -> String {
    Sha256::digest(body)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Signs a JSON request: returns the URL with `bodySHA256` appended and its signature.
pub fn sign_json(auth_token: &str, url: &str, body: &[u8]) -> (String, String) {
    let sep = if url.contains('?') { '&' } else { '?' };
    let signed_url = format!("{url}{sep}bodySHA256={}", body_sha256(body));
    let sig = signature::<&str, &str>(auth_token, &signed_url, &[]);
    (signed_url, sig)
}

/// Checks a JSON request: the body matches the URL's `bodySHA256` and the URL is signed.
pub fn verify_json(auth_token: &str, url: &str, body: &[u8], signature: &str) -> bool {
    let query = url.split_once('?').map_or("", |(_, q)| q);
    let query = query.split_once('#').map_or(query, |(q, _)| q);
    let Some(expected) = form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == "bodySHA256")
        .map(|(_, v)| v.into_owned())
    else {
        return false;
    };
    let actual = body_sha256(body);
    // Both are public-length hex; compare without an early exit anyway.
    let same = actual.len() == expected.len()
        && actual
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    let url_ok = verify::<&str, &str>(auth_token, url, &[], signature);
    same && url_ok
}

fn mac<K: AsRef<str>, V: AsRef<str>>(auth_token: &str, url: &str, params: &[(K, V)]) -> HmacSha1 {
    let mut sorted: Vec<(&str, &str)> = params
        .iter()
        .map(|(k, v)| (k.as_ref(), v.as_ref()))
        .collect();
    // Byte order of UTF-8 is code-point order, which is how Twilio's validators sort.
    sorted.sort_unstable();
    let mut mac =
        HmacSha1::new_from_slice(auth_token.as_bytes()).expect("HMAC accepts keys of any length");
    mac.update(url.as_bytes());
    for (k, v) in sorted {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    mac
}

/// The URL without its port, and with it (the scheme's default port when none is written).
pub fn port_variants(url: &str) -> [String; 2] {
    let Some(a) = Authority::find(url) else {
        return [url.to_string(), url.to_string()];
    };
    let host_end = a.port_start.unwrap_or(a.end);
    let without = format!("{}{}", &url[..host_end], &url[a.end..]);
    let with = if a.port_start.is_some() {
        url.to_string()
    } else {
        let port = if url[..a.scheme_end].eq_ignore_ascii_case("https") {
            443
        } else {
            80
        };
        format!("{}:{port}{}", &url[..a.end], &url[a.end..])
    };
    [without, with]
}

/// Byte offsets of a URL's authority: where the scheme ends, where the `:port` starts (if
/// any) and where the authority ends.
struct Authority {
    scheme_end: usize,
    port_start: Option<usize>,
    end: usize,
}

impl Authority {
    fn find(url: &str) -> Option<Authority> {
        let scheme_end = url.find("://")?;
        let start = scheme_end + 3;
        let end = url[start..]
            .find(['/', '?', '#'])
            .map_or(url.len(), |i| start + i);
        let authority = &url[start..end];
        // The host follows any `user:password@`.
        let host_start = authority.rfind('@').map_or(start, |i| start + i + 1);
        let host = &url[host_start..end];
        let port_start = if host.starts_with('[') {
            host.find("]:").map(|i| host_start + i + 1)
        } else {
            host.rfind(':').map(|i| host_start + i)
        };
        let port_start = port_start.filter(|&p| {
            let digits = &url[p + 1..end];
            !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
        });
        Some(Authority {
            scheme_end,
            port_start,
            end,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // The vectors of Twilio's own validator tests (twilio-python), auth token "12345".
    const TOKEN: &str = "12345";
    const URL: &str = "https://mycompany.com/myapp.php?foo=1&bar=2";

    fn params() -> Vec<(&'static str, &'static str)> {
        vec![
            ("CallSid", "CA1234567890ABCDE"),
            ("Digits", "1234"),
            ("From", "+14158675309"),
            ("To", "+18005551212"),
            ("Caller", "+14158675309"),
        ]
    }

    #[test]
    fn signs_as_twilio_does() {
        assert_eq!(
            signature(TOKEN, URL, &params()),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        );
        assert!(verify(
            TOKEN,
            URL,
            &params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
    }

    #[test]
    fn repeated_names_sort_by_value() {
        let p = [
            ("Sid", "CA123"),
            ("SidAccount", "AC123"),
            ("Digits", "5678"),
            ("Digits", "1234"),
        ];
        assert_eq!(signature(TOKEN, URL, &p), "IK+Dwps556ElfBT0I3Rgjkr1wJU=");
    }

    #[test]
    fn ports_are_accepted_with_and_without() {
        let with_port = URL.replace(".com", ".com:1234");
        assert!(verify(
            TOKEN,
            &with_port,
            &params(),
            "RSOYDt4T1cUTdK1PDd93/VVr8B8="
        ));
        let http_port = with_port.replace("https", "http");
        assert!(verify(
            TOKEN,
            &http_port,
            &params(),
            "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="
        ));
        // Signed with the default port written out, checked against a URL without it.
        assert!(verify(
            TOKEN,
            URL,
            &params(),
            "kvajT1Ptam85bY51eRf/AJRuM3w="
        ));
        let http = URL.replace("https", "http");
        assert!(verify(
            TOKEN,
            &http,
            &params(),
            "0ZXoZLH/DfblKGATFgpif+LLRf4="
        ));
    }

    #[test]
    fn refuses_what_does_not_match() {
        let sig = "RSOYDt4T1cUTdK1PDd93/VVr8B8=";
        assert!(!verify("54321", URL, &params(), sig));
        assert!(!verify(
            TOKEN,
            "https://mycompany.com/myapp.php",
            &params(),
            sig
        ));
        let mut changed = params();
        changed[1].1 = "1235";
        assert!(!verify(TOKEN, URL, &changed, sig));
        assert!(!verify(TOKEN, URL, &params(), ""));
        assert!(!verify(TOKEN, URL, &params(), "not base64!"));
    }

    #[test]
    fn json_bodies_are_signed_through_their_hash() {
        let body = br#"{"property": "value", "boolean": true}"#;
        let hash = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620";
        assert_eq!(body_sha256(body), hash);
        let url = format!("{URL}&bodySHA256={hash}");
        assert!(verify_json(
            TOKEN,
            &url,
            body,
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
        assert!(!verify_json(
            TOKEN,
            &url,
            b"{}",
            "a9nBmqA0ju/hNViExpshrM61xv4="
        ));
        let (signed, sig) = sign_json(TOKEN, URL, body);
        assert_eq!(signed, url);
        assert_eq!(sig, "a9nBmqA0ju/hNViExpshrM61xv4=");
        assert!(
            !verify_json(TOKEN, URL, body, &sig),
            "no bodySHA256 in the URL"
        );
    }

    #[test]
    fn port_variants_handle_userinfo_ipv6_and_paths() {
        assert_eq!(
            port_variants("http://127.0.0.1:8080/sms?a=1"),
            ["http://127.0.0.1/sms?a=1", "http://127.0.0.1:8080/sms?a=1"]
        );
        assert_eq!(
            port_variants("https://u:p@host.example/x"),
            [
                "https://u:p@host.example/x",
                "https://u:p@host.example:443/x"
            ]
        );
        assert_eq!(
            port_variants("http://[::1]:9/x"),
            ["http://[::1]/x", "http://[::1]:9/x"]
        );
        assert_eq!(
            port_variants("https://host.example?x=a:1"),
            [
                "https://host.example?x=a:1",
                "https://host.example:443?x=a:1"
            ]
        );
    }
}
