//! Which hosts may receive Salesforce credentials: Salesforce's own domains over HTTPS, plus
//! hosts an operator names explicitly (a local org such as `sonde sfsim`, a test double).
//!
//! A token response's `instance_url` decides where every later call (with its bearer token)
//! goes, and a custom login URL decides where client secrets and codes go, so both are checked
//! here before anything is sent: a hostile or mistaken "org" cannot point Sonde at an
//! internal service.

use url::{Host, Url};

use crate::error::{Error, Result};

/// Registrable domains Salesforce serves login and API hosts under (production, sandbox, My
/// Domain `*.my.salesforce.com`, `*.sandbox.my.salesforce.com`, legacy `*.cloudforce.com` My
/// Domains, Database.com, the Setup domain). A host matches when it is one of these or a
/// subdomain of one; other clouds (Government Cloud, Salesforce on Alibaba Cloud) are allowed
/// explicitly by the operator.
pub const SALESFORCE_DOMAINS: &[&str] = &[
    "salesforce.com",
    "force.com",
    "cloudforce.com",
    "database.com",
    "salesforce-setup.com",
];

/// One explicitly allowed host: `host`, `host:port` or `*.domain`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Rule {
    host: String,
    /// `*.domain`: any subdomain of `host` (not `host` itself).
    subdomains: bool,
    port: Option<u16>,
}

/// The hosts credentials may go to. The default allows Salesforce's domains over HTTPS only;
/// [`AllowedHosts::parse`] adds hosts an operator trusts (those may use plain HTTP, which a
/// local org needs).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    extra: Vec<Rule>,
}

impl AllowedHosts {
    /// Salesforce's domains, over HTTPS, on the default port.
    pub fn salesforce_only() -> Self {
        Self::default()
    }

    /// Salesforce's domains plus a comma-separated list of `host`, `host:port` or `*.domain`
    /// entries (e.g. `127.0.0.1:8443, sf-proxy.internal, *.my.salesforce.mil`). Blank entries
    /// are ignored; a malformed one is an error naming it.
    pub fn parse(list: &str) -> Result<Self> {
        let mut allowed = Self::default();
        for entry in list.split(',').map(str::trim).filter(|e| !e.is_empty()) {
            allowed = allowed.allow(entry)?;
        }
        Ok(allowed)
    }

    /// These hosts and one more entry (`host`, `host:port` or `*.domain`).
    pub fn allow(mut self, entry: &str) -> Result<Self> {
        let bad = |why: &str| {
            Error::Config(format!(
                "allowed Salesforce host {entry:?} {why}; use host, host:port or *.domain"
            ))
        };
        let entry = entry.trim();
        let (subdomains, rest) = match entry.strip_prefix("*.") {
            Some(rest) => (true, rest),
            None => (false, entry),
        };
        // Parse through the URL parser so the host is normalised exactly as request URLs are
        // (lowercase, IPv6 brackets, IDNA).
        let parsed = Url::parse(&format!("http://{rest}/")).map_err(|_| bad("is not a host"))?;
        if parsed.path() != "/" || !parsed.username().is_empty() || parsed.query().is_some() {
            return Err(bad("is not a host"));
        }
        let host = parsed
            .host_str()
            .filter(|h| !h.is_empty())
            .ok_or_else(|| bad("has no host"))?;
        let explicit_port = if rest.starts_with('[') {
            rest.contains("]:")
        } else {
            rest.contains(':')
        };
        let port = if explicit_port {
            parsed.port().or(Some(80))
        } else {
            None
        };
        self.extra.push(Rule {
            host: host.to_string(),
            subdomains,
            port,
        });
        Ok(self)
    }

    /// Whether nothing beyond Salesforce's domains is allowed.
    pub fn is_salesforce_only(&self) -> bool {
        self.extra.is_empty()
    }

