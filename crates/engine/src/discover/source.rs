//! Where an inbound job reads from: one of the caller's linked orgs, or the job's own
//! Salesforce account (the OAuth password grant; its client secret and password sealed apart
//! from the settings and never answered) — at the job's API version, deleted rows included
//! when the job asks (`queryAll`), and not at all once the job's credential has expired.

use super::{problem, JobSettings};
use crate::{Actor, Error, FieldProblem, Result, Sonde};
use futures::stream::BoxStream;
use futures::StreamExt;
use salesforce::{Connection, OAuthClient, OAuthConfig, Secret};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use store::discover::JobRow;
use store::discover_accounts::JobAccountSecretsRow;
use store::Store;

/// A job's own Salesforce account. The client secret and password are taken, kept sealed and
/// never answered; `hasClientSecret` and `hasPassword` say they are kept.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JobAccount {
    /// The connected app's consumer key.
    pub client_id: String,
    /// The connected app's consumer secret (write-only).
    #[serde(default, skip_serializing_if = "never_answered")]
    #[schema(write_only)]
    pub client_secret: Option<String>,
    pub username: String,
    /// The user's password, with the security token appended when the org asks for one
    /// (write-only).
    #[serde(default, skip_serializing_if = "never_answered")]
    #[schema(write_only)]
    pub password: Option<String>,
    /// The login host or My Domain; default `https://login.salesforce.com`, or
    /// `https://test.salesforce.com` for a test environment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub login_url: Option<String>,
    /// A sandbox.
    #[serde(default)]
    pub test_environment: bool,
    #[serde(default)]
    #[schema(read_only)]
    pub has_client_secret: bool,
    #[serde(default)]
    #[schema(read_only)]
    pub has_password: bool,
}

/// Secrets are never written out, to the API or to the stored settings. (A plain
/// `skip_serializing` would drop them from the OpenAPI schema too, where a request needs them.)
fn never_answered(_: &Option<String>) -> bool {
    true
}

impl std::fmt::Debug for JobAccount {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JobAccount")
            .field("client_id", &self.client_id)
            .field("username", &self.username)
            .field("login_url", &self.login_url)
            .field("test_environment", &self.test_environment)
            .finish_non_exhaustive()
    }
}

/// An API version an org serves, as the job form's picker offers it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ApiVersionOffered {
    /// `62.0`: what `apiVersion` takes.
    pub version: String,
    /// The release's name, `Winter '25`.
    pub label: String,
}

/// Whose API versions are asked for: a linked org of yours or an account, one of the two.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct VersionsOf {
    #[serde(default)]
    pub connection_id: Option<String>,
    #[serde(default)]
    pub account: Option<JobAccount>,
}

/// A job's new credential: its account (secrets included) and when it expires.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewCredential {
    pub account: JobAccount,
    #[serde(default)]
    #[schema(value_type = Option<String>, format = Date)]
    pub credential_expires_on: Option<chrono::NaiveDate>,
    #[serde(default)]
    pub reminder_days_before: Option<u32>,
}

/// An account's secrets in the clear, only ever in memory.
pub(crate) struct AccountSecrets {
    pub client_secret: Secret,
    pub password: Secret,
}

impl JobAccount {
    pub(crate) fn login_url(&self) -> String {
        match self.login_url.as_deref().map(str::trim) {
            Some(u) if !u.is_empty() => u.trim_end_matches('/').to_string(),
            _ if self.test_environment => salesforce::oauth::SANDBOX_LOGIN_URL.into(),
            _ => salesforce::oauth::PRODUCTION_LOGIN_URL.into(),
        }
    }

    /// The secrets as given with the account (a new job, a new credential).
    pub(crate) fn given_secrets(&self) -> Option<AccountSecrets> {
        let given = |s: &Option<String>| s.as_deref().filter(|s| !s.is_empty()).map(Secret::new);
        Some(AccountSecrets {
            client_secret: given(&self.client_secret)?,
            password: given(&self.password)?,
        })
    }

