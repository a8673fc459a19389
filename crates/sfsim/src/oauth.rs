//! OAuth 2.0 as Salesforce's login host speaks it: the web-server flow with an HTML sign-in
//! and approve page (optional PKCE), password and refresh_token grants (with optional rotation),
//! revoke, userinfo and the identity URL.

use crate::ids::Id;
use crate::org::OrgState;
use axum::extract::{Form, Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{Html, IntoResponse, Redirect, Response};
use base64::Engine;
use hmac::{Hmac, Mac};
use rand::Rng;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};
use std::collections::{HashMap, VecDeque};
use std::sync::Arc;

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct AccessToken {
    pub user: Id,
    pub client_id: String,
    pub expires_ms: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct RefreshToken {
    pub user: Id,
    pub client_id: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
struct AuthCode {
    user: Id,
    client_id: String,
    redirect_uri: String,
    challenge: Option<(String, String)>,
    expires_ms: i64,
}

/// Sessions and grants. Persisted with the data, so a restarted org keeps its connections.
#[derive(Debug, Default, Serialize, Deserialize)]
pub struct Auth {
    pub access: HashMap<String, AccessToken>,
    pub refresh: HashMap<String, RefreshToken>,
    codes: HashMap<String, AuthCode>,
    /// Refresh tokens per (user, client) in approval order: at most five live at once.
    approvals: HashMap<String, VecDeque<String>>,
}

pub fn random_token(len: usize) -> String {
    const C: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::thread_rng();
    (0..len)
        .map(|_| C[rng.gen_range(0..C.len())] as char)
        .collect()
}

impl Auth {
    /// A new session for a user; the token looks like Salesforce's `00D...!AQ...`.
    pub fn issue_access(&mut self, org: Id, user: Id, client_id: &str, expires_ms: i64) -> String {
        let token = format!("{}!AQ{}", org.as15(), random_token(94));
        self.access.insert(
            token.clone(),
            AccessToken {
                user,
                client_id: client_id.to_string(),
                expires_ms,
            },
        );
        token
    }

    pub fn issue_refresh(&mut self, user: Id, client_id: &str) -> String {
        let token = format!("5Aep{}", random_token(83));
        self.refresh.insert(
            token.clone(),
            RefreshToken {
                user,
                client_id: client_id.to_string(),
            },
        );
        let key = format!("{}:{}", user.as15(), client_id);
        let q = self.approvals.entry(key).or_default();
        q.push_back(token.clone());
        // A sixth approval revokes the oldest one.
        while q.len() > 5 {
            if let Some(old) = q.pop_front() {
                self.refresh.remove(&old);
            }
        }
        token
    }

    fn forget_refresh(&mut self, token: &str) {
        if let Some(rt) = self.refresh.remove(token) {
            let key = format!("{}:{}", rt.user.as15(), rt.client_id);
            if let Some(q) = self.approvals.get_mut(&key) {
                q.retain(|t| t != token);
            }
        }
    }

    pub fn session(&self, token: &str, now: i64) -> Option<&AccessToken> {
        self.access.get(token).filter(|t| t.expires_ms > now)
    }

    /// Ends every session now; refresh tokens still work (what a forced expiry looks like).
    pub fn expire_all(&mut self) {
        self.access.clear();
    }

    pub fn prune(&mut self, now: i64) {
        self.access.retain(|_, t| t.expires_ms > now);
        let live = self.codes.len();
        if live > 10_000 {
            self.codes.retain(|_, c| c.expires_ms > now);
        }
    }
}

fn oauth_error(status: StatusCode, error: &str, description: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// The token response every grant gives.
fn token_response(state: &OrgState, token: &str, user: Id, refresh: Option<String>) -> Value {
    let issued = state.clock.now_ms().to_string();
    let id_url = format!(
        "{}/id/{}/{}",
        state.login_url(),
        state.org_id().to18(),
        user.to18()
    );
    let mut mac = match Hmac::<Sha256>::new_from_slice(state.config.client_secret.as_bytes()) {
        Ok(m) => m,
        Err(_) => return json!({}),
    };
    mac.update(id_url.as_bytes());
    mac.update(issued.as_bytes());
    let signature = base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes());
    let mut v = json!({
        "access_token": token,
        "instance_url": state.instance_url(),
        "id": id_url,
        "token_type": "Bearer",
        "issued_at": issued,
        "signature": signature,
        "scope": "api refresh_token web id",
    });
    if let Some(r) = refresh {
        v["refresh_token"] = json!(r);
    }
    v
}

#[derive(Debug, Default, Deserialize)]
pub struct TokenForm {
    grant_type: Option<String>,
    client_id: Option<String>,
    client_secret: Option<String>,
    username: Option<String>,
    password: Option<String>,
    refresh_token: Option<String>,
    code: Option<String>,
    redirect_uri: Option<String>,
    code_verifier: Option<String>,
    assertion: Option<String>,
}

/// POST /services/oauth2/token
pub async fn token(
    State(state): State<Arc<OrgState>>,
    headers: HeaderMap,
    body: axum::body::Bytes,
) -> Response {
    // Clients send form bodies; be lenient about the content type like Salesforce is.
    let mut form: TokenForm = serde_urlencoded_parse(&body);
    if form.client_id.is_none() {
        if let Some((id, secret)) = basic_auth(&headers) {
            form.client_id = Some(id);
            form.client_secret = Some(secret);
        }
    }
    let now = state.clock.now_ms();
    let cfg = &state.config;
    let grant = form.grant_type.clone().unwrap_or_default();
    let client_ok = form.client_id.as_deref() == Some(cfg.client_id.as_str());
    let secret_ok = form.client_secret.as_deref() == Some(cfg.client_secret.as_str());
    match grant.as_str() {
        "password" => {
            if !client_ok {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_client_id",
                    "client identifier invalid",
                );
            }
            if !secret_ok {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_client",
                    "invalid client credentials",
                );
            }
            let store = state.store.read();
            let user = store.users.iter().find(|u| {
                Some(u.username.as_str()) == form.username.as_deref()
                    && form.password.as_deref().is_some_and(|p| {
                        p == u.password || p == format!("{}{}", u.password, store.security_token)
                    })
            });
            let Some(user) = user.map(|u| u.id) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "authentication failure",
                );
            };
            drop(store);
            let token = state.auth.lock().issue_access(
                state.org_id(),
                user,
                &cfg.client_id,
                now + cfg.session_ms,
            );
            state.mark_dirty();
            (
                StatusCode::OK,
                axum::Json(token_response(&state, &token, user, None)),
            )
                .into_response()
        }
        "refresh_token" => {
            if !client_ok {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_client_id",
                    "client identifier invalid",
                );
            }
            if form.client_secret.is_some() && !secret_ok {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_client",
                    "invalid client credentials",
                );
            }
            let rt = form.refresh_token.unwrap_or_default();
            let mut auth = state.auth.lock();
            let Some(grant) = auth.refresh.get(&rt).cloned() else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "expired access/refresh token",
                );
            };
            let new_refresh = if cfg.rotate_refresh_tokens {
                auth.forget_refresh(&rt);
                Some(auth.issue_refresh(grant.user, &grant.client_id))
            } else {
                None
            };
            let token = auth.issue_access(
                state.org_id(),
                grant.user,
                &grant.client_id,
                now + cfg.session_ms,
            );
            drop(auth);
            state.mark_dirty();
            (
                StatusCode::OK,
                axum::Json(token_response(&state, &token, grant.user, new_refresh)),
            )
                .into_response()
        }
        "authorization_code" => {
            if !client_ok {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_client_id",
                    "client identifier invalid",
                );
            }
            let code = form.code.unwrap_or_default();
            let mut auth = state.auth.lock();
            // A code is single-use, whatever the outcome.
            let Some(c) = auth.codes.remove(&code) else {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "invalid authorization code",
                );
            };
            if c.expires_ms < now {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "invalid_grant",
                    "expired authorization code",
                );
            }
            if form.redirect_uri.as_deref() != Some(c.redirect_uri.as_str()) {
                return oauth_error(
                    StatusCode::BAD_REQUEST,
                    "redirect_uri_mismatch",
                    "redirect_uri must match configuration",
                );
            }
            match &c.challenge {
                Some((challenge, method)) => {
                    let verifier = form.code_verifier.unwrap_or_default();
                    let computed = if method.eq_ignore_ascii_case("plain") {
                        verifier.clone()
                    } else {
                        base64::engine::general_purpose::URL_SAFE_NO_PAD
                            .encode(Sha256::digest(verifier.as_bytes()))
                    };
                    if verifier.is_empty() || &computed != challenge {
                        return oauth_error(
                            StatusCode::BAD_REQUEST,
                            "invalid_grant",
                            "invalid code verifier",
                        );
                    }
                }
                None => {
                    if !secret_ok {
                        return oauth_error(
                            StatusCode::BAD_REQUEST,
                            "invalid_client",
                            "invalid client credentials",
                        );
                    }
                }
            }
            let refresh = auth.issue_refresh(c.user, &c.client_id);
            let token =
                auth.issue_access(state.org_id(), c.user, &c.client_id, now + cfg.session_ms);
            drop(auth);
            state.mark_dirty();
            (
                StatusCode::OK,
                axum::Json(token_response(&state, &token, c.user, Some(refresh))),
            )
                .into_response()
        }
        "urn:ietf:params:oauth:grant-type:jwt-bearer" => {
            jwt_bearer(&state, form.assertion.as_deref().unwrap_or(""))
        }
        "" => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant type not supported",
        ),
        _ => oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "grant type not supported",
        ),
    }
}