    /// Parses `url` and checks that credentials may be sent there; `what` names it in the
    /// error ("the instance URL", "the login URL").
    pub fn check(&self, url: &str, what: &str) -> Result<Url> {
        let parsed = Url::parse(url.trim())
            .map_err(|e| Error::UntrustedHost(format!("{what} {url:?} is not a URL: {e}")))?;
        if self.allows(&parsed) {
            Ok(parsed)
        } else {
            Err(Error::UntrustedHost(format!(
                "{what} {url:?} is not a Salesforce host (https:// on {}) and is not allowed explicitly",
                SALESFORCE_DOMAINS
                    .iter()
                    .map(|d| format!("*.{d}"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )))
        }
    }

    fn allows(&self, url: &Url) -> bool {
        if !matches!(url.scheme(), "https" | "http")
            || !url.username().is_empty()
            || url.password().is_some()
        {
            return false;
        }
        let Some(host) = url.host_str() else {
            return false;
        };
        let port = url.port_or_known_default();
        let explicit = self.extra.iter().any(|rule| {
            let host_ok = if rule.subdomains {
                is_subdomain(host, &rule.host)
            } else {
                host == rule.host
            };
            host_ok && rule.port.is_none_or(|p| port == Some(p))
        });
        if explicit {
            return true;
        }
        let is_domain_name = matches!(url.host(), Some(Host::Domain(_)));
        url.scheme() == "https"
            && port == Some(443)
            && is_domain_name
            && SALESFORCE_DOMAINS
                .iter()
                .any(|d| host == *d || is_subdomain(host, d))
    }
}

/// `host` is a strict subdomain of `domain`, on a label boundary (`evilsalesforce.com` is not
/// under `salesforce.com`).
fn is_subdomain(host: &str, domain: &str) -> bool {
    let host = host.trim_end_matches('.');
    host.len() > domain.len() + 1
        && host.ends_with(domain)
        && host.as_bytes()[host.len() - domain.len() - 1] == b'.'
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ok(h: &AllowedHosts, url: &str) -> bool {
        h.check(url, "the URL").is_ok()
    }

    #[test]
    fn salesforce_hosts_over_https_only() {
        let h = AllowedHosts::salesforce_only();
        for good in [
            "https://login.salesforce.com",
            "https://test.salesforce.com/",
            "https://acme.my.salesforce.com",
            "https://acme--uat.sandbox.my.salesforce.com/services/oauth2/token",
            "https://ACME.MY.SALESFORCE.COM",
            "https://na1.salesforce.com:443",
            "https://acme.lightning.force.com",
            "https://acme.cloudforce.com",
            "https://login.database.com",
            "https://acme.my.salesforce-setup.com",
        ] {
            assert!(ok(&h, good), "{good}");
        }
        for bad in [
            "http://login.salesforce.com",
            "https://evilsalesforce.com",
            "https://salesforce.com.evil.example",
            "https://login.salesforce.com:8443",
            "https://user@login.salesforce.com",
            "https://127.0.0.1",
            "http://127.0.0.1:9000",
            "http://localhost:8080",
            "https://[::1]",
            "https://169.254.169.254/latest/meta-data",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert!(!ok(&h, bad), "{bad}");
        }
    }

    #[test]
    fn operators_allow_hosts_explicitly() {
        let h = AllowedHosts::parse(" 127.0.0.1:9000, sf.internal ,*.salesforce.mil,, [::1]:7")
            .unwrap();
        assert!(ok(&h, "http://127.0.0.1:9000/services/oauth2/token"));
        assert!(!ok(&h, "http://127.0.0.1:9001"), "another port");
        assert!(ok(&h, "http://sf.internal:1234"), "no port: any port");
        assert!(ok(&h, "https://acme.my.salesforce.mil"));
        assert!(
            !ok(&h, "https://salesforce.mil"),
            "*.domain means subdomains"
        );
        assert!(ok(&h, "http://[::1]:7"));
        assert!(
            ok(&h, "https://login.salesforce.com"),
            "Salesforce stays allowed"
        );
        assert!(AllowedHosts::parse("http://x/").is_err());
        assert!(AllowedHosts::parse("a/b").is_err());
        assert!(AllowedHosts::parse("").unwrap().is_salesforce_only());
    }
}
