//! OAuth 2.0 against Salesforce's `/services/oauth2/*`: the web-server flow (authorize URL with
//! `state` and PKCE, code exchange), the password and JWT bearer flows, refresh, revoke, userinfo.
//!
//! Secrets are wrapped in [`Secret`] so that tokens never reach logs through `Debug`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use futures::future::BoxFuture;
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use url::Url;

use crate::error::{Error, Result};
use crate::hosts::AllowedHosts;

/// The production login host.
pub const PRODUCTION_LOGIN_URL: &str = "https://login.salesforce.com";
/// The sandbox login host.
pub const SANDBOX_LOGIN_URL: &str = "https://test.salesforce.com";

/// A credential (token, secret, password). Its `Debug` is redacted so it cannot leak through
/// logs or error messages; read it with [`Secret::expose`] at the one place that sends it.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Secret(***)")
    }
}

impl From<String> for Secret {
    fn from(s: String) -> Self {
        Secret(s)
    }
}

impl From<&str> for Secret {
    fn from(s: &str) -> Self {
        Secret(s.to_string())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// A connected app as seen from Sonde: where to log in and who we are.
#[derive(Debug, Clone)]
pub struct OAuthConfig {
    /// `https://login.salesforce.com`, `https://test.salesforce.com` or a My Domain URL.
    pub login_url: String,
    pub client_id: String,
    pub client_secret: Option<Secret>,
    /// Where Salesforce sends the browser back in the web-server flow.
    pub redirect_uri: Option<String>,
    /// Hosts the login URL and every token response's `instance_url` must be on (default:
    /// Salesforce's domains over HTTPS).
    pub allowed_hosts: AllowedHosts,
}

impl OAuthConfig {
    pub fn new(login_url: impl Into<String>, client_id: impl Into<String>) -> Self {
        OAuthConfig {
            login_url: login_url.into(),
            client_id: client_id.into(),
            client_secret: None,
            redirect_uri: None,
            allowed_hosts: AllowedHosts::default(),
        }
    }

    /// A connected app on a production org (`login.salesforce.com`).
    pub fn production(client_id: impl Into<String>) -> Self {
        Self::new(PRODUCTION_LOGIN_URL, client_id)
    }

    /// A connected app on a sandbox (`test.salesforce.com`).
    pub fn sandbox(client_id: impl Into<String>) -> Self {
        Self::new(SANDBOX_LOGIN_URL, client_id)
    }

    pub fn client_secret(mut self, secret: impl Into<Secret>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = Some(uri.into());
        self
    }

    /// Hosts beyond Salesforce's own that this app may log in at and call (a local org).
    pub fn allowed_hosts(mut self, hosts: AllowedHosts) -> Self {
        self.allowed_hosts = hosts;
        self
    }

    /// An endpoint on the login host, which must be an allowed host: codes, secrets and
    /// passwords go there.
    fn endpoint(&self, path: &str) -> Result<Url> {
        self.allowed_hosts.check(&self.login_url, "the login URL")?;
        oauth_endpoint(&self.login_url, path)
    }
}

fn oauth_endpoint(base: &str, path: &str) -> Result<Url> {
    let base = base.trim_end_matches('/');
    Url::parse(&format!("{base}/services/oauth2/{path}"))
        .map_err(|e| Error::Config(format!("bad login URL {base:?}: {e}")))
}

/// A PKCE pair: the verifier is kept by Sonde until the code exchange; the S256 challenge goes
/// into the authorize URL.
#[derive(Debug, Clone)]
pub struct Pkce {
    pub verifier: Secret,
    pub challenge: String,
}

impl Pkce {
    pub fn generate() -> Self {
        Self::from_verifier(random_token(32))
    }

    pub fn from_verifier(verifier: String) -> Self {
        let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        Pkce {
            verifier: Secret(verifier),
            challenge,
        }
    }
}

/// 43 URL-safe characters from 32 random bytes: enough for `state` and PKCE verifiers.
fn random_token(bytes: usize) -> String {
    let mut buf = vec![0u8; bytes];
    rand::thread_rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// Everything needed to start the web-server flow: send the browser to `url`, keep `state`
/// and the PKCE verifier server-side, and check `state` when the callback arrives.
#[derive(Debug, Clone)]
pub struct AuthorizeRequest {
    pub url: Url,
    pub state: String,
    pub pkce: Pkce,
}

/// Builds the `/services/oauth2/authorize` URL for the web-server flow with a fresh `state` and
/// PKCE (S256). `scope` is space-separated, e.g. `"api refresh_token"`; `None` uses the
/// connected app's scopes.
pub fn authorize_url(config: &OAuthConfig, scope: Option<&str>) -> Result<AuthorizeRequest> {
    let redirect = config
        .redirect_uri
        .as_deref()
        .ok_or_else(|| Error::Config("web-server flow needs a redirect_uri".into()))?;
    let state = random_token(16);
    let pkce = Pkce::generate();
    let mut url = config.endpoint("authorize")?;
    {
        let mut q = url.query_pairs_mut();
        q.append_pair("response_type", "code")
            .append_pair("client_id", &config.client_id)
            .append_pair("redirect_uri", redirect)
            .append_pair("state", &state)
            .append_pair("code_challenge", &pkce.challenge)
            .append_pair("code_challenge_method", "S256");
        if let Some(scope) = scope {
            q.append_pair("scope", scope);
        }
    }
    Ok(AuthorizeRequest { url, state, pkce })
}

/// The body of a successful `/token` answer.
#[derive(Debug, Clone, Deserialize)]
pub struct TokenResponse {
    pub access_token: Secret,
    #[serde(default)]
    pub refresh_token: Option<Secret>,
    pub instance_url: String,
    /// The identity URL, `.../id/<orgId>/<userId>`.
    #[serde(default)]
    pub id: Option<String>,
    /// Milliseconds since the epoch, as a string.
    #[serde(default)]
    pub issued_at: Option<String>,
    #[serde(default)]
    pub signature: Option<String>,
    #[serde(default)]
    pub scope: Option<String>,
    #[serde(default)]
    pub token_type: Option<String>,
}

impl TokenResponse {
    /// The org id from the identity URL.
    pub fn org_id(&self) -> Option<&str> {
        let mut parts = self.id.as_deref()?.rsplit('/');
        let _user = parts.next()?;
        parts.next()
    }

    /// The user id from the identity URL.
    pub fn user_id(&self) -> Option<&str> {
        self.id.as_deref()?.rsplit('/').next()
    }
}

/// The tokens a connection works with; exactly what must be persisted together, in one write,
/// whenever they change (a rotated refresh token without its access token is useless, and the
/// other way round).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: Secret,
    pub refresh_token: Option<Secret>,
    pub instance_url: String,
}

impl From<TokenResponse> for Tokens {
    fn from(t: TokenResponse) -> Self {
        Tokens {
            access_token: t.access_token,
            refresh_token: t.refresh_token,
            instance_url: t.instance_url,
        }
    }
}

/// Where a connection saves tokens it obtained by refreshing. Called BEFORE the new tokens are
/// used: with refresh-token rotation the old refresh token is already dead, so tokens that were
/// used but not saved would be lost at the next restart. If saving fails the call fails with
/// [`Error::Persist`] and the new tokens are not used.
pub trait TokenPersistence: Send + Sync {
    fn save<'a>(&'a self, tokens: &'a Tokens) -> BoxFuture<'a, std::result::Result<(), String>>;
}

/// For connections whose tokens live only in memory (tests, one-off scripts).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoPersistence;

impl TokenPersistence for NoPersistence {
    fn save<'a>(&'a self, _: &'a Tokens) -> BoxFuture<'a, std::result::Result<(), String>> {
        Box::pin(async { Ok(()) })
    }
}

/// Persistence through a plain closure, for callers whose store is synchronous or who hand the
/// tokens to a channel.
pub struct PersistWith<F>(pub F);

impl<F> TokenPersistence for PersistWith<F>
where
    F: Fn(&Tokens) -> std::result::Result<(), String> + Send + Sync,
{
    fn save<'a>(&'a self, tokens: &'a Tokens) -> BoxFuture<'a, std::result::Result<(), String>> {
        let r = (self.0)(tokens);
        Box::pin(async move { r })
    }
}

/// `/services/oauth2/userinfo`: who the connected user is.
#[derive(Debug, Clone, Deserialize)]
pub struct UserInfo {
    #[serde(default)]
    pub user_id: String,
    #[serde(default)]
    pub organization_id: String,
    #[serde(default)]
    pub preferred_username: Option<String>,
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub email: Option<String>,
    #[serde(default)]
    pub user_type: Option<String>,
    /// The whole answer, for fields not named above.
    #[serde(skip)]
    pub raw: serde_json::Value,
}

#[derive(Serialize)]
struct JwtClaims<'a> {
    iss: &'a str,
    sub: &'a str,
    aud: &'a str,
    exp: u64,
}

/// Token endpoint calls for one connected app.
#[derive(Debug, Clone)]
pub struct OAuthClient {
    http: reqwest::Client,
    config: OAuthConfig,
}

impl OAuthClient {
    pub fn new(config: OAuthConfig) -> Result<Self> {
        Ok(Self::with_http(crate::default_http_client()?, config))
    }