/// Checks an RS256 signature over `header.payload` with the connected app's public key.
fn rs256_valid(public_key_pem: &str, signing_input: &str, signature_b64: &str) -> bool {
    use rsa::pkcs1::DecodeRsaPublicKey;
    use rsa::pkcs8::DecodePublicKey;
    use rsa::signature::Verifier;
    let key = rsa::RsaPublicKey::from_public_key_pem(public_key_pem)
        .or_else(|_| rsa::RsaPublicKey::from_pkcs1_pem(public_key_pem));
    let Ok(key) = key else { return false };
    let Ok(sig_bytes) = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(signature_b64.trim_end_matches('='))
    else {
        return false;
    };
    let Ok(sig) = rsa::pkcs1v15::Signature::try_from(sig_bytes.as_slice()) else {
        return false;
    };
    rsa::pkcs1v15::VerifyingKey::<Sha256>::new(key)
        .verify(signing_input.as_bytes(), &sig)
        .is_ok()
}

/// The JWT bearer grant. Claims are checked as Salesforce does (iss = client id, sub = a
/// username, aud = the login host, exp in the future). The RS256 signature is verified when the
/// connected app has a public key (`--jwt-public-key`); without one only the claims are checked.
fn jwt_bearer(state: &OrgState, assertion: &str) -> Response {
    let parts: Vec<&str> = assertion.split('.').collect();
    if let (Some(pem), 3) = (&state.config.jwt_public_key, parts.len()) {
        if !rs256_valid(pem, &format!("{}.{}", parts[0], parts[1]), parts[2]) {
            return oauth_error(
                StatusCode::BAD_REQUEST,
                "invalid_grant",
                "invalid assertion",
            );
        }
    }
    let claims: Option<Value> = parts
        .get(1)
        .and_then(|p| {
            base64::engine::general_purpose::URL_SAFE_NO_PAD
                .decode(p.trim_end_matches('='))
                .ok()
        })
        .and_then(|b| serde_json::from_slice(&b).ok());
    let Some(claims) = claims.filter(|_| parts.len() == 3) else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "invalid assertion",
        );
    };
    if claims["iss"].as_str() != Some(state.config.client_id.as_str()) {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_client_id",
            "client identifier invalid",
        );
    }
    let aud_ok = match &claims["aud"] {
        Value::String(a) => a.trim_end_matches('/') == state.login_url().trim_end_matches('/'),
        _ => false,
    };
    if !aud_ok {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "audience is invalid",
        );
    }
    let now = state.clock.now_ms();
    if claims["exp"]
        .as_i64()
        .map(|e| e * 1000 < now)
        .unwrap_or(true)
    {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "expired authorization code",
        );
    }
    let user = state
        .store
        .read()
        .users
        .iter()
        .find(|u| Some(u.username.as_str()) == claims["sub"].as_str())
        .map(|u| u.id);
    let Some(user) = user else {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "invalid_grant",
            "user hasn't approved this consumer",
        );
    };
    let token = state.auth.lock().issue_access(
        state.org_id(),
        user,
        &state.config.client_id,
        now + state.config.session_ms,
    );
    state.mark_dirty();
    (
        StatusCode::OK,
        axum::Json(token_response(state, &token, user, None)),
    )
        .into_response()
}

