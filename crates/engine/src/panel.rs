//! The Sonde panel inside Salesforce (Canvas): a signed request from a linked org becomes the
//! Sonde user of the same email, and the record it is shown on lists the responses about it.
//!
//! Salesforce vouches for the request with the connected app's consumer secret; everything after
//! that first POST rides on a short-lived pass signed with an instance secret and kept in the
//! page (the panel lives in Salesforce's iframe, where Sonde's session cookie is not sent).

use crate::responses::Response;
use crate::surveys::Survey;
use crate::{Actor, Error, Result, Role, Sonde};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use std::collections::{BTreeMap, HashMap};
use store::responses::{ResponseRow, ResponseStatus};

mod records;
mod sends;
mod sent;
mod settings;

pub use sends::{FieldMapping, PanelSend, PanelSent, SendCounts, SentTab};
pub use settings::{Exclusions, PanelSettings};

/// The embedded data fields that tie a response to a Salesforce record (set by the links
/// Salesforce-triggered and panel distributions send, or by whoever builds the link); any
/// other `sf…Id` field counts too (`store::record_links`).
pub const RECORD_FIELDS: &[&str] = &[
    "sfContactId",
    "sfLeadId",
    "sfAccountId",
    "sfCaseId",
    "sfSurveyId",
];

/// How long a panel's pass lets its page open responses before Salesforce must sign again.
pub const PASS_LIFETIME_MS: i64 = 15 * 60 * 1000;

/// Surveys the record widget sums up at most (those of the newest responses).
pub const WIDGET_SURVEYS: usize = 5;

/// Responses a record's panel lists at most; a record with more shows the newest.
pub const LISTED_AT_MOST: usize = 200;

/// The instance secret that signs panel passes.
const PASS_KEY: &str = "canvas-panel-key";
const PASS_DOMAIN: &[u8] = b"sonde/canvas-panel/v1\0";

const EXPIRED: &str = "This panel has expired: Salesforce is asked to sign it again; if nothing happens, reload the page in Salesforce.";
const RELOAD: &str = "This panel has expired or was not opened from Salesforce: reload the page in Salesforce to open it again.";

/// What a panel page may do after Salesforce signed it in: whose eyes, which record, which
/// origins may frame it, until when. Signed into the page; nothing of it is stored.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct PanelPass {
    pub user_id: String,
    pub org_id: String,
    /// The Salesforce org (15 characters) that signed the request.
    #[serde(default)]
    pub sf_org_id: String,
    /// The record the panel was opened on (15-character form), if any.
    pub record_id: Option<String>,
    /// Its object as Salesforce named it (`Contact`, `Campaign`…).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub record_type: Option<String>,
    /// Records selected in a list view (18 or 15 characters), when opened on several.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub record_ids: Vec<String>,
    /// `frame-ancestors` sources: the org's own origins.
    pub frame_ancestors: Vec<String>,
    /// Milliseconds since the epoch after which the pass is refused.
    pub expires_at: i64,
}

/// One response listed on a record's panel.
#[derive(Debug, Clone)]
pub struct RecordResponse {
    pub id: String,
    pub survey_id: String,
    pub survey_name: String,
    pub status: ResponseStatus,
    pub started_at: i64,
    pub ended_at: Option<i64>,
}

/// A panel as Salesforce opened it: who, on what record, and its responses, newest first.
#[derive(Debug, Clone)]
pub struct Panel {
    pub actor: Actor,
    pub pass: PanelPass,
    /// The pass, signed, for the page's links.
    pub token: String,
    /// The record's object as Salesforce named it (`Contact`, `Account`…).
    pub record_type: Option<String>,
    pub responses: Vec<RecordResponse>,
}

/// The first 15 characters of a Salesforce id, the part that names the record (the 18-character
/// form only adds a case checksum); None for anything that is not an id.
pub fn record_key(id: &str) -> Option<&str> {
    store::record_links::record_key(id)
}

/// Whether a response's embedded data ties it to the record (`key`: 15 characters): a
/// `sf…Id` field (`sfContactId`, `sfAccountId`…) naming it.
pub fn is_about_record(embedded_data: &BTreeMap<String, String>, key: &str) -> bool {
    embedded_data.iter().any(|(f, v)| {
        store::record_links::is_record_field(f) && record_key(v).is_some_and(|k| k == key)
    })
}

