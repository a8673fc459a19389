//! Sonde's Salesforce client: OAuth with single-flight refresh, REST records and describe,
//! SOQL query streaming, sObject Collections batching, Bulk API 2.0 query streaming, API budget
//! tracking, the Outbound Message SOAP codec and Canvas signed-request verification.
//!
//! Start from [`Connection`]: build one from stored [`Tokens`] with [`Connection::builder`], or
//! obtain tokens with an [`OAuthClient`]. Its wire types are its own; the local org (`sfsim`)
//! is only ever a test peer.

pub mod bulk;
pub mod canvas;
pub mod collections;
pub mod connection;
pub mod error;
pub mod hosts;
pub mod limits;
pub mod oauth;
pub mod outbound;
pub mod query;
pub mod rest;

pub use bulk::{BulkQueryOptions, BulkRow, QueryJob};
pub use canvas::{verify_signed_request, CanvasRequest};
pub use collections::RecordResult;
pub use connection::{Connection, ConnectionBuilder, DEFAULT_API_VERSION};
pub use error::{ApiError, Error, Result};
pub use hosts::AllowedHosts;
pub use limits::{ApiUsage, Budget, CallKind};
pub use oauth::{
    authorize_url, AuthorizeRequest, NoPersistence, OAuthClient, OAuthConfig, PersistWith, Pkce,
    Secret, TokenPersistence, TokenResponse, Tokens,
};
pub use outbound::{ack_response, fault_response, parse_notifications, Notifications};
pub use query::{QueryOptions, QueryPage};
pub use rest::{Record, SObjectDescribe, UpsertResult};

use std::time::Duration;

/// The HTTP client used when none is given: connect and read timeouts (not a total timeout,
/// which would cut long Bulk downloads), rustls.
pub fn default_http_client() -> Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(Duration::from_secs(15))
        .read_timeout(Duration::from_secs(120))
        .pool_idle_timeout(Duration::from_secs(60))
        .user_agent(concat!("sonde-salesforce/", env!("CARGO_PKG_VERSION")))
        .build()
        .map_err(|e| Error::Config(format!("HTTP client: {e}")))
}