fn serde_urlencoded_parse<T: serde::de::DeserializeOwned + Default>(body: &[u8]) -> T {
    let pairs: Vec<(String, String)> = url::form_urlencoded::parse(body).into_owned().collect();
    let map: serde_json::Map<String, Value> = pairs
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    serde_json::from_value(Value::Object(map)).unwrap_or_default()
}

fn basic_auth(headers: &HeaderMap) -> Option<(String, String)> {
    let h = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let b = h.strip_prefix("Basic ")?;
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(b.trim())
        .ok()?;
    let s = String::from_utf8(decoded).ok()?;
    let (a, b) = s.split_once(':')?;
    Some((a.to_string(), b.to_string()))
}

#[derive(Debug, Default, Deserialize)]
pub struct AuthorizeParams {
    response_type: Option<String>,
    client_id: Option<String>,
    redirect_uri: Option<String>,
    state: Option<String>,
    scope: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    username: Option<String>,
    password: Option<String>,
    /// `Allow` or `Deny` from the approve button.
    action: Option<String>,
}

fn redirect_allowed(state: &OrgState, uri: &str) -> bool {
    if state.config.redirect_uris.iter().any(|r| r == uri) {
        return true;
    }
    // Any loopback redirect is accepted, as for a desktop connected app.
    url::Url::parse(uri)
        .ok()
        .and_then(|u| {
            u.host_str()
                .map(|h| matches!(h, "127.0.0.1" | "localhost" | "[::1]"))
        })
        .unwrap_or(false)
}

