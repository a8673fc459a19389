//! sfsim: a local Salesforce org that speaks Salesforce's wire protocol (OAuth, REST, SOQL,
//! sObject Collections, Bulk API 2.0 query, Outbound Messages) for tests, demos and offline use.
//!
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! let org = sfsim::Org::builder().seed(sfsim::Seed::Demo).start().await?;
//! println!("{} {}", org.instance_url(), org.access_token());
//! org.shutdown().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]

pub mod bulk;
pub mod canvas;
pub mod cli;
pub mod clock;
pub mod describe;
pub mod error;
pub mod faults;
pub mod ids;
pub mod limits;
pub mod metadata;
pub mod oauth;
pub mod org;
pub mod outbound;
pub mod pages;
pub mod query;
pub mod rest;
pub mod seed;
mod seed_conversations;
pub mod server;
pub mod soap;
pub mod store;
pub mod tls;
pub mod val;

pub use faults::Faults;
pub use ids::Id;
pub use metadata::MetadataFile;
pub use outbound::{Delivery, OutboundSettings, Rule as OutboundRule};

use org::{Config, OrgState};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// Which data a new org starts with.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Seed {
    /// A believable small company (see `seed`).
    Demo,
    /// Only users, profiles and the organization record.
    #[default]
    Empty,
}

/// Configures and starts an org. Every setting has a test-friendly default.
#[derive(Clone, Debug)]
pub struct OrgBuilder {
    listen: SocketAddr,
    tls: bool,
    state_dir: Option<PathBuf>,
    seed: Seed,
    metadata: Vec<MetadataFile>,
    redirect_uris: Vec<String>,
    daily_api_limit: u64,
    rotate_refresh_tokens: bool,
    session_secs: i64,
    time_scale: f64,
    client_id: Option<String>,
    client_secret: Option<String>,
    password: Option<String>,
    jwt_public_key: Option<String>,
    canvas_url: Option<String>,
}

pub struct Org;

impl Org {
    pub fn builder() -> OrgBuilder {
        OrgBuilder {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            tls: false,
            state_dir: None,
            seed: Seed::Empty,
            metadata: Vec::new(),
            redirect_uris: Vec::new(),
            daily_api_limit: 100_000,
            rotate_refresh_tokens: false,
            session_secs: 7200,
            time_scale: 1.0,
            client_id: None,
            client_secret: None,
            password: None,
            jwt_public_key: None,
            canvas_url: None,
        }
    }
}

/// Credentials that must survive a restart with `--state`.
#[derive(Serialize, Deserialize)]
struct AppCreds {
    client_id: String,
    client_secret: String,
    password: String,
}