/// The object a record id's key prefix names, for the objects the panel is placed on.
pub fn object_of_id(id: &str) -> Option<&'static str> {
    Some(match id.get(..3)? {
        "003" => "Contact",
        "00Q" => "Lead",
        "001" => "Account",
        "500" => "Case",
        "701" => "Campaign",
        _ => return None,
    })
}

/// The origins Salesforce shows an org's pages from, derived from its instance URL: the
/// instance itself, Lightning and Visualforce (`acme.my.salesforce.com` →
/// `acme.lightning.force.com`, `acme--c.vf.force.com`; sandboxes keep their `.sandbox`). Any
/// other host (a local org such as `sonde sfsim`) frames from its own origin alone.
pub fn frame_ancestors(instance_url: &str) -> Option<Vec<String>> {
    let url = url::Url::parse(instance_url).ok()?;
    if !matches!(url.scheme(), "https" | "http") || url.host_str().is_none() {
        return None;
    }
    let origin = url.origin().ascii_serialization();
    let host = url.host_str()?.to_ascii_lowercase();
    let mut origins = vec![origin];
    if url.scheme() == "https" {
        let (name, sandbox) = if let Some(n) = host.strip_suffix(".sandbox.my.salesforce.com") {
            (n, ".sandbox")
        } else if let Some(n) = host.strip_suffix(".my.salesforce.com") {
            (n, "")
        } else {
            return Some(origins);
        };
        if name.is_empty() || name.contains('.') {
            return Some(origins);
        }
        origins.push(format!("https://{name}{sandbox}.lightning.force.com"));
        origins.push(format!("https://{name}--c{sandbox}.vf.force.com"));
    }
    Some(origins)
}

/// Why a panel was not opened, and the origins that may frame the page saying so: the org's,
/// once Salesforce's signature checked out; none before.
#[derive(Debug)]
pub struct PanelRefusal {
    pub error: Error,
    pub frame_ancestors: Vec<String>,
}

impl From<Error> for PanelRefusal {
    fn from(error: Error) -> Self {
        Self {
            error,
            frame_ancestors: Vec::new(),
        }
    }
}

fn refused(message: &str) -> Error {
    Error::Forbidden(message.to_string())
}

impl Sonde {
    async fn pass_mac(&self) -> Result<Hmac<Sha256>> {
        let key = self.instance_secret(PASS_KEY).await?;
        let mut mac = Hmac::<Sha256>::new_from_slice(key.as_bytes())
            .map_err(|_| Error::Internal("HMAC accepts any key length".into()))?;
        mac.update(PASS_DOMAIN);
        Ok(mac)
    }