    /// What cannot be saved, by field (under `account.`).
    pub(crate) fn problems(&self, allowed: &salesforce::AllowedHosts) -> Vec<FieldProblem> {
        let mut out = Vec::new();
        let blank = |s: &Option<String>| s.as_deref().is_none_or(|s| s.is_empty());
        if self.client_id.trim().is_empty() {
            out.push(problem(
                "account.clientId",
                "the connected app's consumer key",
            ));
        }
        if blank(&self.client_secret) {
            out.push(problem(
                "account.clientSecret",
                "the connected app's consumer secret",
            ));
        }
        if self.username.trim().is_empty() {
            out.push(problem(
                "account.username",
                "the Salesforce user to sign in as",
            ));
        }
        if blank(&self.password) {
            out.push(problem("account.password", "the user's password"));
        }
        // The client secret and the password go to this host.
        if let Err(e) = allowed.check(&self.login_url(), "the login URL") {
            out.push(problem(
                "account.loginUrl",
                format!(
                    "{e}; an operator can allow another host with {}",
                    crate::connections::ALLOWED_HOSTS_VAR
                ),
            ));
        }
        out
    }
}

/// A sign-in or connection failure of a job's account, in words a person can act on; busy
/// or unreachable Salesforce stays transient, so a run tries again.
fn account_error(e: salesforce::Error) -> Error {
    match e {
        salesforce::Error::Retryable { .. } | salesforce::Error::RateLimited { .. } => {
            Error::Unavailable(Box::new(e))
        }
        e => Error::invalid_fields(
            format!("Salesforce refused the job's account: {e}"),
            vec![problem("account", e.to_string())],
        ),
    }
}

/// What a job (saved or not yet) reads through, as asked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Source<'a> {
    pub connection_id: Option<&'a str>,
    pub account: Option<&'a JobAccount>,
    pub api_version: Option<&'a str>,
}

/// Rows of a job's query: `queryAll` (deleted and archived rows too) when the job includes
/// deleted records.
pub(crate) fn rows(
    conn: &Connection,
    settings: &JobSettings,
    soql: &str,
) -> BoxStream<'static, salesforce::Result<Map<String, Value>>> {
    if settings.include_deleted {
        conn.query_all(soql).boxed()
    } else {
        conn.query(soql).boxed()
    }
}

/// `IsDeleted` selected when the job includes deleted records: it marks their documents.
pub(crate) fn select_deleted_flag(q: &mut soql::ast::Query, settings: &JobSettings) {
    let selected = soql::analysis::selected_fields(q)
        .iter()
        .any(|f| f.eq_ignore_ascii_case("IsDeleted"));
    if settings.include_deleted && !selected {
        q.select.push(soql::ast::SelectItem::Expr {
            expr: soql::ast::Expr::Field(soql::ast::FieldPath::parse_dotted("IsDeleted")),
            alias: None,
        });
    }
}

/// The refusal of a run whose credential has expired (no call to Salesforce is made).
pub(crate) fn expired(settings: &JobSettings, today: chrono::NaiveDate) -> Option<Error> {
    let on = settings.credential_expires_on?;
    (today > on).then(|| {
        Error::invalid(format!(
            "the job's Salesforce credential expired on {on}; enter a new one"
        ))
    })
}

impl Sonde {
    /// Signs in with a job's own account (the password grant) at `version`.
    async fn account_connection(
        &self,
        account: &JobAccount,
        secrets: &AccountSecrets,
        version: Option<&str>,
    ) -> Result<Connection> {
        let config = OAuthConfig::new(account.login_url(), account.client_id.trim())
            .client_secret(secrets.client_secret.clone())
            .allowed_hosts(self.salesforce_settings().allowed_hosts);
        let oauth = OAuthClient::new(config.clone()).map_err(account_error)?;
        let tokens = oauth
            .password(account.username.trim(), &secrets.password)
            .await
            .map_err(account_error)?;
        let mut builder = Connection::builder(tokens.into()).oauth(config);
        if let Some(v) = version {
            builder = builder.api_version(v);
        }
        builder.build().map_err(account_error)
    }

