//! Sonde's application services: the rules of surveys, responses and the directory, over the
//! store. The web layer calls these and only translates HTTP; nothing here knows about HTTP.

pub mod auth;
pub mod connections;
pub mod delivery;
pub mod directory;
mod error;
pub mod link_signing;
mod record_trust;
pub mod responses;
pub mod secrets;
pub mod surveys;
pub mod workflows;

pub use auth::{Actor, Role};
pub use error::{Error, FieldProblem, Result};

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
    optout: std::sync::Arc<::directory::OptOutSigner>,
    salesforce: connections::Shared,
}

impl Sonde {
    /// Opens the services over a migrated store.
    pub async fn new(store: Store, config: Config) -> Result<Self> {
        let key = store.instance_secret("optout-signing-key").await?;
        Ok(Self {
            optout: std::sync::Arc::new(::directory::OptOutSigner::new(key.as_bytes())),
            store,
            config,
            salesforce: std::sync::Arc::new(connections::SalesforceState::new()),
        })
    }

    pub fn public_url(&self) -> &str {
        self.config.public_url.trim_end_matches('/')
    }
}
