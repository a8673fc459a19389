//! Linked Salesforce orgs: the OAuth web-server flow with state and PKCE, tokens sealed at
//! rest, one live `salesforce::Connection` per link per process (its single-flight refresh saves
//! new tokens before using them), disconnect that revokes, and the per-workflow access check.

use crate::secrets::SecretBox;
use crate::{Actor, Error, Result, Sonde};
use salesforce::{AllowedHosts, Connection, OAuthConfig, Secret, TokenPersistence, Tokens};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};
use store::connections::ConnectionRow;
use store::Store;

/// The most orgs one user may link.
pub const MAX_CONNECTIONS_PER_USER: usize = 5;
/// How long an authorize link stays valid.
const PENDING_TTL_MS: i64 = 15 * 60_000;

/// The connected app and delivery settings, from config and environment.
#[derive(Clone, Default)]
pub struct SalesforceSettings {
    pub client_id: Option<String>,
    pub client_secret: Option<Secret>,
    /// Share of the org's daily API allocation (0..1) that delivery leaves untouched.
    pub api_reserve: f64,
    /// How long an org's work waits after REQUEST_LIMIT_EXCEEDED before trying again.
    pub limit_pause_ms: i64,
    /// Base of the retry backoff (doubled per attempt, capped at ten minutes).
    pub retry_base_ms: i64,
    /// Attempts before a retryable failure becomes a failed run.
    pub max_attempts: i64,
    /// How long a worker's claim on a batch of workflow runs lasts; renewed every third of it
    /// while the batch is still being worked (`delivery::leases`), so it only runs out for a
    /// worker that stopped.
    pub run_lease_ms: i64,
    /// Hosts login and instance URLs may be on: Salesforce's domains over HTTPS, plus what the
    /// operator lists in `SONDE_SALESFORCE_ALLOWED_HOSTS` (a local org such as `sonde sfsim`).
    pub allowed_hosts: AllowedHosts,
}

/// The variable naming hosts beyond Salesforce's own that orgs may be linked at.
pub const ALLOWED_HOSTS_VAR: &str = "SONDE_SALESFORCE_ALLOWED_HOSTS";

impl std::fmt::Debug for SalesforceSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SalesforceSettings")
            .field("client_id", &self.client_id)
            .field("api_reserve", &self.api_reserve)
            .field("allowed_hosts", &self.allowed_hosts)
            .finish_non_exhaustive()
    }
}

impl SalesforceSettings {
    /// `SONDE_SALESFORCE_ALLOWED_HOSTS`: a comma-separated list of `host`, `host:port` or
    /// `*.domain` entries; unset means Salesforce's domains only. The server checks it at start
    /// so a typo stops it with this message instead of silently refusing every link.
    pub fn allowed_hosts_from_env() -> std::result::Result<AllowedHosts, String> {
        let list = std::env::var(ALLOWED_HOSTS_VAR).unwrap_or_default();
        AllowedHosts::parse(&list).map_err(|e| format!("{ALLOWED_HOSTS_VAR}: {e}"))
    }

    /// `SONDE_SALESFORCE_CLIENT_ID`, `SONDE_SALESFORCE_CLIENT_SECRET`,
    /// `SONDE_SALESFORCE_API_RESERVE` (percent, default 10), `SONDE_SALESFORCE_ALLOWED_HOSTS`
    /// (unreadable: Salesforce's domains only, which is never less safe).
    pub fn from_env() -> Self {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.trim().is_empty());
        SalesforceSettings {
            client_id: var("SONDE_SALESFORCE_CLIENT_ID"),
            client_secret: var("SONDE_SALESFORCE_CLIENT_SECRET").map(Secret::new),
            api_reserve: var("SONDE_SALESFORCE_API_RESERVE")
                .and_then(|v| v.parse::<f64>().ok())
                .map(|p| (p / 100.0).clamp(0.0, 0.9))
                .unwrap_or(0.10),
            allowed_hosts: Self::allowed_hosts_from_env().unwrap_or_else(|e| {
                tracing::error!("{e}; only Salesforce's own hosts are allowed");
                AllowedHosts::salesforce_only()
            }),
            ..Self::defaults()
        }
    }

    pub fn defaults() -> Self {
        SalesforceSettings {
            client_id: None,
            client_secret: None,
            api_reserve: 0.10,
            limit_pause_ms: 15 * 60_000,
            retry_base_ms: 1_000,
            max_attempts: 10,
            run_lease_ms: 2 * 60_000,
            allowed_hosts: AllowedHosts::salesforce_only(),
        }
    }
}