impl OrgBuilder {
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }
    pub fn tls(mut self, on: bool) -> Self {
        self.tls = on;
        self
    }
    pub fn state_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.state_dir = Some(dir.into());
        self
    }
    pub fn seed(mut self, seed: Seed) -> Self {
        self.seed = seed;
        self
    }
    /// Adds custom objects/fields/record types/profiles (applied after the seed's own).
    pub fn metadata(mut self, m: MetadataFile) -> Self {
        self.metadata.push(m);
        self
    }
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }
    pub fn daily_api_limit(mut self, n: u64) -> Self {
        self.daily_api_limit = n;
        self
    }
    /// Each refresh returns a new refresh token and retires the old one.
    pub fn rotate_refresh_tokens(mut self, on: bool) -> Self {
        self.rotate_refresh_tokens = on;
        self
    }
    pub fn session_lifetime(mut self, d: Duration) -> Self {
        self.session_secs = d.as_secs() as i64;
        self
    }
    pub fn time_scale(mut self, scale: f64) -> Self {
        self.time_scale = scale;
        self
    }
    pub fn client_credentials(mut self, id: impl Into<String>, secret: impl Into<String>) -> Self {
        self.client_id = Some(id.into());
        self.client_secret = Some(secret.into());
        self
    }
    pub fn password(mut self, p: impl Into<String>) -> Self {
        self.password = Some(p.into());
        self
    }
    /// The public key (PEM, SPKI or PKCS#1) that JWT bearer assertions must be signed for.
    pub fn jwt_public_key(mut self, pem: impl Into<String>) -> Self {
        self.jwt_public_key = Some(pem.into());
        self
    }

    /// The Canvas app's URL (where record pages POST the signed request); overrides the one
    /// kept in the state directory.
    pub fn canvas_url(mut self, url: impl Into<String>) -> Self {
        self.canvas_url = Some(url.into());
        self
    }

    /// Binds, loads or creates the data, and serves until [`RunningOrg::shutdown`].
    pub async fn start(self) -> anyhow::Result<RunningOrg> {
        let canvas_url = self
            .canvas_url
            .as_deref()
            .map(canvas::parse_canvas_url)
            .transpose()
            .map_err(|e| anyhow::anyhow!("canvas {e}"))?;
        let _ = rustls::crypto::ring::default_provider().install_default();
        let std_listener = std::net::TcpListener::bind(self.listen)?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let host = if addr.ip().is_unspecified() {
            "127.0.0.1".to_string()
        } else {
            addr.ip().to_string()
        };
        let scheme = if self.tls { "https" } else { "http" };
        let base = format!("{scheme}://{host}:{}", addr.port());

        let clock = clock::Clock::new();
        clock.set_scale(self.time_scale);
        let creds_path = self.state_dir.as_ref().map(|d| d.join("app.json"));
        let saved: Option<AppCreds> = creds_path
            .as_ref()
            .and_then(|p| std::fs::read(p).ok())
            .and_then(|b| serde_json::from_slice(&b).ok());
        let creds = AppCreds {
            client_id: self
                .client_id
                .clone()
                .or(saved.as_ref().map(|s| s.client_id.clone()))
                .unwrap_or_else(|| format!("3MVG9sfsim{}", oauth::random_token(70))),
            client_secret: self
                .client_secret
                .clone()
                .or(saved.as_ref().map(|s| s.client_secret.clone()))
                .unwrap_or_else(|| oauth::random_token(64)),
            password: self
                .password
                .clone()
                .or(saved.as_ref().map(|s| s.password.clone()))
                .unwrap_or_else(|| format!("Sfsim-{}", oauth::random_token(12))),
        };
        if let (Some(dir), Some(p)) = (&self.state_dir, &creds_path) {
            org::create_private_dir(dir)?;
            org::write_private(p, &serde_json::to_vec_pretty(&creds)?)?;
        }

        let loaded = match &self.state_dir {
            Some(d) => org::load_snapshot(d)?,
            None => None,
        };
        let now = clock.now_ms();
        let (mut store, auth, rules, sender, fresh) = match loaded {
            Some(s) => (s.store, s.auth, s.rules, s.sender, false),
            None => (
                store::Store::new(now, &creds.password),
                oauth::Auth::default(),
                Vec::new(),
                None,
                true,
            ),
        };
        for u in store.users.iter_mut() {
            u.password = creds.password.clone();
        }
        let admin = store.admin().id;
        let ctx = store::Ctx {
            now,
            user: admin,
            profile: None,
        };
        if self.seed == Seed::Demo {
            store.apply_metadata(&seed::demo_metadata(), &ctx)?;
        }
        for m in &self.metadata {
            store.apply_metadata(m, &ctx)?;
        }
        if fresh && self.seed == Seed::Demo {
            seed::demo(&mut store, &ctx)?;
        }
        store.changes.clear();

        let config = Config {
            instance_url: base.clone(),
            login_url: base.clone(),
            client_id: creds.client_id.clone(),
            client_secret: creds.client_secret.clone(),
            redirect_uris: self.redirect_uris.clone(),
            rotate_refresh_tokens: self.rotate_refresh_tokens,
            session_ms: self.session_secs * 1000,
            state_dir: self.state_dir.clone(),
            jwt_public_key: self.jwt_public_key.clone(),
        };
        let state = Arc::new(OrgState::new(
            config,
            store,
            auth,
            clock,
            self.daily_api_limit,
        ));
        state.outbound.set_rules(rules);
        {
            let saved = state.config.state_dir.as_deref().and_then(canvas::load);
            let mut settings = saved.unwrap_or_default();
            if canvas_url.is_some() {
                settings.url = canvas_url;
            }
            *state.canvas.lock() = settings;
        }
        if let Some(sender) = sender {
            state.outbound.restore(sender);
        }
        let (access_token, refresh_token) = {
            let mut a = state.auth.lock();
            let org_id = state.org_id();
            let access = a.issue_access(
                org_id,
                admin,
                &creds.client_id,
                now + self.session_secs * 1000,
            );
            let refresh = a.issue_refresh(admin, &creds.client_id);
            (access, refresh)
        };
        state.mark_dirty();

        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let app = server::router(state.clone());
        let mut ca_cert = None;
        // Header names go out Title-Case on HTTP/1.1 (`Sforce-Locator`, `Content-Type`), as
        // Salesforce spells them: some clients copy headers into a plain dict and look them up
        // case-sensitively (Airbyte's Bulk 2.0 paginator reads `headers['Sforce-Locator']`).
        let server_handle = axum_server::Handle::new();
        let server = if self.tls {
            let dir = self
                .state_dir
                .clone()
                .unwrap_or_else(|| std::env::temp_dir().join(format!("sfsim-{}", addr.port())));
            let files = tls::ensure(&dir, &host)?;
            ca_cert = Some(files.ca_cert.clone());
            let cfg = axum_server::tls_rustls::RustlsConfig::from_pem(
                files.cert_chain_pem,
                files.key_pem,
            )
            .await?;
            let mut server = axum_server::from_tcp_rustls(std_listener, cfg);
            server.http_builder().http1().title_case_headers(true);
            let handle = server_handle.clone();
            tokio::spawn(async move {
                if let Err(e) = server.handle(handle).serve(app.into_make_service()).await {
                    tracing::error!("sfsim server stopped: {e}");
                }
            })
        } else {
            let mut server = axum_server::from_tcp(std_listener);
            server.http_builder().http1().title_case_headers(true);
            let handle = server_handle.clone();
            tokio::spawn(async move {
                if let Err(e) = server.handle(handle).serve(app.into_make_service()).await {
                    tracing::error!("sfsim server stopped: {e}");
                }
            })
        };
        tokio::spawn(outbound::run_sender(state.clone(), stop_rx.clone()));
        if state.config.state_dir.is_some() {
            let st = state.clone();
            let mut rx = stop_rx.clone();
            tokio::spawn(async move {
                loop {
                    tokio::select! {
                        _ = tokio::time::sleep(Duration::from_secs(2)) => {}
                        _ = rx.changed() => return,
                    }
                    if st.take_dirty() {
                        let s = st.clone();
                        let _ = tokio::task::spawn_blocking(move || s.snapshot()).await;
                    }
                }
            });
        }
        Ok(RunningOrg {
            state,
            access_token,
            refresh_token,
            stop: stop_tx,
            server,
            server_handle,
            ca_cert,
            password: creds.password,
        })
    }
}

