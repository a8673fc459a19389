//! The org's Canvas app: where it lives (`/_sim/canvas`, `--canvas-url`), and the signed
//! request Salesforce POSTs to it, built from the org's own users, records and sessions.
//!
//! The signed request is what Salesforce sends: `base64(HMAC-SHA256(consumer secret,
//! base64(JSON))) "." base64(JSON)`, standard Base64 with padding, the HMAC taken over the
//! Base64 *text* of the context (not the JSON bytes). The context's `oauthToken` is a live
//! session of this org for the user, so the app can call the REST API with it.
//!
//! ## Refreshing the signed request from inside the frame
//! Salesforce's pages host the app in an iframe of another origin. sfsim's record and list
//! pages (see `pages`) speak a small `postMessage` protocol with the framed app:
//! 1. the app asks its parent: `window.parent.postMessage({type: "sonde.refresh"}, "*")`;
//! 2. the page accepts it only from its own iframe and only from the Canvas URL's origin, then
//!    fetches `GET /_sim/canvas/signed-request?object=…&id=…&as=…` (or `recordIds=a,b` for a
//!    list view's selection) on its own origin: `{"signedRequest": "…", "canvasUrl": "…"}`,
//!    the same context signed afresh with a new session;
//! 3. the page answers the frame with
//!    `iframe.contentWindow.postMessage({type: "sonde.signedRequest", signedRequest}, canvasOrigin)`,
//!    addressed to the Canvas URL's origin only, so no other page can read the new session.

use crate::ids::Id;
use crate::org::{OrgState, MAX_VERSION};
use crate::store::Store;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use sha2::Sha256;
use std::sync::Arc;

/// The objects whose record pages host the app.
pub const RECORD_OBJECTS: &[&str] = &["Contact", "Lead", "Account", "Case", "Campaign"];
/// The objects whose list views can select records for the app.
pub const LIST_OBJECTS: &[&str] = &["Contact", "Lead"];
/// The connected app's API name, as the Canvas context names it.
const DEVELOPER_NAME: &str = "Sonde";

/// The Canvas app setting. Kept in the state directory (`canvas.json`) with `--state`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CanvasSettings {
    /// Where Salesforce POSTs the signed request (the app's `canvasUrl`); none: not set up.
    pub url: Option<String>,
    /// Whether a record page's request carries `environment.record` (its type, id and name).
    /// Off, it is what `force:canvasApp` in Lightning really sends: an empty `record`, the
    /// id only in `parameters.recordId`, so an app can be tested against that too.
    #[serde(default = "yes")]
    pub send_record: bool,
}

fn yes() -> bool {
    true
}

impl Default for CanvasSettings {
    fn default() -> Self {
        CanvasSettings {
            url: None,
            send_record: true,
        }
    }
}

impl CanvasSettings {
    /// The origin of the Canvas URL: the only origin the pages talk to by `postMessage`.
    pub fn origin(&self) -> Option<String> {
        let url = url::Url::parse(self.url.as_deref()?).ok()?;
        Some(url.origin().ascii_serialization())
    }
}