/// An Account's contacts as read at a moment (ms).
pub(crate) type AccountContacts = (i64, std::sync::Arc<Vec<String>>);

/// Process-wide Salesforce state shared by every clone of `Sonde`.
#[derive(Default)]
pub(crate) struct SalesforceState {
    pub settings: RwLock<SalesforceSettings>,
    pub secrets: RwLock<Option<SecretBox>>,
    /// Live connections by link id, with the sealed tokens they were built from: when the
    /// stored tokens change (a relink, or another node's refresh) the connection is rebuilt.
    pub live: Mutex<HashMap<String, (String, Connection)>>,
    /// The panel's Accounts' contacts by (link, Account), read at most every few minutes
    /// (`panel::sends`): an Account's page is opened far more often than its contacts change.
    pub account_contacts: Mutex<HashMap<(String, String), AccountContacts>>,
}

impl SalesforceState {
    pub fn new() -> Self {
        let s = SalesforceState::default();
        *s.settings.write().unwrap_or_else(|p| p.into_inner()) = SalesforceSettings::from_env();
        if let Ok(Some(b)) = SecretBox::from_env() {
            *s.secrets.write().unwrap_or_else(|p| p.into_inner()) = Some(b);
        }
        s
    }
}

/// A linked org as the API shows it (never its tokens).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SalesforceConnection {
    pub id: String,
    pub environment: String,
    pub login_url: String,
    pub status: String,
    pub instance_url: Option<String>,
    pub salesforce_org_id: Option<String>,
    pub salesforce_user_id: Option<String>,
    pub username: Option<String>,
    /// The org's name, as the org gave it (null until read; a user without API access
    /// cannot read it).
    pub org_name: Option<String>,
    /// production or sandbox, as the org said or the login URL implies (null for a My Domain
    /// login whose org has not said).
    pub org_environment: Option<&'static str>,
    /// Org name, environment and username: how the link is shown wherever it is picked.
    pub label: String,
    pub paused_until: Option<i64>,
    pub last_error: Option<String>,
    pub created_at: i64,
}

impl From<&ConnectionRow> for SalesforceConnection {
    fn from(r: &ConnectionRow) -> Self {
        SalesforceConnection {
            id: r.id.clone(),
            environment: r.environment.clone(),
            login_url: r.login_url.clone(),
            status: r.status.clone(),
            instance_url: r.instance_url.clone(),
            salesforce_org_id: r.sf_org_id.clone(),
            salesforce_user_id: r.sf_user_id.clone(),
            username: r.username.clone(),
            org_name: r.sf_org_name.clone(),
            org_environment: crate::linked_orgs::org_environment(r),
            label: crate::linked_orgs::label(r),
            paused_until: r.paused_until,
            last_error: r.last_error.clone(),
            created_at: r.created_at,
        }
    }
}

/// Body of `POST /api/v1/salesforce/connections`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct StartLink {
    /// production (default), sandbox or custom.
    #[serde(default)]
    pub environment: Option<String>,
    /// A My Domain URL, for `custom`.
    #[serde(default)]
    pub login_url: Option<String>,
    /// Reconnect this existing link (after Salesforce refused its tokens) instead of adding
    /// one: workflows bound to it keep working once it is relinked.
    #[serde(default)]
    pub connection_id: Option<String>,
}

#[derive(Serialize, Deserialize)]
struct StoredTokens {
    access_token: String,
    refresh_token: Option<String>,
    instance_url: String,
}

/// Saves refreshed tokens, sealed, before the connection uses them.
struct StorePersistence {
    store: Store,
    secrets: SecretBox,
    id: String,
}

impl TokenPersistence for StorePersistence {
    fn save<'a>(
        &'a self,
        tokens: &'a Tokens,
    ) -> futures::future::BoxFuture<'a, std::result::Result<(), String>> {
        Box::pin(async move {
            let sealed = self.secrets.seal(&tokens_json(tokens));
            self.store
                .save_connection_tokens(&self.id, &sealed)
                .await
                .map_err(|e| e.to_string())
        })
    }
}

