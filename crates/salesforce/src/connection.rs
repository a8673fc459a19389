//! A connection to one Salesforce org as one user: its tokens, the single-flight refresh, the
//! describe cache and the API budget. Every REST and Bulk call goes through [`Connection::send`],
//! which turns a 401 `INVALID_SESSION_ID` into one refresh and one retry.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use bytes::Bytes;
use reqwest::header::{HeaderName, HeaderValue, CONTENT_TYPE};
use reqwest::Method;

use crate::error::{Error, Result};
use crate::hosts::AllowedHosts;
use crate::limits::{Budget, CallKind};
use crate::oauth::{NoPersistence, OAuthClient, OAuthConfig, Secret, TokenPersistence, Tokens};
use crate::rest::SObjectDescribe;

/// The API version used unless the connection is told otherwise.
pub const DEFAULT_API_VERSION: &str = "62.0";

/// A cheap-to-clone handle on one org connection. Clones share tokens, refresh, cache and
/// budget, so one connection per linked Salesforce account is enough for a whole process.
#[derive(Clone)]
pub struct Connection {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    oauth: Option<OAuthClient>,
    api_version: String,
    session: RwLock<Session>,
    /// Held while a refresh is in flight: callers that lost their session wait here and then
    /// pick up the tokens the one refresh produced.
    refresh_lock: tokio::sync::Mutex<()>,
    persistence: Arc<dyn TokenPersistence>,
    describes: Mutex<HashMap<String, Arc<SObjectDescribe>>>,
    /// describeGlobal, kept like the describes.
    global: Mutex<Option<Arc<crate::rest::DescribeGlobal>>>,
    budget: Budget,
}