/// A Canvas URL must be an absolute http(s) URL; anything else would make the record pages
/// post the user's session somewhere unexpected.
pub fn parse_canvas_url(raw: &str) -> Result<String, String> {
    let url = url::Url::parse(raw.trim()).map_err(|e| format!("url: {e}"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err("url: an http:// or https:// URL with a host".into());
    }
    Ok(url.to_string())
}

pub(crate) fn load(dir: &std::path::Path) -> Option<CanvasSettings> {
    let bytes = std::fs::read(dir.join("canvas.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Signs a CanvasRequest's JSON the way Salesforce does (see the module's documentation).
pub fn sign(context_json: &str, consumer_secret: &str) -> String {
    let context = STANDARD.encode(context_json.as_bytes());
    let mut mac = Hmac::<Sha256>::new_from_slice(consumer_secret.as_bytes())
        .expect("HMAC takes keys of any length");
    mac.update(context.as_bytes());
    format!("{}.{context}", STANDARD.encode(mac.finalize().into_bytes()))
}

/// What the app is shown on: one record, or a list view's selection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Record { object: String, id: Id },
    Selection { object: String, ids: Vec<Id> },
}

impl Target {
    /// The Lightning page the app is shown on, relative to the instance.
    pub fn location_path(&self) -> String {
        match self {
            Target::Record { object, id } => format!("/lightning/r/{object}/{}/view", id.to18()),
            Target::Selection { object, .. } => format!("/lightning/o/{object}/list"),
        }
    }

    /// The query string the refresh endpoint takes for this target (without `as`).
    pub fn refresh_query(&self) -> String {
        match self {
            Target::Record { object, id } => format!("object={object}&id={}", id.to18()),
            Target::Selection { object, ids } => {
                let ids: Vec<String> = ids.iter().map(Id::to18).collect();
                format!("object={object}&recordIds={}", ids.join(","))
            }
        }
    }
}

/// Why no signed request could be made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CanvasError {
    NotConfigured,
    NoUser(String),
    NoRecord(String),
}

impl std::fmt::Display for CanvasError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CanvasError::NotConfigured => write!(
                f,
                "no Canvas app is set up: POST /_sim/canvas {{\"url\": …}} or start with --canvas-url"
            ),
            CanvasError::NoUser(u) => write!(f, "this org has no user {u}"),
            CanvasError::NoRecord(r) => write!(f, "no such record: {r}"),
        }
    }
}

/// The user a page is shown to: `as` names one by username, else the org's admin.
pub fn user_id(store: &Store, username: Option<&str>) -> Result<Id, CanvasError> {
    match username.map(str::trim).filter(|u| !u.is_empty()) {
        None => Ok(store.admin().id),
        Some(name) => store
            .users
            .iter()
            .find(|u| u.username.eq_ignore_ascii_case(name))
            .map(|u| u.id)
            .ok_or_else(|| CanvasError::NoUser(name.to_string())),
    }
}

/// A field of a record as text ("" when empty or unknown).
pub(crate) fn field_text(store: &Store, object: &str, id: Id, field: &str) -> String {
    let Some(oi) = store.meta.object_index(object) else {
        return String::new();
    };
    let (Some(rec), Some(fi)) = (store.get(oi, id), store.meta.objects[oi].field_index(field))
    else {
        return String::new();
    };
    let f = &store.meta.objects[oi].fields[fi];
    rec.get(fi).to_text(f.is_integer())
}

/// A live record of `object` by a 15- or 18-character id.
pub fn find_record(store: &Store, object: &str, raw: &str) -> Option<Id> {
    let id = Id::parse(raw.trim())?;
    let oi = store.meta.object_index(object)?;
    (store.meta.objects[oi].key_prefix == id.prefix())
        .then(|| store.get(oi, id))
        .flatten()
        .filter(|r| !r.deleted)
        .map(|r| r.id)
}

/// The record's display name: `Name`, or a Case's number.
pub(crate) fn record_name(store: &Store, object: &str, id: Id) -> String {
    let field = if object == "Case" {
        "CaseNumber"
    } else {
        "Name"
    };
    field_text(store, object, id, field)
}

/// `WINTER`/`SPRING`/`SUMMER` of an API version (v20.0 was Winter '11, three a year since).
fn season(version: u32) -> &'static str {
    ["WINTER", "SPRING", "SUMMER"][(version.saturating_sub(20) % 3) as usize]
}