    /// Signs a pass as the panel's page carries it (the panel signs its own; tests sign
    /// expired ones).
    pub async fn sign_panel_pass(&self, pass: &PanelPass) -> Result<String> {
        let json = serde_json::to_vec(pass)?;
        let mut mac = self.pass_mac().await?;
        mac.update(&json);
        Ok(format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(&json),
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        ))
    }

    /// The pass a page's token holds, when this instance signed it and it has not expired.
    async fn open_panel_pass(&self, token: &str) -> std::result::Result<PanelPass, PanelRefusal> {
        let (body, tag) = token
            .trim()
            .split_once('.')
            .ok_or_else(|| refused(RELOAD))?;
        let json = URL_SAFE_NO_PAD.decode(body).map_err(|_| refused(RELOAD))?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| refused(RELOAD))?;
        let mut mac = self.pass_mac().await.map_err(PanelRefusal::from)?;
        mac.update(&json);
        mac.verify_slice(&tag).map_err(|_| refused(RELOAD))?;
        let pass: PanelPass = serde_json::from_slice(&json).map_err(|_| refused(RELOAD))?;
        if pass.expires_at < store::now_ms() {
            // This instance signed it: its org may frame the page that renews it.
            return Err(PanelRefusal {
                error: refused(EXPIRED),
                frame_ancestors: pass.frame_ancestors,
            });
        }
        Ok(pass)
    }

    /// A panel page's pass, opened: the Sonde user it acts as (still active) and the pass.
    /// Refused like an expired pass otherwise; the refusal is framed by the pass's org.
    pub async fn panel_context(
        &self,
        token: &str,
    ) -> std::result::Result<(Actor, PanelPass), PanelRefusal> {
        let pass = self.open_panel_pass(token).await?;
        match self.panel_actor(&pass.org_id, &pass.user_id).await {
            Ok(actor) => Ok((actor, pass)),
            Err(error) => Err(PanelRefusal {
                error,
                frame_ancestors: pass.frame_ancestors,
            }),
        }
    }

    /// The Responses tab again, from a page's pass (its other tabs link back to it).
    pub async fn reopen_panel(&self, token: &str) -> std::result::Result<Panel, PanelRefusal> {
        let (actor, pass) = self.panel_context(token).await?;
        let ancestors = pass.frame_ancestors.clone();
        self.panel_of_pass(actor, pass)
            .await
            .map_err(|error| PanelRefusal {
                error,
                frame_ancestors: ancestors,
            })
    }

    /// The Sonde user of a pass or request, if still active in that organization.
    async fn panel_actor(&self, org_id: &str, user_id: &str) -> Result<Actor> {
        let user = self
            .store
            .user_in_org(org_id, user_id)
            .await?
            .filter(|u| u.deactivated_at.is_none())
            .ok_or_else(|| refused(RELOAD))?;
        Actor::from_user(user)
    }

    /// Opens the panel from Salesforce's `signed_request`: verified with the connected app's
    /// consumer secret, from an org linked to a Sonde organization, as a Sonde user of that
    /// organization with the Salesforce user's email. Anything else is refused (`Forbidden`)
    /// before any of the organization's data is read; a refusal of a request Salesforce did
    /// sign may be framed by that org, so its message shows where the panel would.
    pub async fn open_panel(
        &self,
        signed_request: &str,
    ) -> std::result::Result<Panel, PanelRefusal> {
        let secret = self
            .salesforce_settings()
            .client_secret
            .ok_or_else(|| refused("Sonde has no Salesforce connected app configured."))?;
        let request = salesforce::canvas::verify_signed_request(signed_request, &secret)
            .map_err(|_| refused("This request was not signed by Salesforce for Sonde."))?;
        let frame_ancestors = frame_ancestors(&request.client.instance_url)
            .ok_or_else(|| refused("This request names no Salesforce instance."))?;
        self.signed_panel(&request, frame_ancestors.clone())
            .await
            .map_err(|error| PanelRefusal {
                error,
                frame_ancestors,
            })
    }

    async fn signed_panel(
        &self,
        request: &salesforce::canvas::CanvasRequest,
        frame_ancestors: Vec<String>,
    ) -> Result<Panel> {
        let ctx = &request.context;
        let not_linked = || refused("This Salesforce org is not linked to Sonde.");
        let sf_org = record_key(&ctx.organization.organization_id).ok_or_else(not_linked)?;
        let orgs = self.store.organizations_linked_to(sf_org).await?;
        if orgs.is_empty() {
            return Err(not_linked());
        }
        let email = ctx.user.email.as_deref().unwrap_or("").trim();
        let no_user = || {
            refused(
                "Your Salesforce email has no Sonde account in the organization this org is linked to. Ask a Sonde administrator to invite you.",
            )
        };

        // Emails are unique across Sonde: the one user, if they belong to a linked organization;
        // else the sender an admin chose for this org's people without an account.
        let user = match self
            .store
            .user_by_email(email)
            .await?
            .filter(|u| u.deactivated_at.is_none() && orgs.contains(&u.org_id))
        {
            Some(u) => u,
            None => self
                .chosen_sender(&orgs, sf_org)
                .await?
                .ok_or_else(no_user)?,
        };
        let actor = Actor::from_user(user)?;
        let env = &ctx.environment;
        let record_id = env
            .record_id()
            .or_else(|| env.parameters.get("recordId").and_then(|v| v.as_str()))
            .and_then(record_key)
            .map(str::to_string);
        let record_ids: Vec<String> = env
            .parameters
            .get("recordIds")
            .and_then(|v| v.as_array())
            .map(|ids| {
                ids.iter()
                    .filter_map(|v| v.as_str())
                    .filter(|id| record_key(id).is_some())
                    .take(sends::MAX_SELECTED)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default();
        // Lightning's force:canvasApp sends an empty record: the install kit's component
        // passes the object in `parameters.sObjectName`, else the id's prefix tells.
        let record_type = env
            .record_type()
            .filter(|t| !t.is_empty())
            .or_else(|| env.parameters.get("sObjectName").and_then(|v| v.as_str()))
            .filter(|t| !t.is_empty() && t.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'))
            .map(str::to_string)
            .or_else(|| {
                record_id
                    .as_deref()
                    .and_then(object_of_id)
                    .map(str::to_string)
            });
        let pass = PanelPass {
            user_id: actor.user_id.clone(),
            org_id: actor.org_id.clone(),
            sf_org_id: sf_org.to_string(),
            record_id,
            record_type,
            record_ids,
            frame_ancestors,
            expires_at: store::now_ms() + PASS_LIFETIME_MS,
        };
        self.panel_of_pass(actor, pass).await
    }

    /// The panel a pass shows (its Responses tab), with the pass signed for its links.
    async fn panel_of_pass(&self, actor: Actor, pass: PanelPass) -> Result<Panel> {
        let token = self.sign_panel_pass(&pass).await?;
        let responses = match &pass.record_id {
            Some(id) => self.record_responses_in(&actor, &pass, id).await?,
            None => Vec::new(),
        };
        Ok(Panel {
            actor,
            record_type: pass.record_type.clone(),
            pass,
            token,
            responses,
        })
    }

    /// The surveys the actor may read, by id: what the admin UI would show them.
    async fn readable_surveys(&self, actor: &Actor) -> Result<HashMap<String, String>> {
        let all = actor.role == Role::Admin;
        let mut names = HashMap::new();
        for archived in [false, true] {
            for s in self
                .store
                .surveys_visible_to(&actor.org_id, &actor.user_id, all, archived)
                .await?
            {
                names.insert(s.id, s.name);
            }
        }
        Ok(names)
    }

    /// The responses about a record (`key`: 15 characters) in surveys the actor may read,
    /// newest first.
    pub async fn record_responses(&self, actor: &Actor, key: &str) -> Result<Vec<RecordResponse>> {
        self.listed_responses(actor, &[key.to_string()]).await
    }

    /// The responses a pass's record shows: an Account's include those about its contacts
    /// (their ids read from the org in one query).
    async fn record_responses_in(
        &self,
        actor: &Actor,
        pass: &PanelPass,
        key: &str,
    ) -> Result<Vec<RecordResponse>> {
        let keys = self.record_and_related(actor, pass, key).await?;
        self.listed_responses(actor, &keys).await
    }

    /// The record widget: each survey with responses about the pass's record (the newest
    /// first, at most [`WIDGET_SURVEYS`]), summed up over those responses only.
    pub async fn record_dashboards(
        &self,
        actor: &Actor,
        pass: &PanelPass,
    ) -> Result<Vec<(String, dashboards::Dashboard)>> {
        let Some(key) = pass.record_id.as_deref() else {
            return Ok(Vec::new());
        };
        let keys = self.record_and_related(actor, pass, key).await?;
        let mut surveys: Vec<(String, String)> = Vec::new();
        for r in self.listed_responses(actor, &keys).await? {
            if !surveys.iter().any(|(id, _)| *id == r.survey_id) && surveys.len() < WIDGET_SURVEYS {
                surveys.push((r.survey_id, r.survey_name));
            }
        }
        let filter = crate::dashboards::DashboardFilter {
            records: keys,
            ..Default::default()
        };
        let mut out = Vec::new();
        for (id, name) in surveys {
            out.push((name, self.survey_dashboard(actor, &id, &filter).await?));
        }
        Ok(out)
    }

    /// A record's key and, for an Account, its contacts' keys.
    pub(crate) async fn record_and_related(
        &self,
        actor: &Actor,
        pass: &PanelPass,
        key: &str,
    ) -> Result<Vec<String>> {
        let mut keys = vec![key.to_string()];
        if pass.record_type.as_deref() == Some("Account") {
            keys.extend(
                self.account_contacts(actor, pass, key)
                    .await?
                    .iter()
                    .cloned(),
            );
        }
        Ok(keys)
    }

    async fn listed_responses(
        &self,
        actor: &Actor,
        keys: &[String],
    ) -> Result<Vec<RecordResponse>> {
        let surveys = self.readable_surveys(actor).await?;
        let rows = self
            .store
            .responses_about(&actor.org_id, keys, LISTED_AT_MOST as i64 * 4)
            .await?;
        let mut listed = Vec::new();
        for row in rows {
            let Some(name) = surveys.get(&row.survey_id) else {
                continue;
            };
            listed.push(RecordResponse {
                id: row.id,
                survey_id: row.survey_id,
                survey_name: name.clone(),
                status: row.status,
                started_at: row.started_at,
                ended_at: row.ended_at,
            });
            if listed.len() == LISTED_AT_MOST {
                break;
            }
        }
        Ok(listed)
    }

    /// One response opened from a panel's page: the pass must be this instance's and fresh,
    /// its user still active, and the response about the pass's record and in a survey the
    /// user may read. Returns the pass (the page is framed by its origins too).
    pub async fn panel_response(
        &self,
        token: &str,
        response_id: &str,
    ) -> std::result::Result<(PanelPass, Survey, Response), PanelRefusal> {
        let pass = self.open_panel_pass(token).await?;
        match self.pass_response(&pass, response_id).await {
            Ok((survey, response)) => Ok((pass, survey, response)),
            Err(error) => Err(PanelRefusal {
                error,
                frame_ancestors: pass.frame_ancestors,
            }),
        }
    }

    async fn pass_response(
        &self,
        pass: &PanelPass,
        response_id: &str,
    ) -> Result<(Survey, Response)> {
        let actor = self.panel_actor(&pass.org_id, &pass.user_id).await?;
        let key = pass
            .record_id
            .as_deref()
            .ok_or(Error::NotFound("response"))?;
        let keys = self.record_and_related(&actor, pass, key).await?;
        let row = self
            .store
            .response(&actor.org_id, response_id)
            .await?
            .filter(|r| keys.iter().any(|k| row_is_about(r, k)))
            .ok_or(Error::NotFound("response"))?;
        let survey = self.survey(&actor, &row.survey_id).await?;
        Ok((survey, Response::from_row(row)?))
    }
}

/// Whether a stored response's embedded data ties it to the record: the store only narrowed
/// the rows down to those whose text mentions the id.
fn row_is_about(row: &ResponseRow, key: &str) -> bool {
    #[derive(Deserialize)]
    struct Embedded {
        #[serde(default)]
        embedded_data: BTreeMap<String, String>,
    }
    serde_json::from_str::<Embedded>(&row.data)
        .map(|d| is_about_record(&d.embedded_data, key))
        .unwrap_or(false)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_is_named_by_its_first_15_characters() {
        assert_eq!(record_key("0035g00000AbCdEAAZ"), Some("0035g00000AbCdE"));
        assert_eq!(record_key("0035g00000AbCdE"), Some("0035g00000AbCdE"));
        assert_eq!(record_key("0035g00000AbCd"), None);
        assert_eq!(record_key("0035g00000AbCd%' OR"), None);
        let data = BTreeMap::from([("sfAccountId".to_string(), "0015g00000XyZ12AAA".to_string())]);
        assert!(is_about_record(&data, "0015g00000XyZ12"));
        assert!(!is_about_record(&data, "0015g00000XyZ13"));
        // Case matters in a 15-character id.
        assert!(!is_about_record(&data, "0015G00000XYZ12"));
        let other = BTreeMap::from([("Note".to_string(), "0015g00000XyZ12AAA".to_string())]);
        assert!(!is_about_record(&other, "0015g00000XyZ12"));
    }

    #[test]
    fn an_orgs_own_origins_frame_its_panel() {
        assert_eq!(
            frame_ancestors("https://acme.my.salesforce.com").unwrap(),
            [
                "https://acme.my.salesforce.com",
                "https://acme.lightning.force.com",
                "https://acme--c.vf.force.com"
            ]
        );
        assert_eq!(
            frame_ancestors("https://acme--dev.sandbox.my.salesforce.com/").unwrap(),
            [
                "https://acme--dev.sandbox.my.salesforce.com",
                "https://acme--dev.sandbox.lightning.force.com",
                "https://acme--dev--c.sandbox.vf.force.com"
            ]
        );
        assert_eq!(
            frame_ancestors("http://127.0.0.1:4567").unwrap(),
            ["http://127.0.0.1:4567"]
        );
        assert!(frame_ancestors("javascript:alert(1)").is_none());
        assert!(frame_ancestors("not a url").is_none());
    }
}