    /// The connection a job being saved or checked reads through: exactly one of a linked
    /// org of the caller's and an account (its secrets given), at an API version the org
    /// lists. Refusals are named by their field.
    pub(crate) async fn asked_connection(
        &self,
        actor: &Actor,
        source: Source<'_>,
    ) -> Result<Connection> {
        let conn = match (source.connection_id, source.account) {
            (Some(id), None) => {
                self.own_connection(actor, id).await?;
                self.live_connection_at(id, source.api_version).await?
            }
            (None, Some(account)) => {
                let problems = account.problems(&self.salesforce_settings().allowed_hosts);
                let secrets = match account.given_secrets() {
                    Some(s) if problems.is_empty() => s,
                    _ => {
                        return Err(Error::invalid_fields(
                            "the job's Salesforce account is incomplete",
                            problems,
                        ))
                    }
                };
                self.account_connection(account, &secrets, source.api_version)
                    .await?
            }
            (Some(_), Some(_)) | (None, None) => {
                return Err(Error::invalid_fields(
                    "say where the job reads from",
                    vec![problem(
                        "connectionId",
                        "choose a linked org (connectionId) or enter the job's own Salesforce account (account), one of the two",
                    )],
                ))
            }
        };
        if let Some(asked) = source.api_version {
            let asked = asked.trim_start_matches('v');
            let served = conn.versions().await.map_err(Error::from)?;
            if !served.iter().any(|v| v.version == asked) {
                let newest: Vec<&str> = served
                    .iter()
                    .rev()
                    .take(5)
                    .map(|v| v.version.as_str())
                    .collect();
                return Err(Error::invalid_fields(
                    "the org does not serve that API version",
                    vec![problem(
                        "apiVersion",
                        format!(
                            "{asked} is not a version the org serves (newest: {})",
                            newest.join(", ")
                        ),
                    )],
                ));
            }
        }
        Ok(conn)
    }

    /// The connection a saved job's run or sample reads through. An expired credential is
    /// refused before anything is asked of Salesforce.
    pub(crate) async fn job_connection(
        &self,
        job: &JobRow,
        settings: &JobSettings,
    ) -> Result<Connection> {
        if let Some(e) = expired(settings, chrono::Utc::now().date_naive()) {
            return Err(e);
        }
        let version = settings.api_version.as_deref();
        match &settings.account {
            Some(account) => {
                let secrets = self.account_secrets(&job.id).await?;
                self.account_connection(account, &secrets, version).await
            }
            None => self.live_connection_at(&job.connection_id, version).await,
        }
    }

    async fn account_secrets(&self, job_id: &str) -> Result<AccountSecrets> {
        let row = self
            .store
            .discover_job_account(job_id)
            .await?
            .ok_or_else(|| {
                Error::invalid("the job's Salesforce account has no secrets kept; enter them again")
            })?;
        let secrets = self.secret_box()?;
        let open = |sealed: &str| {
            secrets
                .open(sealed)
                .map(Secret::new)
                .map_err(|e| Error::Internal(Box::new(e)))
        };
        Ok(AccountSecrets {
            client_secret: open(&row.client_secret)?,
            password: open(&row.password)?,
        })
    }