/// A running org. Dropping it leaves the server running until the runtime ends; call
/// [`RunningOrg::shutdown`] to stop it and write the final snapshot.
pub struct RunningOrg {
    state: Arc<OrgState>,
    access_token: String,
    refresh_token: String,
    stop: tokio::sync::watch::Sender<bool>,
    server: tokio::task::JoinHandle<()>,
    server_handle: axum_server::Handle,
    ca_cert: Option<PathBuf>,
    password: String,
}

/// The ready line `sonde sfsim` prints, also served at `/_sim/info`.
pub fn info_json(state: &OrgState, extra: Option<(&str, &str, &str)>) -> serde_json::Value {
    let store = state.store.read();
    let admin = store.admin();
    let mut v = serde_json::json!({
        "login_url": state.login_url(),
        "instance_url": state.instance_url(),
        "org_id": store.org_id.to18(),
        "client_id": state.config.client_id,
        "client_secret": state.config.client_secret,
        "redirect_uris": state.config.redirect_uris,
        "username": admin.username,
        "password": admin.password,
        "security_token": store.security_token,
        "canvas_url": state.canvas.lock().url,
        "users": store.users.iter().map(|u| {
            let profile = store.meta.profile(&u.profile_id).map(|p| p.name.clone()).unwrap_or_default();
            serde_json::json!({"username": u.username, "profile": profile})
        }).collect::<Vec<_>>(),
    });
    if let Some((access, refresh, ca)) = extra {
        v["access_token"] = serde_json::json!(access);
        v["refresh_token"] = serde_json::json!(refresh);
        if !ca.is_empty() {
            v["ca_cert"] = serde_json::json!(ca);
        }
    }
    v
}

