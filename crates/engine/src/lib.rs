//! Sonde's application services: the rules of surveys, responses and the directory, over the
//! store. The web layer calls these and only translates HTTP; nothing here knows about HTTP.

pub mod answered_versions;
pub mod audit;
pub mod auth;
pub mod connections;
pub mod contact_import;
pub mod credentials;
pub mod dashboards;
pub mod deletions;
pub mod delivery;
pub mod directory;
pub mod discover;
pub mod discover_view;
mod distribution_audience;
mod distribution_schedule;
pub mod distribution_sending;
pub mod distribution_stats;
pub mod distribution_workers;
pub mod distributions;
mod error;
pub mod form_state;
pub mod frequency_rules;
pub mod link_signing;
pub mod linked_orgs;
pub mod mail;
pub mod message_templates;
pub mod opt_out_sync;
pub mod panel;
pub mod passwords;
mod record_trust;
pub mod respondent;
pub mod response_listing;
pub mod responses;
pub mod salesforce_messages;
pub mod secrets;
pub mod secrets_rotation;
mod send_batches;
pub mod sign_in_throttle;
pub mod sms;
mod sms_conversations;
pub mod sms_sending;
mod suppressions;
pub mod survey_bundles;
pub mod survey_edits;
pub mod survey_lifecycle;
mod survey_versions;
pub mod surveys;
pub mod test_sends;
pub mod triggered_sends;
pub mod users;
pub mod workflow_moves;
pub mod workflow_survey;
pub mod workflows;

pub use auth::{Actor, Role};
pub use error::{retry_after_secs, Error, FieldProblem, Result};

use store::Store;

/// Instance settings the services need.
#[derive(Debug, Clone)]
pub struct Config {
    /// Base URL respondents and admins reach this instance at (links in invitations and pages).
    pub public_url: String,
}

/// The application: one per process, cheap to clone.
#[derive(Clone)]
pub struct Sonde {
    pub store: Store,
    pub config: Config,
    /// Signs opt-out links; None without an instance key (see [`Sonde::with_secrets`]).
    optout: Option<std::sync::Arc<::directory::OptOutSigner>>,
    /// Signs what respondent forms carry before anything is stored (`form_state`).
    forms: std::sync::Arc<form_state::FormSigner>,
    salesforce: connections::Shared,
    /// Parsed survey definitions by version, shared by every request of this process.
    definitions: std::sync::Arc<survey_versions::Definitions>,
    /// The SMTP transport distributions send through; None: they wait.
    mail: std::sync::Arc<std::sync::RwLock<Option<mail::Mailer>>>,
    /// The Twilio account text messages go through; None: SMS distributions wait.
    sms: std::sync::Arc<std::sync::RwLock<Option<sms::SmsGateway>>>,
}

/// The instance secret that signs opt-out links.
const OPT_OUT_KEY: &str = "optout-signing-key";
/// The instance secret that signs respondent forms (`form_state`).
const FORM_KEY: &str = "respondent-form-key";

impl Sonde {
    /// Opens the services over a migrated store, with the instance key from
    /// `SONDE_SECRET_KEY` when it is set.
    pub async fn new(store: Store, config: Config) -> Result<Self> {
        let secrets = secrets::SecretBox::from_env().map_err(|e| Error::invalid(e.to_string()))?;
        Self::with_secrets(store, config, secrets).await
    }

    /// Opens the services with the instance key that seals secrets at rest (Salesforce
    /// tokens, the opt-out and respondent-form signing keys). Without one, linking an org and
    /// opt-out links fail saying what to set, and respondent forms are signed with a key of
    /// this process only; `sonde serve` refuses to start without one.
    pub async fn with_secrets(
        store: Store,
        config: Config,
        secrets: Option<secrets::SecretBox>,
    ) -> Result<Self> {
        let optout = match &secrets {
            Some(b) => {
                let key = secrets::instance_secret(&store, b, OPT_OUT_KEY).await?;
                Some(std::sync::Arc::new(::directory::OptOutSigner::new(
                    key.as_bytes(),
                )))
            }
            None => None,
        };
        let forms = match &secrets {
            Some(b) => {
                let key = secrets::instance_secret(&store, b, FORM_KEY).await?;
                form_state::FormSigner::new(key.as_bytes())
            }
            None => form_state::FormSigner::ephemeral(),
        };
        let sonde = Self {
            optout,
            forms: std::sync::Arc::new(forms),
            store,
            config,
            salesforce: std::sync::Arc::new(connections::SalesforceState::new()),
            definitions: std::sync::Arc::new(survey_versions::Definitions::new()),
            mail: Default::default(),
            sms: Default::default(),
        };
        if let Some(b) = secrets {
            sonde.set_secret_box(b);
        }
        Ok(sonde)
    }

    /// A named instance secret, created on first use, sealed at rest.
    pub async fn instance_secret(&self, name: &str) -> Result<String> {
        secrets::instance_secret(&self.store, &self.secret_box()?, name).await
    }

    pub fn public_url(&self) -> &str {
        self.config.public_url.trim_end_matches('/')
    }
}