fn tokens_json(t: &Tokens) -> String {
    serde_json::to_string(&StoredTokens {
        access_token: t.access_token.expose().to_string(),
        refresh_token: t.refresh_token.as_ref().map(|s| s.expose().to_string()),
        instance_url: t.instance_url.clone(),
    })
    .unwrap_or_default()
}

fn new_connection_id() -> String {
    format!("SC_{}", store::ids::random_token(15))
}

/// What to tell the person linking when a URL is not one credentials may go to.
fn untrusted_host(e: &salesforce::Error) -> Option<String> {
    match e {
        salesforce::Error::UntrustedHost(why) => Some(format!(
            "{why}. Salesforce orgs live on https:// Salesforce hosts; an operator can allow another host (a local org) with {ALLOWED_HOSTS_VAR}"
        )),
        _ => None,
    }
}

fn login_url_for(input: &StartLink, allowed: &AllowedHosts) -> Result<(String, String)> {
    let env = input.environment.as_deref().unwrap_or("production");
    match env {
        "production" => Ok((env.into(), salesforce::oauth::PRODUCTION_LOGIN_URL.into())),
        "sandbox" => Ok((env.into(), salesforce::oauth::SANDBOX_LOGIN_URL.into())),
        "custom" => {
            let raw = input.login_url.as_deref().unwrap_or("").trim();
            let url = url::Url::parse(raw).map_err(|_| {
                Error::invalid_fields(
                    "a custom login needs your My Domain URL",
                    vec![crate::FieldProblem {
                        field: "loginUrl".into(),
                        message: "must be a URL such as https://acme.my.salesforce.com".into(),
                    }],
                )
            })?;
            // The client secret and the authorization code go to this host.
            if let Err(e) = allowed.check(url.as_str(), "the login URL") {
                return Err(Error::invalid_fields(
                    "the login URL is not a Salesforce host",
                    vec![crate::FieldProblem {
                        field: "loginUrl".into(),
                        message: untrusted_host(&e).unwrap_or_else(|| e.to_string()),
                    }],
                ));
            }
            Ok((env.into(), raw.trim_end_matches('/').to_string()))
        }
        other => Err(Error::invalid_fields(
            "unknown environment",
            vec![crate::FieldProblem {
                field: "environment".into(),
                message: format!("{other:?} is not one of production, sandbox, custom"),
            }],
        )),
    }
}

impl Sonde {
    /// Sets the connected app and delivery settings (the server reads them from the
    /// environment at start; tests point them at a local org).
    pub fn configure_salesforce(&self, settings: SalesforceSettings) {
        *self
            .salesforce
            .settings
            .write()
            .unwrap_or_else(|p| p.into_inner()) = settings;
    }

    /// Why work on this connection must wait now, if it must: the org's daily API budget (as
    /// Salesforce last reported it) is down to the reserve Sonde leaves for the org's own
    /// integrations. Delivery and inbound runs both ask before they spend calls.
    pub(crate) fn api_reserve_reached(&self, conn: &Connection) -> Option<String> {
        let usage = conn.budget().usage()?;
        let reserve = (usage.max as f64 * self.salesforce_settings().api_reserve).ceil() as u64;
        (usage.max > 0 && usage.remaining() <= reserve).then(|| {
            format!(
                "kept the reserve of the org's daily API budget ({} of {} left)",
                usage.remaining(),
                usage.max
            )
        })
    }