/// The CanvasRequest Salesforce would send for `target` to `user`, with a fresh session
/// (`oauth_token`) minted by the caller. Shapes follow Salesforce's Canvas developer guide
/// (CanvasRequest, Client, Context and its User, Organization, Environment, Links) and what
/// `force:canvasApp` sends from a Lightning record page: `displayLocation` "Aura", the record
/// id also in `parameters.recordId`.
pub fn request_json(
    state: &OrgState,
    store: &Store,
    settings: &CanvasSettings,
    target: &Target,
    user: Id,
    oauth_token: &str,
    issued_at_ms: i64,
) -> Value {
    let base = state.instance_url();
    let api = format!("{MAX_VERSION}.0");
    let org = state.org_id();
    let cred = store.user(user).unwrap_or_else(|| store.admin());
    let user18 = cred.id.to18();
    let organization = |field: &str| field_text(store, "Organization", org, field);
    let (parameters, record) = match target {
        Target::Record { object, id } => {
            let id18 = id.to18();
            let mut record = json!({
                "attributes": {"type": object, "url": format!("/services/data/v{api}/sobjects/{object}/{id18}")},
                "Id": id18,
            });
            let name = record_name(store, object, *id);
            if !name.is_empty() {
                record["Name"] = json!(name);
            }
            if !settings.send_record {
                record = json!({});
            }
            (json!({"recordId": id18}), record)
        }
        Target::Selection { ids, .. } => {
            let ids: Vec<String> = ids.iter().map(Id::to18).collect();
            // A list view's button has no record of its own: Salesforce sends an empty one.
            (json!({"recordIds": ids}), json!({}))
        }
    };
    let user_field = |field: &str| field_text(store, "User", cred.id, field);
    let time_zone = match organization("TimeZoneSidKey") {
        z if z.is_empty() => "America/Los_Angeles".to_string(),
        z => z,
    };
    let locale = match organization("DefaultLocaleSidKey") {
        l if l.is_empty() => "en_US".to_string(),
        l => l,
    };
    let v = |path: &str| format!("/services/data/v{api}/{path}");
    json!({
        "algorithm": "HMACSHA256",
        "issuedAt": issued_at_ms / 1000,
        "userId": user18,
        "client": {
            // Lightning's force:canvasApp names its instance by the app and a counter.
            "instanceId": format!("_:{DEVELOPER_NAME}:{}:0:canvasapp", issued_at_ms % 1000),
            "instanceUrl": base,
            "oauthToken": oauth_token,
            // Salesforce adds one when the app has the refresh_token scope. sfsim leaves it
            // out: minting a refresh token per page view would push the user's older
            // approvals (Sonde's own link among them) out of the five an app may hold.
            "refreshToken": null,
            "targetOrigin": base,
        },
        "context": {
            "application": {
                "name": DEVELOPER_NAME,
                "developerName": DEVELOPER_NAME,
                "namespace": "",
                "canvasUrl": settings.url,
                "applicationId": Id::new("06P", 1).as15(),
                "referenceId": Id::new("09H", 1).as15(),
                "version": "1.0",
                "authType": "SIGNED_REQUEST",
                "options": [],
                "samlInitiationMethod": "None",
                "isInstalledPersonalApp": false,
            },
            "user": {
                "userId": user18,
                "userName": cred.username,
                "email": cred.email,
                "fullName": cred.name,
                "firstName": user_field("FirstName"),
                "lastName": user_field("LastName"),
                "language": "en_US",
                "locale": locale,
                "timeZone": time_zone,
                "profileId": cred.profile_id.get(..15).unwrap_or(&cred.profile_id),
                "roleId": null,
                "userType": "STANDARD",
                "currencyISOCode": "USD",
                "profilePhotoUrl": format!("{base}/profilephoto/005/F"),
                "profileThumbnailUrl": format!("{base}/profilephoto/005/T"),
                "siteUrl": null,
                "siteUrlPrefix": null,
                "networkId": null,
                "accessibilityModeEnabled": false,
                "isDefaultNetwork": true,
            },
            "organization": {
                "organizationId": org.to18(),
                "name": organization("Name"),
                "currencyIsoCode": "USD",
                "multicurrencyEnabled": false,
                "namespacePrefix": null,
            },
            "environment": {
                "referer": null,
                "locationUrl": format!("{base}{}", target.location_path()),
                "displayLocation": "Aura",
                "sublocation": null,
                "uiTheme": "Theme4d",
                "dimensions": {
                    "width": "100%", "height": "900px", "maxWidth": "1000px",
                    "maxHeight": "2000px", "clientWidth": "1004px", "clientHeight": "900px",
                },
                "parameters": parameters,
                "record": record,
                "version": {"api": api, "season": season(MAX_VERSION)},
            },
            "links": {
                "loginUrl": state.login_url(),
                "enterpriseUrl": format!("/services/Soap/c/{api}/{}", org.as15()),
                "metadataUrl": format!("/services/Soap/m/{api}/{}", org.as15()),
                "partnerUrl": format!("/services/Soap/u/{api}/{}", org.as15()),
                "restUrl": v(""),
                "sobjectUrl": v("sobjects/"),
                "searchUrl": v("search/"),
                "queryUrl": v("query/"),
                "recentItemsUrl": v("recent/"),
                "chatterFeedsUrl": "/services/data/v31.0/chatter/feeds",
                "chatterFeedItemsUrl": "/services/data/v31.0/chatter/feed-items",
                "chatterGroupsUrl": v("chatter/groups"),
                "chatterUsersUrl": v("chatter/users"),
                "userUrl": format!("/{user18}"),
            },
        },
    })
}