    /// Shares an HTTP client (and its connection pool, TLS roots) with other parts of Sonde.
    pub fn with_http(http: reqwest::Client, config: OAuthConfig) -> Self {
        OAuthClient { http, config }
    }

    pub fn config(&self) -> &OAuthConfig {
        &self.config
    }

    /// Exchanges the code from the web-server flow's callback for tokens.
    pub async fn exchange_code(
        &self,
        code: &str,
        pkce_verifier: Option<&Secret>,
    ) -> Result<TokenResponse> {
        let redirect = self
            .config
            .redirect_uri
            .as_deref()
            .ok_or_else(|| Error::Config("code exchange needs the redirect_uri".into()))?;
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
        ];
        if let Some(v) = pkce_verifier {
            form.push(("code_verifier", v.expose()));
        }
        self.token(form).await
    }

    /// The username-password flow; `password` is the password followed by the security token
    /// when the org requires one.
    pub async fn password(&self, username: &str, password: &Secret) -> Result<TokenResponse> {
        self.token(vec![
            ("grant_type", "password"),
            ("username", username),
            ("password", password.expose()),
        ])
        .await
    }

    /// The JWT bearer flow: an RS256 assertion signed with the connected app's certificate key
    /// (PEM). `audience` is the login host actually used (login/test.salesforce.com or the My
    /// Domain); `None` takes the configured login URL.
    pub async fn jwt_bearer(
        &self,
        username: &str,
        private_key_pem: &[u8],
        audience: Option<&str>,
    ) -> Result<TokenResponse> {
        let assertion = jwt_assertion(
            &self.config.client_id,
            username,
            audience.unwrap_or(self.config.login_url.trim_end_matches('/')),
            private_key_pem,
        )?;
        self.token(vec![
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion.expose()),
        ])
        .await
    }

    /// Trades a refresh token for a new access token (and, with rotation, a new refresh token).
    pub async fn refresh(&self, refresh_token: &Secret) -> Result<TokenResponse> {
        self.token(vec![
            ("grant_type", "refresh_token"),
            ("refresh_token", refresh_token.expose()),
        ])
        .await
    }

    /// Revokes an access or refresh token (revoking the refresh token ends the connection).
    pub async fn revoke(&self, token: &Secret) -> Result<()> {
        let url = self.config.endpoint("revoke")?;
        let resp = self
            .http
            .post(url)
            .form(&[("token", token.expose())])
            .send()
            .await?;
        let status = resp.status().as_u16();
        if (200..300).contains(&status) {
            return Ok(());
        }
        let body = resp.bytes().await?;
        Err(Error::from_response(status, &body))
    }

    async fn token(&self, mut form: Vec<(&str, &str)>) -> Result<TokenResponse> {
        form.push(("client_id", &self.config.client_id));
        if let Some(s) = &self.config.client_secret {
            form.push(("client_secret", s.expose()));
        }
        // format=json: some token endpoints otherwise answer with urlencoded or XML.
        form.push(("format", "json"));
        let url = self.config.endpoint("token")?;
        let resp = self
            .http
            .post(url)
            .header(reqwest::header::ACCEPT, "application/json")
            .form(&form)
            .send()
            .await?;
        let status = resp.status().as_u16();
        let body = resp.bytes().await?;
        if !(200..300).contains(&status) {
            return Err(Error::from_response(status, &body));
        }
        let tokens: TokenResponse = serde_json::from_slice(&body).map_err(|e| {
            Error::Protocol(format!("token response is not the documented shape: {e}"))
        })?;
        // Every later call carries the bearer token to `instance_url`: a token endpoint that
        // names a host outside the allowed ones gets nothing more (a refresh may leave it out,
        // and then the current instance stays).
        if !tokens.instance_url.is_empty() {
            self.config.allowed_hosts.check(
                &tokens.instance_url,
                "the instance URL in Salesforce's token response",
            )?;
        }
        Ok(tokens)
    }
}