impl RunningOrg {
    /// The instance URL (REST calls go here); same host as the login URL.
    pub fn base_url(&self) -> &str {
        self.state.instance_url()
    }
    pub fn login_url(&self) -> &str {
        self.state.login_url()
    }
    pub fn instance_url(&self) -> &str {
        self.state.instance_url()
    }
    /// `host:port` of the login and instance URLs: what a client's list of allowed hosts
    /// (Sonde's `SONDE_SALESFORCE_ALLOWED_HOSTS`) names for this org, which is not on a
    /// Salesforce domain.
    pub fn host(&self) -> String {
        url::Url::parse(self.state.instance_url())
            .ok()
            .and_then(|u| {
                let host = u.host_str()?.to_string();
                Some(match u.port_or_known_default() {
                    Some(port) => format!("{host}:{port}"),
                    None => host,
                })
            })
            .unwrap_or_default()
    }
    pub fn org_id(&self) -> String {
        self.state.org_id().to18()
    }
    pub fn client_id(&self) -> &str {
        &self.state.config.client_id
    }
    pub fn client_secret(&self) -> &str {
        &self.state.config.client_secret
    }
    pub fn redirect_uris(&self) -> &[String] {
        &self.state.config.redirect_uris
    }
    /// The System Administrator's username.
    pub fn username(&self) -> String {
        self.state.store.read().admin().username.clone()
    }
    /// The password every built-in user signs in with.
    pub fn password(&self) -> &str {
        &self.password
    }
    pub fn security_token(&self) -> String {
        self.state.store.read().security_token.clone()
    }
    /// A session for the admin, issued at start.
    pub fn access_token(&self) -> &str {
        &self.access_token
    }
    pub fn refresh_token(&self) -> &str {
        &self.refresh_token
    }
    /// The CA certificate to trust when started with TLS.
    pub fn ca_cert(&self) -> Option<&std::path::Path> {
        self.ca_cert.as_deref()
    }
    /// `(username, profile name)` of every user who can sign in.
    pub fn users(&self) -> Vec<(String, String)> {
        let store = self.state.store.read();
        store
            .users
            .iter()
            .map(|u| {
                (
                    u.username.clone(),
                    store
                        .meta
                        .profile(&u.profile_id)
                        .map(|p| p.name.clone())
                        .unwrap_or_default(),
                )
            })
            .collect()
    }
    /// A fresh session for any user (e.g. the restricted or no-API one) without an OAuth dance.
    pub fn session_for(&self, username: &str) -> Option<String> {
        let user = self
            .state
            .store
            .read()
            .users
            .iter()
            .find(|u| u.username == username)
            .map(|u| u.id)?;
        let now = self.state.clock.now_ms();
        let org = self.state.org_id();
        Some(self.state.auth.lock().issue_access(
            org,
            user,
            &self.state.config.client_id,
            now + self.state.config.session_ms,
        ))
    }
    /// Sets (or with `None` removes) the Canvas app's URL, e.g. Sonde's `…/panel`.
    pub fn set_canvas_url(&self, url: Option<&str>) -> Result<(), String> {
        let url = url.map(canvas::parse_canvas_url).transpose()?;
        self.state.canvas.lock().url = url;
        self.state.mark_dirty();
        Ok(())
    }
    /// Whether record pages send `environment.record` (on by default); off, requests carry
    /// the empty record Lightning's `force:canvasApp` sends, the id in `parameters` only.
    pub fn set_canvas_send_record(&self, on: bool) {
        self.state.canvas.lock().send_record = on;
        self.state.mark_dirty();
    }
    pub fn canvas_url(&self) -> Option<String> {
        self.state.canvas.lock().url.clone()
    }
    /// Changes a user's email (what the Canvas context and identity URLs report); false
    /// when the org has no such user.
    pub fn set_user_email(&self, username: &str, email: &str) -> bool {
        let done = self.state.store.write().set_user_email(username, email);
        if done {
            self.state.mark_dirty();
        }
        done
    }
    /// The email of a user (the admin when `username` is None).
    pub fn user_email(&self, username: Option<&str>) -> Option<String> {
        let store = self.state.store.read();
        let id = canvas::user_id(&store, username).ok()?;
        store.user(id).map(|u| u.email.clone())
    }
    /// A signed request for one record, as its record page posts it, for `username` (the
    /// admin when None).
    pub fn canvas_signed_request(
        &self,
        object: &str,
        record_id: &str,
        username: Option<&str>,
    ) -> Result<String, String> {
        let id = canvas::find_record(&self.state.store.read(), object, record_id)
            .ok_or_else(|| format!("no {object} {record_id}"))?;
        let target = canvas::Target::Record {
            object: object.to_string(),
            id,
        };
        canvas::signed_request(&self.state, &target, username).map_err(|e| e.to_string())
    }
    /// The record page hosting the Canvas app: `{instance}/lightning/r/{object}/{id}/view`.
    pub fn record_page_url(&self, object: &str, record_id: &str) -> String {
        format!(
            "{}/lightning/r/{object}/{record_id}/view",
            self.instance_url()
        )
    }