/// A signed request for `target` shown to `username` (the admin when none), with a new
/// session for that user. The caller holds no lock.
pub fn signed_request(
    state: &OrgState,
    target: &Target,
    username: Option<&str>,
) -> Result<String, CanvasError> {
    let settings = state.canvas.lock().clone();
    if settings.url.is_none() {
        return Err(CanvasError::NotConfigured);
    }
    let now = state.clock.now_ms();
    // One lock at a time: other paths take the session lock and the data lock in either order.
    let user = user_id(&state.store.read(), username)?;
    let token = state.auth.lock().issue_access(
        state.org_id(),
        user,
        &state.config.client_id,
        now + state.config.session_ms,
    );
    state.mark_dirty();
    let store = state.store.read();
    let json = request_json(state, &store, &settings, target, user, &token, now);
    Ok(sign(&json.to_string(), &state.config.client_secret))
}

// ---------- /_sim/canvas ----------

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct CanvasBody {
    url: Option<String>,
    send_record: Option<bool>,
}

/// `GET /_sim/canvas`: `{"url": …|null}`.
pub async fn get_settings(State(state): State<Arc<OrgState>>) -> Response {
    Json(state.canvas.lock().clone()).into_response()
}

/// `POST /_sim/canvas` `{"url": "http://host:port/panel", "sendRecord"?: bool}` (a null
/// URL takes the app away; `sendRecord` is kept when not given).
pub async fn set_settings(State(state): State<Arc<OrgState>>, body: Bytes) -> Response {
    let bad = |m: String| (StatusCode::BAD_REQUEST, Json(json!({"error": m}))).into_response();
    let b = match serde_json::from_slice::<CanvasBody>(&body) {
        Ok(b) => b,
        Err(e) => return bad(format!("expected {{url}}: {e}")),
    };
    let url = match b.url.as_deref().map(parse_canvas_url).transpose() {
        Ok(u) => u,
        Err(e) => return bad(e),
    };
    let settings = {
        let mut current = state.canvas.lock();
        current.url = url;
        if let Some(send) = b.send_record {
            current.send_record = send;
        }
        current.clone()
    };
    state.mark_dirty();
    Json(settings).into_response()
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefreshQuery {
    object: String,
    id: Option<String>,
    /// Comma-separated ids of a list view's selection.
    record_ids: Option<String>,
    #[serde(rename = "as")]
    as_user: Option<String>,
}

/// Reads a refresh query into the target it names.
fn target_of(store: &Store, q: &RefreshQuery) -> Result<Target, CanvasError> {
    match (&q.id, &q.record_ids) {
        (Some(id), _) if RECORD_OBJECTS.contains(&q.object.as_str()) => {
            let id = find_record(store, &q.object, id)
                .ok_or_else(|| CanvasError::NoRecord(format!("{} {id}", q.object)))?;
            Ok(Target::Record {
                object: q.object.clone(),
                id,
            })
        }
        (None, Some(ids)) if LIST_OBJECTS.contains(&q.object.as_str()) => {
            let ids = ids
                .split(',')
                .filter(|s| !s.trim().is_empty())
                .map(|raw| {
                    find_record(store, &q.object, raw)
                        .ok_or_else(|| CanvasError::NoRecord(format!("{} {raw}", q.object)))
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok(Target::Selection {
                object: q.object.clone(),
                ids,
            })
        }
        _ => Err(CanvasError::NoRecord(format!(
            "{}: give id (Contact, Lead, Account, Case, Campaign) or recordIds (Contact, Lead)",
            q.object
        ))),
    }
}

/// `GET /_sim/canvas/signed-request?object=…&id=…|recordIds=…[&as=…]`: a freshly signed
/// request for the same context, what a page hands its frame when asked to refresh.
pub async fn refresh(
    State(state): State<Arc<OrgState>>,
    Query(q): Query<RefreshQuery>,
) -> Response {
    let target = {
        let store = state.store.read();
        target_of(&store, &q)
    };
    let signed = target.and_then(|t| signed_request(&state, &t, q.as_user.as_deref()));
    match signed {
        Ok(signed) => (
            [(header::CACHE_CONTROL, "no-store")],
            Json(json!({"signedRequest": signed, "canvasUrl": state.canvas.lock().url})),
        )
            .into_response(),
        Err(e) => {
            let status = match e {
                CanvasError::NotConfigured => StatusCode::CONFLICT,
                _ => StatusCode::NOT_FOUND,
            };
            (status, Json(json!({"error": e.to_string()}))).into_response()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An HMAC computed here from the documented recipe, not through `sign`.
    fn documented_signature(secret: &str, context_b64: &str) -> String {
        let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
        mac.update(context_b64.as_bytes());
        STANDARD.encode(mac.finalize().into_bytes())
    }

    #[test]
    fn the_signature_is_the_hmac_of_the_base64_context_under_the_consumer_secret() {
        let json = r#"{"algorithm":"HMACSHA256","context":{"user":{"email":"ada@example.com"}}}"#;
        let signed = sign(json, "consumer-secret");
        let (sig, ctx) = signed.split_once('.').unwrap();
        assert_eq!(STANDARD.decode(ctx).unwrap(), json.as_bytes());
        assert_eq!(sig, documented_signature("consumer-secret", ctx));
        assert_ne!(sig, documented_signature("another-secret", ctx));
        // Over the Base64 text, not the JSON bytes.
        assert_ne!(sig, documented_signature("consumer-secret", json));
        assert!(sig.ends_with('='), "standard Base64 with padding: {sig}");
    }

    #[test]
    fn canvas_urls_must_be_http_with_a_host() {
        assert_eq!(
            parse_canvas_url("http://127.0.0.1:8080/panel").unwrap(),
            "http://127.0.0.1:8080/panel"
        );
        assert!(parse_canvas_url("javascript:alert(1)").is_err());
        assert!(parse_canvas_url("/panel").is_err());
        let s = CanvasSettings {
            url: Some("https://sonde.example.com:8443/panel".into()),
            ..CanvasSettings::default()
        };
        assert_eq!(s.origin().unwrap(), "https://sonde.example.com:8443");
    }

    #[test]
    fn seasons_follow_the_release_calendar() {
        assert_eq!(season(62), "WINTER");
        assert_eq!(season(61), "SUMMER");
        assert_eq!(season(60), "SPRING");
    }
}