/// Signs the JWT bearer assertion: iss = client id, sub = username, aud = login host,
/// exp = three minutes ahead (Salesforce refuses assertions valid for long).
pub fn jwt_assertion(
    client_id: &str,
    username: &str,
    audience: &str,
    private_key_pem: &[u8],
) -> Result<Secret> {
    let key = jsonwebtoken::EncodingKey::from_rsa_pem(private_key_pem)
        .map_err(|e| Error::Config(format!("JWT signing key is not an RSA PEM key: {e}")))?;
    let exp = SystemTime::now()
        .checked_add(Duration::from_secs(180))
        .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
        .map(|d| d.as_secs())
        .unwrap_or(0);
    let claims = JwtClaims {
        iss: client_id,
        sub: username,
        aud: audience,
        exp,
    };
    let header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::RS256);
    jsonwebtoken::encode(&header, &claims, &key)
        .map(Secret)
        .map_err(|e| Error::Config(format!("signing the JWT assertion failed: {e}")))
}

pub(crate) fn userinfo_url(instance_url: &str) -> Result<Url> {
    oauth_endpoint(instance_url, "userinfo")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_debug_is_redacted() {
        let t = Tokens {
            access_token: Secret::new("00Dxx!AQ0.supersecret"),
            refresh_token: Some(Secret::new("5Aep861refresh")),
            instance_url: "https://x.my.salesforce.com".into(),
        };
        let shown = format!("{t:?}");
        assert!(!shown.contains("supersecret"));
        assert!(!shown.contains("5Aep861"));
        assert!(shown.contains("instance_url"));
    }

    #[test]
    fn pkce_s256_matches_rfc7636_example() {
        // RFC 7636 appendix B.
        let p = Pkce::from_verifier("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk".into());
        assert_eq!(p.challenge, "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM");
        let g = Pkce::generate();
        assert_eq!(g.verifier.expose().len(), 43);
    }

    #[test]
    fn authorize_url_carries_state_and_pkce() {
        let cfg = OAuthConfig::new("https://login.salesforce.com/", "3MVG9client")
            .redirect_uri("https://sonde.example/oauth/callback");
        let a = authorize_url(&cfg, Some("api refresh_token")).unwrap();
        assert_eq!(a.url.path(), "/services/oauth2/authorize");
        let q: std::collections::HashMap<_, _> = a.url.query_pairs().into_owned().collect();
        assert_eq!(q["response_type"], "code");
        assert_eq!(q["client_id"], "3MVG9client");
        assert_eq!(q["redirect_uri"], "https://sonde.example/oauth/callback");
        assert_eq!(q["state"], a.state);
        assert_eq!(q["code_challenge"], a.pkce.challenge);
        assert_eq!(q["code_challenge_method"], "S256");
        assert_eq!(q["scope"], "api refresh_token");
        let b = authorize_url(&cfg, None).unwrap();
        assert_ne!(a.state, b.state);
    }

    #[test]
    fn authorize_needs_redirect() {
        let cfg = OAuthConfig::new("https://login.salesforce.com", "id");
        assert!(matches!(authorize_url(&cfg, None), Err(Error::Config(_))));
    }

    #[test]
    fn token_response_parses_and_names_org_and_user() {
        let t: TokenResponse = serde_json::from_str(
            r#"{"access_token":"00D!x","refresh_token":"5Aep","instance_url":"https://na1.salesforce.com",
            "id":"https://login.salesforce.com/id/00D000000000001AAA/005000000000001AAA",
            "issued_at":"1700000000000","signature":"sig","token_type":"Bearer","scope":"api refresh_token"}"#,
        )
        .unwrap();
        assert_eq!(t.org_id(), Some("00D000000000001AAA"));
        assert_eq!(t.user_id(), Some("005000000000001AAA"));
        assert!(!format!("{t:?}").contains("00D!x"));
    }

    #[test]
    fn jwt_assertion_carries_salesforce_claims() {
        let key = include_bytes!("../tests/data/jwt_test_key.pem");
        let jwt = jwt_assertion(
            "3MVG9id",
            "ada@acme.example",
            "https://login.salesforce.com",
            key,
        )
        .unwrap();
        let parts: Vec<&str> = jwt.expose().split('.').collect();
        assert_eq!(parts.len(), 3);
        let header: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[0]).unwrap()).unwrap();
        assert_eq!(header["alg"], "RS256");
        let claims: serde_json::Value =
            serde_json::from_slice(&URL_SAFE_NO_PAD.decode(parts[1]).unwrap()).unwrap();
        assert_eq!(claims["iss"], "3MVG9id");
        assert_eq!(claims["sub"], "ada@acme.example");
        assert_eq!(claims["aud"], "https://login.salesforce.com");
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_secs();
        let exp = claims["exp"].as_u64().unwrap();
        assert!(exp > now && exp <= now + 300);
    }

    #[test]
    fn jwt_rejects_a_non_key() {
        assert!(matches!(
            jwt_assertion("id", "u", "https://login.salesforce.com", b"not a key"),
            Err(Error::Config(_))
        ));
    }
}