fn page(title: &str, body: &str) -> Html<String> {
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title>\
         <style>body{{font-family:sans-serif;max-width:28em;margin:4em auto}}label{{display:block;margin:.6em 0}}</style>\
         </head><body><h1>{title}</h1>{body}</body></html>"
    ))
}

fn esc(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn check_authorize(state: &OrgState, p: &AuthorizeParams) -> Result<String, Box<Response>> {
    if p.client_id.as_deref() != Some(state.config.client_id.as_str()) {
        return Err(Box::new(
            (
                StatusCode::BAD_REQUEST,
                page(
                    "Error",
                    "<p>error=invalid_client_id: client identifier invalid</p>",
                ),
            )
                .into_response(),
        ));
    }
    let redirect = p.redirect_uri.clone().unwrap_or_default();
    if !redirect_allowed(state, &redirect) {
        return Err(Box::new(
            (
                StatusCode::BAD_REQUEST,
                page(
                    "Error",
                    "<p>error=redirect_uri_mismatch: redirect_uri must match configuration</p>",
                ),
            )
                .into_response(),
        ));
    }
    if p.response_type.as_deref() != Some("code") {
        let mut u =
            url::Url::parse(&redirect).map_err(|_| StatusCode::BAD_REQUEST.into_response())?;
        u.query_pairs_mut()
            .append_pair("error", "unsupported_response_type")
            .append_pair("error_description", "response type not supported");
        if let Some(s) = &p.state {
            u.query_pairs_mut().append_pair("state", s);
        }
        return Err(Box::new(Redirect::to(u.as_str()).into_response()));
    }
    Ok(redirect)
}

fn sign_in_form(p: &AuthorizeParams, error: Option<&str>) -> Html<String> {
    let hidden = [
        ("response_type", &p.response_type),
        ("client_id", &p.client_id),
        ("redirect_uri", &p.redirect_uri),
        ("state", &p.state),
        ("scope", &p.scope),
        ("code_challenge", &p.code_challenge),
        ("code_challenge_method", &p.code_challenge_method),
    ]
    .iter()
    .filter_map(|(k, v)| {
        v.as_ref()
            .map(|v| format!("<input type=\"hidden\" name=\"{k}\" value=\"{}\">", esc(v)))
    })
    .collect::<String>();
    let err = error
        .map(|e| format!("<p role=\"alert\" style=\"color:#b00\">{}</p>", esc(e)))
        .unwrap_or_default();
    page(
        "Log in to sfsim",
        &format!(
            "{err}<form method=\"post\" action=\"/services/oauth2/authorize\">{hidden}\
             <label>Username <input name=\"username\" autocomplete=\"username\"></label>\
             <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\"></label>\
             <p>Allow this app to access your data (api, refresh_token)?</p>\
             <button name=\"action\" value=\"Allow\">Allow</button> \
             <button name=\"action\" value=\"Deny\">Deny</button></form>"
        ),
    )
}

/// GET /services/oauth2/authorize: the sign-in and approve page.
pub async fn authorize_page(
    State(state): State<Arc<OrgState>>,
    Query(p): Query<AuthorizeParams>,
) -> Response {
    match check_authorize(&state, &p) {
        Ok(_) => sign_in_form(&p, None).into_response(),
        Err(r) => *r,
    }
}

/// POST /services/oauth2/authorize: the form post (from a browser or a script).
pub async fn authorize_submit(
    State(state): State<Arc<OrgState>>,
    Form(p): Form<AuthorizeParams>,
) -> Response {
    let redirect = match check_authorize(&state, &p) {
        Ok(r) => r,
        Err(r) => return *r,
    };
    let Ok(mut u) = url::Url::parse(&redirect) else {
        return StatusCode::BAD_REQUEST.into_response();
    };
    if p.action.as_deref() == Some("Deny") {
        u.query_pairs_mut()
            .append_pair("error", "access_denied")
            .append_pair("error_description", "end-user denied authorization");
        if let Some(s) = &p.state {
            u.query_pairs_mut().append_pair("state", s);
        }
        return Redirect::to(u.as_str()).into_response();
    }
    let user = {
        let store = state.store.read();
        store
            .users
            .iter()
            .find(|u| {
                Some(u.username.as_str()) == p.username.as_deref()
                    && Some(u.password.as_str()) == p.password.as_deref()
            })
            .map(|u| u.id)
    };
    let Some(user) = user else {
        return (
            StatusCode::OK,
            sign_in_form(&p, Some("Please check your username and password.")),
        )
            .into_response();
    };
    let code = format!("aPrx{}", random_token(60));
    let challenge = p.code_challenge.clone().map(|c| {
        (
            c,
            p.code_challenge_method
                .clone()
                .unwrap_or_else(|| "S256".to_string()),
        )
    });
    state.auth.lock().codes.insert(
        code.clone(),
        AuthCode {
            user,
            client_id: state.config.client_id.clone(),
            redirect_uri: redirect,
            challenge,
            expires_ms: state.clock.now_ms() + 15 * 60_000,
        },
    );
    u.query_pairs_mut().append_pair("code", &code);
    if let Some(s) = &p.state {
        u.query_pairs_mut().append_pair("state", s);
    }
    Redirect::to(u.as_str()).into_response()
}

/// POST (or GET) /services/oauth2/revoke with `token=`: revokes an access or refresh token.
pub async fn revoke(
    State(state): State<Arc<OrgState>>,
    Query(q): Query<HashMap<String, String>>,
    body: axum::body::Bytes,
) -> Response {
    let form: HashMap<String, String> = url::form_urlencoded::parse(&body).into_owned().collect();
    let token = form
        .get("token")
        .or_else(|| q.get("token"))
        .cloned()
        .unwrap_or_default();
    let mut auth = state.auth.lock();
    if auth.access.remove(&token).is_some() {
        return StatusCode::OK.into_response();
    }
    if let Some(rt) = auth.refresh.get(&token).cloned() {
        auth.forget_refresh(&token);
        // Revoking a refresh token ends the sessions it granted.
        auth.access
            .retain(|_, a| !(a.user == rt.user && a.client_id == rt.client_id));
        return StatusCode::OK.into_response();
    }
    oauth_error(
        StatusCode::BAD_REQUEST,
        "unsupported_token_type",
        "this token type is not supported",
    )
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    let h = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    h.strip_prefix("Bearer ")
        .or_else(|| h.strip_prefix("OAuth "))
        .map(|s| s.trim().to_string())
}

fn identity(state: &OrgState, user: Id, userinfo: bool) -> Option<Value> {
    let store = state.store.read();
    let u = store.user(user)?;
    let org = state.org_id().to18();
    let base = state.instance_url();
    let v = state.latest_version();
    let urls = json!({
        "enterprise": format!("{base}/services/Soap/c/{v}/{org}"),
        "partner": format!("{base}/services/Soap/u/{v}/{org}"),
        "rest": format!("{base}/services/data/v{v}/"),
        "sobjects": format!("{base}/services/data/v{v}/sobjects/"),
        "query": format!("{base}/services/data/v{v}/query/"),
        "profile": format!("{base}/{}", user.to18()),
    });
    Some(if userinfo {
        json!({
            "sub": format!("{}/id/{}/{}", state.login_url(), org, user.to18()),
            "user_id": user.to18(), "organization_id": org,
            "preferred_username": u.username, "name": u.name, "email": u.email,
            "email_verified": true, "zoneinfo": "America/Los_Angeles", "locale": "en_US",
            "active": true, "user_type": "STANDARD", "urls": urls,
        })
    } else {
        json!({
            "id": format!("{}/id/{}/{}", state.login_url(), org, user.to18()),
            "asserted_user": true, "user_id": user.to18(), "organization_id": org,
            "username": u.username, "display_name": u.name, "email": u.email,
            "active": true, "user_type": "STANDARD", "language": "en_US", "locale": "en_US",
            "utcOffset": -28800000, "urls": urls,
        })
    })
}

fn session_user(state: &OrgState, headers: &HeaderMap) -> Option<Id> {
    let t = bearer(headers)?;
    state
        .auth
        .lock()
        .session(&t, state.clock.now_ms())
        .map(|s| s.user)
}

/// GET /services/oauth2/userinfo
pub async fn userinfo(State(state): State<Arc<OrgState>>, headers: HeaderMap) -> Response {
    match session_user(&state, &headers).and_then(|u| identity(&state, u, true)) {
        Some(v) => axum::Json(v).into_response(),
        None => (StatusCode::FORBIDDEN, "Bad_OAuth_Token").into_response(),
    }
}

/// GET /id/{org}/{user}: the identity URL from the token response.
pub async fn identity_url(
    State(state): State<Arc<OrgState>>,
    axum::extract::Path((org, user)): axum::extract::Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Some(me) = session_user(&state, &headers) else {
        return (StatusCode::FORBIDDEN, "Bad_OAuth_Token").into_response();
    };
    let asked = Id::parse(&user);
    if Id::parse(&org) != Some(state.org_id()) || asked != Some(me) {
        return (StatusCode::FORBIDDEN, "Bad_Id").into_response();
    }
    match identity(&state, me, false) {
        Some(v) => axum::Json(v).into_response(),
        None => StatusCode::NOT_FOUND.into_response(),
    }
}