    /// The JSON the CLI prints when ready.
    pub fn info(&self) -> serde_json::Value {
        let ca = self
            .ca_cert
            .as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default();
        info_json(
            &self.state,
            Some((&self.access_token, &self.refresh_token, &ca)),
        )
    }

    /// Calls per endpoint name (`sobject.create`, `query`, `queryMore`, `collections.create`,
    /// `bulk.getQueryResults`, ...), counted since start or the last reset.
    pub fn calls(&self) -> BTreeMap<String, u64> {
        self.state.limits.calls()
    }
    pub fn calls_to(&self, endpoint: &str) -> u64 {
        self.state.limits.calls_to(endpoint)
    }
    pub fn reset_calls(&self) {
        self.state.limits.reset_calls()
    }
    /// `(used, max)` of the daily API allocation.
    pub fn api_usage(&self) -> (u64, u64) {
        self.state.limits.usage(self.state.clock.now_ms())
    }
    pub fn set_daily_api_limit(&self, max: u64) {
        self.state.limits.set_max(max)
    }
    /// Refuses every API call with REQUEST_LIMIT_EXCEEDED until turned off.
    pub fn exhaust_api_limit(&self, on: bool) {
        self.state.limits.set_exhausted(on)
    }

    /// Org time in milliseconds since the epoch.
    pub fn now_ms(&self) -> i64 {
        self.state.clock.now_ms()
    }
    pub fn set_time_ms(&self, ms: i64) {
        self.state.clock.set_ms(ms);
        self.state.outbound.wake.notify_one();
    }
    pub fn advance(&self, by: Duration) {
        self.state.clock.advance(by);
        self.state.outbound.wake.notify_one();
    }
    pub fn set_time_scale(&self, scale: f64) {
        self.state.clock.set_scale(scale);
        self.state.outbound.wake.notify_one();
    }

    pub fn set_faults(&self, f: Faults) {
        *self.state.faults.lock() = f;
    }
    pub fn clear_faults(&self) {
        *self.state.faults.lock() = Faults::default();
    }
    /// Ends every access token now (refresh tokens keep working).
    pub fn expire_sessions(&self) {
        self.state.auth.lock().expire_all()
    }

    /// Adds an outbound message rule; returns its id.
    pub fn add_outbound_rule(&self, rule: OutboundRule) -> Result<String, String> {
        let store = self.state.store.read();
        let id = self.state.outbound.add_rule(&store, rule)?;
        self.state.mark_dirty();
        Ok(id)
    }
    pub fn remove_outbound_rule(&self, id: &str) -> bool {
        self.state.outbound.remove_rule(id)
    }
    pub fn set_outbound_settings(&self, s: OutboundSettings) {
        *self.state.outbound.settings.lock() = s;
    }
    /// Every POST the outbound sender made, in order.
    pub fn outbound_deliveries(&self) -> Vec<Delivery> {
        self.state.outbound.deliveries()
    }
    /// Notifications not yet acknowledged (nor dropped).
    pub fn outbound_pending(&self) -> usize {
        self.state.outbound.pending_count()
    }
    pub fn outbound_dropped(&self) -> u64 {
        self.state.outbound.dropped_count()
    }

    /// Writes the state directory now (no-op without `--state`).
    pub fn snapshot(&self) -> anyhow::Result<()> {
        self.state.snapshot()
    }

    /// Stops serving and writes the final snapshot.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        self.server_handle
            .graceful_shutdown(Some(Duration::from_secs(1)));
        let _ = tokio::time::timeout(Duration::from_secs(3), self.server).await;
        let st = self.state.clone();
        let _ = tokio::task::spawn_blocking(move || st.snapshot()).await;
    }
}