struct Session {
    tokens: Tokens,
    /// Bumped by every successful refresh; a caller whose 401 came with an older generation
    /// knows someone else already refreshed.
    generation: u64,
    /// Set when a refresh was refused: every later call fails fast instead of hammering the
    /// token endpoint with a dead refresh token.
    dead: Option<(String, String)>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let instance = self.instance_url();
        f.debug_struct("Connection")
            .field("instance_url", &instance)
            .field("api_version", &self.inner.api_version)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Connection`] from tokens Sonde already holds (or just obtained).
pub struct ConnectionBuilder {
    tokens: Tokens,
    oauth: Option<OAuthConfig>,
    http: Option<reqwest::Client>,
    api_version: String,
    persistence: Arc<dyn TokenPersistence>,
    allowed_hosts: Option<AllowedHosts>,
}

impl ConnectionBuilder {
    /// Hosts the instance URL may be on (default: those of the connected app given to
    /// [`ConnectionBuilder::oauth`], else Salesforce's domains over HTTPS). Refreshes are held
    /// to the same hosts.
    pub fn allowed_hosts(mut self, hosts: AllowedHosts) -> Self {
        self.allowed_hosts = Some(hosts);
        self
    }

    /// The connected app, needed to refresh. Without it an expired session is an `Auth` error.
    pub fn oauth(mut self, config: OAuthConfig) -> Self {
        self.oauth = Some(config);
        self
    }

    /// An HTTP client to share (connection pool, extra root certificates, proxy).
    pub fn http(mut self, http: reqwest::Client) -> Self {
        self.http = Some(http);
        self
    }

    /// `"62.0"` or `"v62.0"`.
    pub fn api_version(mut self, version: impl AsRef<str>) -> Self {
        self.api_version = version.as_ref().trim_start_matches('v').to_string();
        self
    }

    /// Where refreshed tokens are saved before they are used.
    pub fn persistence(mut self, p: impl TokenPersistence + 'static) -> Self {
        self.persistence = Arc::new(p);
        self
    }

    pub fn persistence_arc(mut self, p: Arc<dyn TokenPersistence>) -> Self {
        self.persistence = p;
        self
    }

    pub fn build(self) -> Result<Connection> {
        let http = match self.http {
            Some(h) => h,
            None => crate::default_http_client()?,
        };
        let allowed = match (self.allowed_hosts, &self.oauth) {
            (Some(h), _) => h,
            (None, Some(config)) => config.allowed_hosts.clone(),
            (None, None) => AllowedHosts::default(),
        };
        // The bearer token goes to this host on every call.
        allowed.check(&self.tokens.instance_url, "the instance URL")?;
        let mut tokens = self.tokens;
        tokens.instance_url = tokens.instance_url.trim_end_matches('/').to_string();
        let oauth = self.oauth.map(|mut c| {
            c.allowed_hosts = allowed.clone();
            OAuthClient::with_http(http.clone(), c)
        });
        Ok(Connection {
            inner: Arc::new(Inner {
                oauth,
                http,
                api_version: self.api_version,
                session: RwLock::new(Session {
                    tokens,
                    generation: 0,
                    dead: None,
                }),
                refresh_lock: tokio::sync::Mutex::new(()),
                persistence: self.persistence,
                describes: Mutex::new(HashMap::new()),
                global: Mutex::new(None),
                budget: Budget::new(),
            }),
        })
    }
}

/// One HTTP request against the instance, described so that it can be sent again after a
/// refresh.
pub(crate) struct Req {
    pub kind: CallKind,
    pub method: Method,
    /// Path from the host, starting with `/services/`.
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<(Bytes, &'static str)>,
    pub headers: Vec<(HeaderName, String)>,
}

impl Req {
    pub fn new(kind: CallKind, method: Method, path: impl Into<String>) -> Self {
        Req {
            kind,
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            headers: Vec::new(),
        }
    }

    pub fn query(mut self, key: &str, value: impl Into<String>) -> Self {
        self.query.push((key.to_string(), value.into()));
        self
    }

    pub fn json(mut self, body: &impl serde::Serialize) -> Result<Self> {
        let bytes = serde_json::to_vec(body)
            .map_err(|e| Error::Config(format!("body does not serialise to JSON: {e}")))?;
        self.body = Some((Bytes::from(bytes), "application/json"));
        Ok(self)
    }

    pub fn header(mut self, name: HeaderName, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }
}

impl Connection {
    pub fn builder(tokens: Tokens) -> ConnectionBuilder {
        ConnectionBuilder {
            tokens,
            oauth: None,
            http: None,
            api_version: DEFAULT_API_VERSION.to_string(),
            persistence: Arc::new(NoPersistence),
            allowed_hosts: None,
        }
    }

    /// The username-password flow, then a connection on the tokens it returned.
    pub async fn login_password(
        config: OAuthConfig,
        username: &str,
        password: &Secret,
    ) -> Result<Connection> {
        let oauth = OAuthClient::new(config.clone())?;
        let t = oauth.password(username, password).await?;
        Connection::builder(t.into()).oauth(config).build()
    }

    pub fn api_version(&self) -> &str {
        &self.inner.api_version
    }

    pub fn instance_url(&self) -> String {
        self.read_session(|s| s.tokens.instance_url.clone())
    }

    /// The tokens in use now (after any refresh).
    pub fn tokens(&self) -> Tokens {
        self.read_session(|s| s.tokens.clone())
    }

    /// API usage reported by Salesforce and calls made by this connection.
    pub fn budget(&self) -> &Budget {
        &self.inner.budget
    }

    /// `/services/data/vXX.X` for this connection's version.
    pub(crate) fn data_path(&self, rest: &str) -> String {
        format!("/services/data/v{}{}", self.inner.api_version, rest)
    }

    pub(crate) fn describe_cache(&self) -> &Mutex<HashMap<String, Arc<SObjectDescribe>>> {
        &self.inner.describes
    }

    pub(crate) fn global_cache(&self) -> &Mutex<Option<Arc<crate::rest::DescribeGlobal>>> {
        &self.inner.global
    }

    fn read_session<T>(&self, f: impl FnOnce(&Session) -> T) -> T {
        // A poisoned lock only means another thread panicked mid-write of plain data; the
        // tokens in it are still the last complete value.
        let guard = self.inner.session.read().unwrap_or_else(|p| p.into_inner());
        f(&guard)
    }

    fn write_session(&self, f: impl FnOnce(&mut Session)) {
        let mut guard = self
            .inner
            .session
            .write()
            .unwrap_or_else(|p| p.into_inner());
        f(&mut guard)
    }

    /// Sends a request, refreshing once on an invalid session. Returns the response only for
    /// 2xx; everything else becomes a typed [`Error`].
    pub(crate) async fn send(&self, req: &Req) -> Result<reqwest::Response> {
        let mut refreshed = false;
        loop {
            let (token, instance, generation, dead) = self.read_session(|s| {
                (
                    s.tokens.access_token.clone(),
                    s.tokens.instance_url.clone(),
                    s.generation,
                    s.dead.clone(),
                )
            });
            if let Some((code, message)) = dead {
                return Err(Error::Auth { code, message });
            }
            let url = format!("{instance}{}", req.path);
            let mut rb = self
                .inner
                .http
                .request(req.method.clone(), url)
                .bearer_auth(token.expose());
            if !req.query.is_empty() {
                rb = rb.query(&req.query);
            }
            for (name, value) in &req.headers {
                rb = rb.header(name.clone(), value.as_str());
            }
            if let Some((body, content_type)) = &req.body {
                rb = rb
                    .header(CONTENT_TYPE, HeaderValue::from_static(content_type))
                    .body(body.clone());
            }
            self.inner.budget.record_call(req.kind);
            let resp = rb.send().await?;
            if let Some(v) = resp.headers().get("sforce-limit-info") {
                if let Ok(v) = v.to_str() {
                    self.inner.budget.record_header(v);
                }
            }
            let status = resp.status().as_u16();
            if (200..300).contains(&status) {
                return Ok(resp);
            }
            let body = resp.bytes().await?;
            let err = Error::from_response(status, &body);
            if let Error::Auth { code, .. } = &err {
                let session_lost = code == "INVALID_SESSION_ID" || code == "InvalidSessionId";
                if session_lost && !refreshed && self.inner.oauth.is_some() {
                    self.refresh_after(generation).await?;
                    refreshed = true;
                    continue;
                }
            }
            return Err(err);
        }
    }

    /// Refreshes now, whatever the state of the session (e.g. before a long job).
    pub async fn refresh(&self) -> Result<()> {
        let generation = self.read_session(|s| s.generation);
        self.refresh_after(generation).await
    }

    /// Single-flight refresh: only the first caller that saw `generation` fail refreshes; the
    /// others wait for it and then use what it obtained.
    async fn refresh_after(&self, generation: u64) -> Result<()> {
        let oauth = self.inner.oauth.as_ref().ok_or_else(|| Error::Auth {
            code: "INVALID_SESSION_ID".into(),
            message: "session expired and the connection has no connected app to refresh with"
                .into(),
        })?;
        let _guard = self.inner.refresh_lock.lock().await;
        let (current, dead, old) =
            self.read_session(|s| (s.generation, s.dead.clone(), s.tokens.clone()));
        if let Some((code, message)) = dead {
            return Err(Error::Auth { code, message });
        }
        if current != generation {
            return Ok(());
        }
        let refresh_token = old.refresh_token.clone().ok_or_else(|| Error::Auth {
            code: "INVALID_SESSION_ID".into(),
            message: "session expired and there is no refresh token".into(),
        })?;
        self.inner.budget.record_call(CallKind::OAuth);
        let fresh = match oauth.refresh(&refresh_token).await {
            Ok(t) => t,
            Err(e @ Error::Auth { .. }) => {
                if let Error::Auth { code, message } = &e {
                    let (code, message) = (code.clone(), message.clone());
                    self.write_session(|s| s.dead = Some((code, message)));
                }
                return Err(e);
            }
            Err(e) => return Err(e),
        };
        let new = Tokens {
            access_token: fresh.access_token,
            // Without rotation Salesforce does not send a refresh token: keep the old one.
            refresh_token: fresh.refresh_token.or(old.refresh_token),
            instance_url: if fresh.instance_url.is_empty() {
                old.instance_url
            } else {
                fresh.instance_url.trim_end_matches('/').to_string()
            },
        };
        self.inner
            .persistence
            .save(&new)
            .await
            .map_err(Error::Persist)?;
        self.write_session(|s| {
            s.tokens = new;
            s.generation += 1;
        });
        Ok(())
    }

    /// Revokes the refresh token (or the access token when there is none): the connection is
    /// unusable afterwards, which is what "disconnect" means.
    pub async fn revoke(&self) -> Result<()> {
        let oauth = self
            .inner
            .oauth
            .as_ref()
            .ok_or_else(|| Error::Config("revoking needs the connected app".into()))?;
        let tokens = self.tokens();
        let token = tokens
            .refresh_token
            .as_ref()
            .unwrap_or(&tokens.access_token);
        self.inner.budget.record_call(CallKind::OAuth);
        oauth.revoke(token).await?;
        self.write_session(|s| {
            s.dead = Some(("revoked".into(), "the connection was disconnected".into()))
        });
        Ok(())
    }

    /// Who the connected user is (`/services/oauth2/userinfo` on the instance).
    pub async fn userinfo(&self) -> Result<crate::oauth::UserInfo> {
        let url = crate::oauth::userinfo_url(&self.instance_url())?;
        let req = Req::new(CallKind::OAuth, Method::GET, url.path().to_string());
        let resp = self.send(&req).await?;
        let body = resp.bytes().await?;
        let raw: serde_json::Value = serde_json::from_slice(&body)
            .map_err(|e| Error::Protocol(format!("userinfo is not JSON: {e}")))?;
        let mut info: crate::oauth::UserInfo = serde_json::from_value(raw.clone())
            .map_err(|e| Error::Protocol(format!("userinfo: {e}")))?;
        info.raw = raw;
        Ok(info)
    }

    /// Sends and decodes a JSON answer.
    pub(crate) async fn send_json<T: serde::de::DeserializeOwned>(&self, req: &Req) -> Result<T> {
        let resp = self.send(req).await?;
        let body = resp.bytes().await?;
        serde_json::from_slice(&body).map_err(|e| {
            Error::Protocol(format!(
                "{} {}: body is not the documented shape: {e}",
                req.method, req.path
            ))
        })
    }
}