    pub fn salesforce_settings(&self) -> SalesforceSettings {
        self.salesforce
            .settings
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Installs the key that seals tokens at rest.
    pub fn set_secret_box(&self, secrets: SecretBox) {
        *self
            .salesforce
            .secrets
            .write()
            .unwrap_or_else(|p| p.into_inner()) = Some(secrets);
    }

    pub(crate) fn secret_box(&self) -> Result<SecretBox> {
        self.salesforce
            .secrets
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .ok_or_else(|| {
                let hint = match self.store.backend() {
                    store::Backend::Postgres => {
                        "set SONDE_SECRET_KEY (base64 of 32 bytes, the same on every node) to store Salesforce tokens"
                    }
                    store::Backend::Sqlite => {
                        "no secret key: set SONDE_SECRET_KEY or start with a data directory"
                    }
                };
                Error::Internal(hint.into())
            })
    }

    fn oauth_config(&self, login_url: &str) -> Result<OAuthConfig> {
        let settings = self.salesforce_settings();
        let client_id = settings.client_id.ok_or_else(|| {
            Error::invalid(
                "Salesforce linking is not configured: set SONDE_SALESFORCE_CLIENT_ID and SONDE_SALESFORCE_CLIENT_SECRET",
            )
        })?;
        let mut config = OAuthConfig::new(login_url, client_id)
            .redirect_uri(format!("{}/oauth/salesforce/callback", self.public_url()))
            .allowed_hosts(settings.allowed_hosts);
        if let Some(secret) = settings.client_secret {
            config = config.client_secret(secret);
        }
        Ok(config)
    }

    /// The caller's linked orgs.
    pub async fn salesforce_connections(&self, actor: &Actor) -> Result<Vec<SalesforceConnection>> {
        Ok(self
            .store
            .connections_of_user(&actor.org_id, &actor.user_id)
            .await?
            .iter()
            .map(SalesforceConnection::from)
            .collect())
    }

    /// Starts linking an org: returns the Salesforce authorize URL to send the browser to.
    pub async fn start_salesforce_link(&self, actor: &Actor, input: StartLink) -> Result<String> {
        actor.require(crate::Role::Editor)?;
        if let Some(id) = &input.connection_id {
            let mut row = self.own_connection(actor, id).await?;
            let config = self.oauth_config(&row.login_url)?;
            let secrets = self.secret_box()?;
            let req = salesforce::authorize_url(&config, Some("api refresh_token"))
                .map_err(|e| Error::invalid(untrusted_host(&e).unwrap_or_else(|| e.to_string())))?;
            row.oauth_state = Some(req.state.clone());
            row.pkce_verifier = Some(secrets.seal(req.pkce.verifier.expose()));
            row.updated_at = store::now_ms();
            self.store.update_connection(&row).await?;
            return Ok(req.url.to_string());
        }
        let (environment, login_url) =
            login_url_for(&input, &self.salesforce_settings().allowed_hosts)?;
        self.ensure_room_for_connection(actor).await?;
        let config = self.oauth_config(&login_url)?;
        let secrets = self.secret_box()?;
        let req = salesforce::authorize_url(&config, Some("api refresh_token"))
            .map_err(|e| Error::invalid(e.to_string()))?;
        let now = store::now_ms();
        self.store
            .insert_connection(&ConnectionRow {
                id: new_connection_id(),
                org_id: actor.org_id.clone(),
                user_id: actor.user_id.clone(),
                environment,
                login_url,
                status: "pending".into(),
                tokens: None,
                pkce_verifier: Some(secrets.seal(req.pkce.verifier.expose())),
                oauth_state: Some(req.state.clone()),
                instance_url: None,
                sf_org_id: None,
                sf_user_id: None,
                username: None,
                sf_org_name: None,
                sf_is_sandbox: None,
                paused_until: None,
                last_error: None,
                created_at: now,
                updated_at: now,
            })
            .await?;
        Ok(req.url.to_string())
    }

    pub(crate) async fn ensure_room_for_connection(&self, actor: &Actor) -> Result<()> {
        let linked = self
            .store
            .connections_of_user(&actor.org_id, &actor.user_id)
            .await?;
        if linked.len() >= MAX_CONNECTIONS_PER_USER {
            return Err(Error::Conflict(format!(
                "you have already linked {MAX_CONNECTIONS_PER_USER} Salesforce orgs, the most one user may; disconnect one before linking another (to relink one of them, use its Reconnect)"
            )));
        }
        Ok(())
    }

    /// The OAuth callback: checks `state`, exchanges the code with the PKCE verifier, and
    /// stores the sealed tokens. Errors are meant to be shown to the person in the browser.
    pub async fn finish_salesforce_link(
        &self,
        state: &str,
        code: Option<&str>,
        error: Option<&str>,
    ) -> Result<crate::linked_orgs::Linked> {
        let mut row = self
            .store
            .connection_by_state(state)
            .await?
            .filter(|r| r.status != "revoked")
            .ok_or_else(|| {
                Error::invalid("this Salesforce sign-in link is unknown or was already used; start linking again")
            })?;
        let relink = row.status != "pending";
        // A relink's age is that of its latest start, not of the link.
        let started = if relink {
            row.updated_at
        } else {
            row.created_at
        };
        if let Some(err) = error {
            if !relink {
                self.store.delete_connection(&row.id).await?;
            }
            return Err(Error::invalid(format!(
                "Salesforce did not grant access ({err}); nothing was linked"
            )));
        }
        if store::now_ms() - started > PENDING_TTL_MS {
            if !relink {
                self.store.delete_connection(&row.id).await?;
            }
            return Err(Error::invalid(
                "this Salesforce sign-in took too long; start linking again",
            ));
        }
        let code = code.ok_or_else(|| Error::invalid("the callback carries no code"))?;
        let secrets = self.secret_box()?;
        let verifier = row
            .pkce_verifier
            .as_deref()
            .map(|v| secrets.open(v))
            .transpose()
            .map_err(|e| Error::Internal(Box::new(e)))?
            .map(Secret::new);
        let config = self.oauth_config(&row.login_url)?;
        let oauth = salesforce::OAuthClient::new(config.clone())
            .map_err(|e| Error::Internal(Box::new(e)))?;
        let got = oauth
            .exchange_code(code, verifier.as_ref())
            .await
            .map_err(|e| match untrusted_host(&e) {
                Some(why) => Error::invalid(format!("nothing was linked: {why}")),
                None => Error::invalid(format!("Salesforce refused the sign-in: {e}")),
            })?;
        let (sf_org_id, sf_user_id) = (
            got.org_id().map(str::to_string),
            got.user_id().map(str::to_string),
        );
        let tokens: Tokens = got.into();
        // The same org and Salesforce user as an existing link is that link, relinked.
        let (mut target, merged) = match self
            .link_target(&row, sf_org_id.as_deref(), sf_user_id.as_deref())
            .await
        {
            Ok(t) => t,
            Err(e) => {
                // Nothing will use these tokens: give them back and close the sign-in.
                let unused = tokens
                    .refresh_token
                    .as_ref()
                    .unwrap_or(&tokens.access_token);
                if let Err(why) = oauth.revoke(unused).await {
                    tracing::warn!(connection = %row.id, error = %why, "revoking unused tokens failed");
                }
                if relink {
                    row.oauth_state = None;
                    row.pkce_verifier = None;
                    self.store.update_connection(&row).await?;
                } else {
                    self.store.delete_connection(&row.id).await?;
                }
                return Err(e);
            }
        };
        target.sf_org_id = sf_org_id;
        target.sf_user_id = sf_user_id;
        target.instance_url = Some(tokens.instance_url.trim_end_matches('/').to_string());
        target.tokens = Some(secrets.seal(&tokens_json(&tokens)));
        target.pkce_verifier = None;
        target.oauth_state = None;
        target.status = "active".into();
        target.last_error = None;
        target.paused_until = None;
        if merged {
            self.store.delete_connection(&row.id).await?;
        }
        self.store.update_connection(&target).await?;
        self.forget_live(&target.id);
        // Who linked and what the org is called, for the labels; not worth failing over.
        self.refresh_link_facts(&mut target).await?;
        Ok(crate::linked_orgs::Linked {
            connection: SalesforceConnection::from(&target),
            relinked: merged || relink,
        })
    }

    pub(crate) async fn owner_actor(&self, org_id: &str, user_id: &str) -> Result<Actor> {
        let user = self
            .store
            .user_in_org(org_id, user_id)
            .await?
            .ok_or(Error::NotFound("user"))?;
        self.user_by_email(&user.email).await
    }

    /// The caller's own connection (others' are "not found").
    pub(crate) async fn own_connection(&self, actor: &Actor, id: &str) -> Result<ConnectionRow> {
        self.store
            .connection_by_id(id)
            .await?
            .filter(|c| c.org_id == actor.org_id && c.user_id == actor.user_id)
            .filter(|c| c.status != "pending" && c.status != "revoked")
            .ok_or(Error::NotFound("Salesforce connection"))
    }

    /// Disconnects: revokes the tokens at Salesforce and forgets them here. The answer names
    /// the enabled workflows whose runs fail until the same Salesforce user links the org
    /// again (which revives this very connection).
    pub async fn disconnect_salesforce(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<crate::linked_orgs::Disconnected> {
        actor.require(crate::Role::Editor)?;
        let mut row = self.own_connection(actor, id).await?;
        let enabled_workflows = self.enabled_workflows_using(actor, id).await?;
        if let Ok(conn) = self.live_connection(id).await {
            if let Err(e) = conn.revoke().await {
                tracing::warn!(connection = %id, error = %e, "revoking at Salesforce failed; forgetting the tokens anyway");
            }
        }
        self.forget_live(id);
        row.status = "revoked".into();
        row.tokens = None;
        row.last_error = Some("disconnected".into());
        self.store.update_connection(&row).await?;
        let message = match enabled_workflows.len() {
            0 => "disconnected; no enabled workflow used this org".to_string(),
            n => format!(
                "disconnected; {n} enabled workflow{} wrote through this org and will fail until you link it again as {} (the same connection comes back)",
                if n == 1 { "" } else { "s" },
                row.username.as_deref().unwrap_or("the same Salesforce user"),
            ),
        };
        Ok(crate::linked_orgs::Disconnected {
            connection: SalesforceConnection::from(&row),
            enabled_workflows,
            message,
        })
    }

    pub(crate) fn forget_live(&self, id: &str) {
        self.salesforce
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id);
    }

    /// The process's one live connection for a link, built from its sealed tokens.
    pub async fn live_connection(&self, id: &str) -> Result<Connection> {
        let row = self
            .store
            .connection_by_id(id)
            .await?
            .ok_or(Error::NotFound("Salesforce connection"))?;
        let sealed = row.tokens.as_deref().ok_or_else(|| {
            Error::invalid("this Salesforce connection is not linked; reconnect it")
        })?;
        if let Some((built_from, c)) = self
            .salesforce
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
        {
            // Our own refresh also changes the stored tokens; the clone's session has them
            // already, so only a change made elsewhere needs a rebuild.
            if built_from == sealed || c.tokens() == self.open_tokens(sealed)? {
                return Ok(c.clone());
            }
        }
        let secrets = self.secret_box()?;
        let tokens = self.open_tokens(sealed)?;
        let conn = Connection::builder(tokens)
            .oauth(self.oauth_config(&row.login_url)?)
            .persistence(StorePersistence {
                store: self.store.clone(),
                secrets,
                id: id.to_string(),
            })
            .build()
            .map_err(|e| match untrusted_host(&e) {
                Some(why) => Error::invalid(format!(
                    "this Salesforce connection cannot be used: {why}; relink it"
                )),
                None => Error::Internal(Box::new(e)),
            })?;
        self.salesforce
            .live
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(id.to_string(), (sealed.to_string(), conn.clone()));
        Ok(conn)
    }

    /// A link's connection at an API version other than the shared one's (an inbound job's
    /// `apiVersion`): built afresh on the link's current tokens, a refresh still saved to the
    /// link, so the shared connection picks the new tokens up.
    pub(crate) async fn live_connection_at(
        &self,
        id: &str,
        version: Option<&str>,
    ) -> Result<Connection> {
        let shared = self.live_connection(id).await?;
        let Some(version) = version
            .map(|v| v.trim_start_matches('v'))
            .filter(|v| *v != shared.api_version())
        else {
            return Ok(shared);
        };
        let row = self
            .store
            .connection_by_id(id)
            .await?
            .ok_or(Error::NotFound("Salesforce connection"))?;
        Connection::builder(shared.tokens())
            .oauth(self.oauth_config(&row.login_url)?)
            .api_version(version)
            .persistence(StorePersistence {
                store: self.store.clone(),
                secrets: self.secret_box()?,
                id: id.to_string(),
            })
            .build()
            .map_err(|e| Error::Internal(Box::new(e)))
    }

    fn open_tokens(&self, sealed: &str) -> Result<Tokens> {
        let stored: StoredTokens = serde_json::from_str(
            &self
                .secret_box()?
                .open(sealed)
                .map_err(|e| Error::Internal(Box::new(e)))?,
        )?;
        Ok(Tokens {
            access_token: Secret::new(stored.access_token),
            refresh_token: stored.refresh_token.map(Secret::new),
            instance_url: stored.instance_url,
        })
    }
}

pub(crate) type Shared = Arc<SalesforceState>;