    /// Writes a new job with its account's secrets sealed, in one transaction.
    pub(crate) async fn insert_discover_job_with_account(
        &self,
        row: &JobRow,
        account: Option<&JobAccount>,
    ) -> Result<()> {
        let mut tx = self.store.begin().await?;
        Store::insert_discover_job_in(&mut tx, row).await?;
        if let Some(secrets) = account.and_then(JobAccount::given_secrets) {
            self.keep_account_secrets(&mut tx, row, &secrets).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn keep_account_secrets(
        &self,
        tx: &mut store::Transaction<'_, store::Any>,
        job: &JobRow,
        secrets: &AccountSecrets,
    ) -> Result<()> {
        let sealer = self.secret_box()?;
        Store::put_discover_job_account(
            tx,
            &JobAccountSecretsRow {
                job_id: job.id.clone(),
                org_id: job.org_id.clone(),
                client_secret: sealer.seal(secrets.client_secret.expose()),
                password: sealer.seal(secrets.password.expose()),
                updated_at: store::now_ms(),
            },
        )
        .await?;
        Ok(())
    }

    /// Gives a job a new credential (its own account, say after the old password expired),
    /// with its expiry: the account signs in first, then its secrets are sealed and the
    /// settings saved together. A job that read through a linked org reads through the
    /// account from then on.
    pub async fn replace_discover_job_credential(
        &self,
        actor: &Actor,
        job_id: &str,
        new: NewCredential,
    ) -> Result<super::DiscoverJob> {
        actor.require(crate::Role::Editor)?;
        let row = self.discover_job_row(actor, job_id).await?;
        let mut settings = super::job_of(&row)?.settings;
        if let Some(days) = new.reminder_days_before {
            if !(1..=100).contains(&days) {
                return Err(Error::invalid_fields(
                    "the credential was not saved",
                    vec![problem("reminderDaysBefore", "between 1 and 100 days")],
                ));
            }
        }
        let source = Source {
            connection_id: None,
            account: Some(&new.account),
            api_version: settings.api_version.as_deref(),
        };
        self.asked_connection(actor, source).await?;
        let secrets = new
            .account
            .given_secrets()
            .ok_or_else(|| Error::invalid("the account's secrets are missing"))?;
        settings.connection_id = None;
        settings.account = Some(new.account);
        settings.credential_expires_on = new.credential_expires_on;
        settings.reminder_days_before = new.reminder_days_before;
        let stored = settings.as_stored();
        let mut tx = self.store.begin().await?;
        self.keep_account_secrets(&mut tx, &row, &secrets).await?;
        let text = serde_json::to_string(&stored)?;
        Store::set_discover_job_settings(&mut tx, &row.id, "", &text, store::now_ms()).await?;
        tx.commit().await?;
        let mut row = row;
        row.connection_id = String::new();
        row.settings = text;
        super::job_of(&row)
    }

    /// The API versions a linked org of the caller's serves, oldest first (the picker's).
    pub async fn discover_connection_versions(
        &self,
        actor: &Actor,
        connection_id: &str,
    ) -> Result<Vec<ApiVersionOffered>> {
        self.own_connection(actor, connection_id).await?;
        offered(&self.live_connection(connection_id).await?).await
    }

    /// The API versions an org serves, reached through a linked org or an account (signed
    /// in with, its secrets given), before a job is saved.
    pub async fn discover_versions(
        &self,
        actor: &Actor,
        asked: &VersionsOf,
    ) -> Result<Vec<ApiVersionOffered>> {
        let source = Source {
            connection_id: asked.connection_id.as_deref(),
            account: asked.account.as_ref(),
            api_version: None,
        };
        offered(&self.asked_connection(actor, source).await?).await
    }
}

async fn offered(conn: &Connection) -> Result<Vec<ApiVersionOffered>> {
    Ok(conn
        .versions()
        .await
        .map_err(Error::from)?
        .into_iter()
        .map(|v| ApiVersionOffered {
            version: v.version,
            label: v.label,
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn account(v: serde_json::Value) -> JobAccount {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn secrets_are_taken_but_never_written_out() {
        let a = account(serde_json::json!({
            "clientId": "3MVG", "clientSecret": "s3cret", "username": "ann@acme.test",
            "password": "pa55", "testEnvironment": true
        }));
        assert!(a.given_secrets().is_some());
        let out = serde_json::to_string(&a).unwrap();
        assert!(!out.contains("s3cret") && !out.contains("pa55"), "{out}");
        assert!(!format!("{a:?}").contains("s3cret"));
        assert_eq!(a.login_url(), salesforce::oauth::SANDBOX_LOGIN_URL);
    }

    #[test]
    fn an_incomplete_account_names_its_fields() {
        let a = account(serde_json::json!({
            "clientId": "", "username": "ann", "loginUrl": "http://evil.example"
        }));
        let fields: Vec<String> = a
            .problems(&salesforce::AllowedHosts::salesforce_only())
            .into_iter()
            .map(|p| p.field)
            .collect();
        assert_eq!(
            fields,
            [
                "account.clientId",
                "account.clientSecret",
                "account.password",
                "account.loginUrl"
            ]
        );
    }
}
