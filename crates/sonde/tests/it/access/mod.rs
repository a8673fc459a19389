//! Who may call what. `matrix.rs` calls every route of the router as five kinds of caller
//! against one set of fixtures and compares each outcome with the table written out there;
//! `rejections.rs` checks that malformed API input is answered with the API's JSON error.
//!
//! Twilio's webhooks are neither public nor authenticated: they are *signed*. Their rows send
//! a [`Body::Twilio`] form signed with the world's SMS account (as Twilio signs), which every
//! caller gets through with whatever session or token they hold; the matrix then sends each
//! such call again unsigned and wrongly signed, and every caller must be refused (403).

mod matrix;
mod rejections;
mod spends;
mod viewers;

use crate::harness::{self, csrf_of, Backend, TestApp, WebSession};
use engine::{Actor, Role};
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashMap;

/// What a call came to, as far as access goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Let through: a 2xx, or a redirect anywhere but the sign-in page.
    Ok,
    /// Sign-in asked for: 401, or a redirect to `/login`.
    Login,
    /// 403: known, and not this caller's to do.
    Denied,
    /// 404: not there for this caller (another organization's, or not shared with them).
    Hidden,
    /// 400 naming an id of the body that is no such thing "of your organization": another
    /// organization's ids are answered as ids that do not exist.
    Unknown,
}

/// The callers of every row, in the order of the table's columns. The other organization's
/// user is its admin, so tenant isolation is tested against the strongest role.
pub const CALLERS: [&str; 5] = ["anonymous", "other-org admin", "viewer", "editor", "admin"];
const EDITOR: usize = 3;
const ADMIN: usize = 4;

/// A fixture a call uses up when it is let through, made again before the next call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spend {
    /// The caller's web session (signing out ends it).
    Session,
    /// `{failed_run}`: a retry queues it again.
    FailedRun,
    /// `{spare_workflow}`: deleted.
    SpareWorkflow,
    /// `{spare_connection}`: disconnected.
    SpareConnection,
    /// `{oauth_grant}`: a code Salesforce gives once.
    OAuthGrant,
    /// `{spare_token}`: one of the editor's API tokens, revoked.
    SpareToken,
    /// `{spare_user}`: a user of the editor's organization, deactivated.
    SpareUser,
    /// `{spare_survey}`: an open survey of the editor's, shared with the viewer; archived.
    SpareSurvey,
    /// `{archived_survey}`: an archived survey of the editor's, shared with the viewer;
    /// restored or purged.
    ArchivedSurvey,
    /// `{spare_response}`: a response to `{survey}`, deleted.
    SpareResponse,
    /// `{spare_contact}`: a contact on `{list}`, deleted.
    SpareContact,
    /// `{spare_list}`: a mailing list, deleted.
    SpareList,
    /// `{spare_invitation}`: an invitation to the organization, revoked.
    SpareInvitation,
    /// `{invitation_token}`: an invitation link's token, accepted.
    InvitationLink,
    /// `{spare_template}`: an email template no distribution uses, deleted.
    SpareTemplate,
    /// `{spare_distribution}`: a distribution of `{survey}` scheduled for 2099, deleted.
    SpareDistribution,
    /// `{spare_rule}`: a contact frequency rule of the organization, deleted.
    SpareRule,
    /// `{discover_job}`: a run of it was started (a second waits for the first), so another job.
    DiscoverRun,
    /// `{discover_run}`: a run of `{cancel_job}`, cancelled.
    CancelledRun,
}

/// A request body; its text may hold `{fixture}` placeholders.
#[derive(Debug, Clone, Copy)]
pub enum Body {
    Empty,
    Json(&'static str),
    /// A content type and the text.
    Text(&'static str, &'static str),
    /// A form; the caller's CSRF token is added as `csrf`.
    Form(&'static [(&'static str, &'static str)]),
    /// A multipart upload: the file's content and other fields; `csrf` is added.
    Upload(&'static str, &'static [(&'static str, &'static str)]),
    /// A Twilio webhook's form, signed (`X-Twilio-Signature`) as [`World::twilio_signing`]
    /// says: with the world's SMS account's auth token over the URL and the fields, by default.
    Twilio(&'static [(&'static str, &'static str)]),
}

/// How a [`Body::Twilio`] call is signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TwilioSigning {
    /// As Twilio signs, with the account's auth token.
    Good,
    /// No `X-Twilio-Signature` at all.
    Missing,
    /// Signed with another token.
    Wrong,
}

/// The auth token of the world's SMS account (a gateway that is never called).
const TWILIO_TOKEN: &str = "access-matrix-auth-token";

/// What a row sends: the concrete path (placeholders filled from the fixtures) and body.
#[derive(Debug, Clone, Copy)]
pub struct Call {
    pub path: &'static str,
    pub body: Body,
    pub spends: Option<Spend>,
}

pub fn at(path: &'static str) -> Call {
    Call {
        path,
        body: Body::Empty,
        spends: None,
    }
}

impl Call {
    pub fn json(self, text: &'static str) -> Self {
        Self {
            body: Body::Json(text),
            ..self
        }
    }
    pub fn text(self, content_type: &'static str, text: &'static str) -> Self {
        Self {
            body: Body::Text(content_type, text),
            ..self
        }
    }
    pub fn form(self, fields: &'static [(&'static str, &'static str)]) -> Self {
        Self {
            body: Body::Form(fields),
            ..self
        }
    }
    pub fn twilio(self, fields: &'static [(&'static str, &'static str)]) -> Self {
        Self {
            body: Body::Twilio(fields),
            ..self
        }
    }
    pub fn upload(
        self,
        file: &'static str,
        fields: &'static [(&'static str, &'static str)],
    ) -> Self {
        Self {
            body: Body::Upload(file, fields),
            ..self
        }
    }
    pub fn spends(self, spend: Spend) -> Self {
        Self {
            spends: Some(spend),
            ..self
        }
    }
}

/// One route + method of the router, the call that exercises it and the outcome expected for
/// each caller of [`CALLERS`].
pub struct Row {
    pub method: Method,
    pub route: &'static str,
    pub call: Call,
    pub expect: [Outcome; 5],
}

/// Someone calling: an API token and a web session, both sent on every call (each route
/// reads the one it uses).
struct Caller {
    token: Option<String>,
    email: Option<String>,
    session: Option<WebSession>,
}

/// An answer, as much of it as the matrix looks at.
pub struct Answer {
    pub status: u16,
    pub location: Option<String>,
    /// The answer clears the session cookie: signing out, whose answer is also a redirect to
    /// the sign-in page.
    pub ends_session: bool,
    pub body: String,
}

impl Answer {
    /// The outcome class, or None for an answer that is none of them (a 400, a 409, a 500):
    /// a call that should be let through must get through with valid input.
    pub fn outcome(&self) -> Option<Outcome> {
        let to_login = !self.ends_session
            && self
                .location
                .as_deref()
                .is_some_and(|l| l == "/login" || l.starts_with("/login?"));
        match self.status {
            401 => Some(Outcome::Login),
            300..=399 if to_login => Some(Outcome::Login),
            200..=399 => Some(Outcome::Ok),
            // A refused CSRF token would hide what the role check says: every caller sends
            // their own valid one, so this must not happen.
            403 if self.body.contains("did not come from Sonde") => None,
            403 => Some(Outcome::Denied),
            404 => Some(Outcome::Hidden),
            400 if self.body.contains("of your organization") => Some(Outcome::Unknown),
            _ => None,
        }
    }
}

/// The fixtures every row is called against: an organization with a viewer (a collaborator
/// on the survey), an editor (who owns the survey, the linked org and the workflows) and an
/// admin; another organization with its admin; a survey with responses, a contact on a list,
/// a Salesforce connection to a local org, a workflow writing to it and its runs.
pub struct World {
    pub app: TestApp,
    sf: sfsim::RunningOrg,
    editor: Actor,
    /// The organization's admin, who makes the invitations the rows use up.
    admin: Actor,
    callers: Vec<Caller>,
    values: HashMap<&'static str, String>,
    counter: std::cell::Cell<u64>,
    http: reqwest::Client,
    /// How the next [`Body::Twilio`] calls are signed.
    pub twilio_signing: TwilioSigning,
}

/// An email template as the API takes it.
const TEMPLATE_JSON: &str = r#"{"channel": "email", "name": "Matrix template", "subject": "Hi ${m://FirstName}",
    "body": "<p>${l://SurveyLink}</p>"}"#;

/// A distribution of `{survey}` to `{list}` that waits for 2099: it stays editable.
const SCHEDULED_DISTRIBUTION: &str =
    r#"{"mailingListId": "{list}", "templateId": "{template}", "sendAt": "2099-01-01T09:00:00Z"}"#;

/// An Outbound Message of the linked org with one Case notification (a new id each call).
pub const OUTBOUND_MESSAGE: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<soapenv:Envelope xmlns:soapenv="http://schemas.xmlsoap.org/soap/envelope/" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
 <soapenv:Body><notifications xmlns="http://soap.sforce.com/2005/09/outbound">
  <OrganizationId>{sf_org_id}</OrganizationId><ActionId>04k000000000001AAA</ActionId>
  <SessionId xsi:nil="true"/>
  <EnterpriseUrl>https://example.my.salesforce.com/services/Soap/c/61.0</EnterpriseUrl>
  <PartnerUrl>https://example.my.salesforce.com/services/Soap/u/61.0</PartnerUrl>
  <Notification><Id>04l-matrix-{n}</Id>
   <sObject xsi:type="sf:Case" xmlns:sf="urn:sobject.enterprise.soap.sforce.com"><sf:Id>500000000000001AAA</sf:Id></sObject>
  </Notification>
 </notifications></soapenv:Body></soapenv:Envelope>"#;

/// A Salesforce id of the right shape that names no record: runs that update it fail.
const MISSING_CASE: &str = "500000000000000AAA";

impl World {
    pub async fn build(backend: Backend) -> Self {
        let sf = harness::start_sfsim().await;
        let app = TestApp::spawn(backend).await;
        harness::use_sfsim(&app, &sf);
        let sms = engine::sms::SmsSettings::parse(
            Some("http://127.0.0.1:9"),
            Some("AC0123456789abcdef0123456789abcdef"),
            Some(TWILIO_TOKEN),
            Some("+15005550006"),
            None,
        )
        .unwrap();
        app.sonde
            .set_sms(Some(engine::sms::SmsGateway::new(sms).unwrap()));
        let (editor, editor_token) = app.org_user(Role::Editor).await;
        let (viewer, viewer_token) = app.user_in(&editor.org_id, Role::Viewer).await;
        let (admin, admin_token) = app.user_in(&editor.org_id, Role::Admin).await;
        let (other, other_token) = app.org_user(Role::Admin).await;
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let mut callers = vec![Caller {
            token: None,
            email: None,
            session: None,
        }];
        for (actor, token) in [
            (&other, other_token),
            (&viewer, viewer_token),
            (&editor, editor_token.clone()),
            (&admin, admin_token),
        ] {
            callers.push(Caller {
                session: Some(app.sign_in(&actor.email).await),
                email: Some(actor.email.clone()),
                token: Some(token),
            });
        }
        let mut w = Self {
            app,
            sf,
            editor,
            admin,
            callers,
            values: HashMap::new(),
            counter: Default::default(),
            http,
            twilio_signing: TwilioSigning::Good,
        };
        let def = survey::sample::sample_definition();
        let answers = serde_json::to_string(&sonde::bench::complete_answers(&def)).unwrap();
        let qsf = std::fs::read_to_string(
            harness::qsf_dir().join("ctesta01__QualtricsTools__Sample_Survey.qsf"),
        )
        .unwrap();
        let case = harness::sfsim_admin(&w.sf)
            .create("Case", &json!({"Subject": "Access matrix"}))
            .await
            .unwrap();
        for (k, v) in [
            ("survey_definition", serde_json::to_string(&def).unwrap()),
            ("answers", answers),
            ("qsf", qsf),
            ("case_id", case),
            ("viewer_email", viewer.email.clone()),
            ("editor_email", w.editor.email.clone()),
            ("password", harness::PASSWORD.to_string()),
            ("login_url", w.sf.login_url().to_string()),
            ("survey", w.app.sample_survey(&editor_token).await),
        ] {
            w.values.insert(k, v);
        }
        w.editor_call(
            Method::POST,
            "/api/v1/surveys/{survey}/collaborators",
            r#"{"email": "{viewer_email}"}"#,
            204,
        )
        .await;
        let list = w
            .editor_call(
                Method::POST,
                "/api/v1/mailing-lists",
                r#"{"name": "Customers"}"#,
                201,
            )
            .await;
        w.values.insert("list", list["id"].as_str().unwrap().into());
        let contact = w
            .editor_call(
                Method::POST,
                "/api/v1/contacts?listId={list}",
                r#"{"email": "ada@example.com", "firstName": "Ada"}"#,
                201,
            )
            .await;
        let contact = contact["id"].as_str().unwrap().to_string();
        let opt_out = w
            .app
            .sonde
            .opt_out_link(&w.editor.org_id, &contact)
            .unwrap();
        w.values
            .insert("optout_token", opt_out.rsplit('/').next().unwrap().into());
        w.values.insert("contact", contact);
        let connection = harness::link_sfsim(&w.app, &editor_token, &w.sf).await;
        w.values.insert("connection", connection);
        w.values.insert(
            "workflow_json",
            w.fill(
                r#"{"name": "Close the respondent's Case", "event": "response_created",
                    "tasks": [{"type": "salesforce", "connectionId": "{connection}", "object": "Case",
                               "operation": "update", "recordId": "${e://Field/CaseId}",
                               "fields": {"Status": {"value": "Closed"}}}]}"#,
            ),
        );
        w.values.insert(
            "dir_workflow_json",
            w.fill(
                r#"{"name": "Respondents join the list", "event": "response_updated",
                    "tasks": [{"type": "directory", "action": "add_to_list", "listId": "{list}",
                               "fields": {"email": {"piped": "${m://Email}"}}}]}"#,
            ),
        );
        for (name, body) in [
            ("workflow", "{workflow_json}"),
            ("dir_workflow", "{dir_workflow_json}"),
        ] {
            let v = w
                .editor_call(
                    Method::POST,
                    "/api/v1/surveys/{survey}/workflows",
                    body,
                    201,
                )
                .await;
            w.values.insert(name, v["id"].as_str().unwrap().into());
        }
        // A workflow fired by the org's Outbound Messages, and one such message.
        let m = w
            .editor_call(
                Method::POST,
                "/api/v1/surveys/{survey}/workflows",
                r#"{"name": "Case closed in Salesforce", "event": "salesforce_message",
                    "connectionId": "{connection}", "object": "Case"}"#,
                201,
            )
            .await;
        w.values
            .insert("message_workflow", m["id"].as_str().unwrap().into());
        let endpoint = m["endpointUrl"].as_str().unwrap();
        w.values
            .insert("sf_endpoint", endpoint.rsplit('/').next().unwrap().into());
        w.values.insert("sf_org_id", w.sf.org_id());
        // The org's connected app and admin, for a job's own account.
        w.values
            .insert("sf_client_id", w.sf.client_id().to_string());
        w.values
            .insert("sf_client_secret", w.sf.client_secret().to_string());
        w.values.insert("sf_username", w.sf.username());
        w.values.insert("sf_password", w.sf.password().to_string());
        w.values
            .insert("sf_login_url", w.sf.login_url().to_string());
        // The Canvas panel: a request Salesforce signed for the editor on the Case, and the pass
        // its page carries to open a response about that Case.
        let context = json!({
            "algorithm": "HMACSHA256",
            "client": {"instanceUrl": w.sf.instance_url(), "oauthToken": "00D!matrix"},
            "context": {
                "user": {"email": w.editor.email},
                "organization": {"organizationId": w.sf.org_id()},
                "environment": {"record": {"attributes": {"type": "Case"}, "Id": w.values["case_id"]}}
            }
        });
        let signed = salesforce::canvas::sign_request(
            &context.to_string(),
            &salesforce::Secret::new(w.sf.client_secret()),
        );
        w.values.insert("panel_request", signed);
        let data = survey::ResponseData {
            embedded_data: [("sfCaseId".to_string(), w.values["case_id"].clone())].into(),
            ..Default::default()
        };
        let panel_response = harness::insert_response(
            &w.app,
            &w.editor.org_id,
            &w.values["survey"],
            store::responses::ResponseStatus::Complete,
            store::now_ms(),
            &data,
        )
        .await;
        w.values.insert("panel_response", panel_response);
        let pass = engine::panel::PanelPass {
            user_id: w.editor.user_id.clone(),
            org_id: w.editor.org_id.clone(),
            record_id: engine::panel::record_key(&w.values["case_id"]).map(str::to_string),
            frame_ancestors: vec![w.sf.instance_url().to_string()],
            // The matrix runs longer than a pass lives.
            expires_at: store::now_ms() + 24 * 3_600_000,
            ..Default::default()
        };
        let pass = w.app.sonde.sign_panel_pass(&pass).await.unwrap();
        w.values.insert("panel_pass", pass);
        // An inbound project, two jobs on it, and a run of the second to cancel.
        let p = w
            .editor_call(
                Method::POST,
                "/api/v1/discover/projects",
                r#"{"name": "Case feedback"}"#,
                201,
            )
            .await;
        w.values
            .insert("discover_project", p["id"].as_str().unwrap().into());
        w.values.insert(
            "discover_job_json",
            w.fill(
                r#"{"name": "Case descriptions {n}", "projectId": "{discover_project}",
                    "connectionId": "{connection}", "dataType": "feedback",
                    "soql": "SELECT Id, Description, CreatedDate FROM Case"}"#,
            ),
        );
        for name in ["discover_job", "cancel_job"] {
            let j = w
                .editor_call(
                    Method::POST,
                    "/api/v1/discover/jobs",
                    "{discover_job_json}",
                    201,
                )
                .await;
            w.values.insert(name, j["id"].as_str().unwrap().into());
        }
        // The first job's documents, so one can be read by its natural id.
        w.app
            .sonde
            .start_discover_run(&w.editor, &w.values["discover_job"])
            .await
            .unwrap();
        w.app.sonde.drain_discover_runs().await.unwrap();
        let documents = w
            .app
            .sonde
            .discover_document_page(
                &w.editor,
                &w.values["discover_project"],
                &Default::default(),
                0,
                1,
            )
            .await
            .unwrap();
        w.values.insert(
            "discover_document",
            documents.documents[0].natural_id.clone(),
        );
        w.renew(Spend::CancelledRun, EDITOR).await;
        w.values.insert("template_json", TEMPLATE_JSON.into());
        let t = w
            .editor_call(Method::POST, "/api/v1/templates", "{template_json}", 201)
            .await;
        w.values
            .insert("template", t["id"].as_str().unwrap().into());
        let d = w
            .editor_call(
                Method::POST,
                "/api/v1/surveys/{survey}/distributions",
                SCHEDULED_DISTRIBUTION,
                201,
            )
            .await;
        w.values
            .insert("distribution", d["id"].as_str().unwrap().into());
        // A test send, left queued (the fixture sends no mail): its outcome is read.
        let t = w
            .editor_call(
                Method::POST,
                "/api/v1/distributions/test",
                r#"{"templateId": "{template}", "surveyId": "{survey}", "contactId": "{contact}", "to": "me@example.com"}"#,
                202,
            )
            .await;
        w.values
            .insert("test_send", t["jobId"].as_str().unwrap().into());
        // A recorded response whose run closed the Case, and one whose run failed.
        let r = w
            .editor_call(
                Method::POST,
                "/api/v1/surveys/{survey}/responses",
                r#"{"answers": {answers}, "embeddedData": {"CaseId": "{case_id}"}, "finished": true}"#,
                201,
            )
            .await;
        w.values
            .insert("response", r["responseId"].as_str().unwrap().into());
        let report = w.app.sonde.drain_workflows().await.unwrap();
        assert_eq!(
            report.succeeded, 1,
            "the fixture's run closes the Case: {report:?}"
        );
        // A response being answered: its first page submitted, with a required answer left out.
        let view = w
            .app
            .sonde
            .open_survey(&w.values["survey"], &Default::default(), None)
            .await
            .unwrap();
        let engine::responses::PageView::Page(first) = view else {
            panic!("the survey opens on a page")
        };
        let submission = engine::responses::Submission {
            page: first.number,
            ..Default::default()
        };
        let view = w
            .app
            .sonde
            .submit_page(&w.values["survey"], &first.form, &submission)
            .await
            .unwrap();
        let engine::responses::PageView::Page(refused) = view else {
            panic!("the first page comes back asking for its answers")
        };
        let response_id = refused.form.response_id().expect("stored").to_string();
        w.values.insert("in_progress", response_id);
        for spend in [
            Spend::FailedRun,
            Spend::SpareWorkflow,
            Spend::SpareConnection,
            Spend::OAuthGrant,
            Spend::SpareToken,
            Spend::SpareUser,
            Spend::SpareSurvey,
            Spend::ArchivedSurvey,
            Spend::SpareResponse,
            Spend::SpareContact,
            Spend::SpareList,
            Spend::SpareInvitation,
            Spend::InvitationLink,
            Spend::SpareTemplate,
            Spend::SpareDistribution,
            Spend::SpareRule,
        ] {
            w.renew(spend, EDITOR).await;
        }
        w
    }

    /// `text` with every `{name}` replaced by the fixture of that name (`{n}`: a number new
    /// on each use). Values are not scanned again, so a survey file's braces stay as they are.
    fn fill(&self, text: &str) -> String {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(open) = rest.find('{') {
            out.push_str(&rest[..open]);
            let after = &rest[open + 1..];
            let name_len = after
                .find(|c: char| !(c.is_ascii_lowercase() || c == '_'))
                .unwrap_or(after.len());
            if name_len > 0 && after[name_len..].starts_with('}') {
                let name = &after[..name_len];
                if name == "n" {
                    self.counter.set(self.counter.get() + 1);
                    out.push_str(&self.counter.get().to_string());
                } else {
                    let value = self
                        .values
                        .get(name)
                        .unwrap_or_else(|| panic!("no fixture named {{{name}}} (in {text})"));
                    out.push_str(value);
                }
                rest = &after[name_len + 1..];
            } else {
                out.push('{');
                rest = after;
            }
        }
        out.push_str(rest);
        out
    }

    /// Calls the API as the editor while building fixtures, expecting `status`.
    async fn editor_call(&mut self, method: Method, path: &str, body: &str, status: u16) -> Value {
        let url = self.app.url(&self.fill(path));
        let body = self.fill(body);
        let r = self
            .http
            .request(method, url)
            .bearer_auth(self.callers[EDITOR].token.as_deref().unwrap())
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        let got = r.status().as_u16();
        let text = r.text().await.unwrap();
        assert_eq!(got, status, "{path}: {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// `GET {path}` of a form posted before signing in (signing in, accepting an invitation),
    /// with `cookies`: the CSRF cookie named `cookie` it sets and the form's token.
    async fn pre_session_form(
        &self,
        path: &str,
        cookie: &str,
        cookies: &[String],
    ) -> (String, String) {
        let mut req = self.http.get(self.app.url(path));
        if !cookies.is_empty() {
            req = req.header("cookie", cookies.join("; "));
        }
        let r = req.send().await.unwrap();
        let set = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|v| v.starts_with(cookie))
            .and_then(|v| v.split(';').next())
            .unwrap_or_else(|| panic!("{path} sets its CSRF cookie {cookie}"))
            .to_string();
        (set, csrf_of(&r.text().await.unwrap()))
    }

    /// Sends a row's call as caller `who`; renews what it spent if it was let through.
    pub async fn call(&mut self, who: usize, method: &Method, call: &Call) -> Answer {
        let url = self.app.url(&self.fill(call.path));
        let caller = &self.callers[who];
        let mut cookies: Vec<String> = caller
            .session
            .iter()
            .map(|s| format!("sonde_session={}", s.cookie))
            .collect();
        let mut csrf = caller
            .session
            .as_ref()
            .map(|s| s.csrf.clone())
            .unwrap_or_default();
        // Forms posted before signing in carry a token of their own, matched by a cookie
        // their page sets.
        let pre_session = if call.path == "/login" {
            Some(web::sign_in::LOGIN_CSRF_COOKIE)
        } else if call.path.starts_with("/invitations/") {
            Some(web::invitation::INVITATION_CSRF_COOKIE)
        } else {
            None
        };
        if let (Some(name), &Method::POST) = (pre_session, method) {
            let path = self.fill(call.path);
            let (cookie, token) = self.pre_session_form(&path, name, &cookies).await;
            cookies.push(cookie);
            csrf = token;
        }
        let caller = &self.callers[who];
        let mut req = self.http.request(method.clone(), url);
        if let Some(token) = &caller.token {
            req = req.bearer_auth(token);
        }
        if !cookies.is_empty() {
            req = req.header("cookie", cookies.join("; "));
        }
        req = match call.body {
            Body::Empty => req,
            Body::Json(text) => req
                .header("content-type", "application/json")
                .body(self.fill(text)),
            Body::Text(content_type, text) => req
                .header("content-type", content_type)
                .body(self.fill(text)),
            Body::Form(fields) => {
                let mut pairs: Vec<(String, String)> = fields
                    .iter()
                    .map(|(k, v)| (k.to_string(), self.fill(v)))
                    .collect();
                pairs.push(("csrf".into(), csrf));
                req.form(&pairs)
            }
            Body::Upload(file, fields) => {
                let mut form = reqwest::multipart::Form::new().text("csrf", csrf);
                for (k, v) in fields {
                    form = form.text(*k, self.fill(v));
                }
                let part = reqwest::multipart::Part::bytes(self.fill(file).into_bytes())
                    .file_name("upload");
                req.multipart(form.part("file", part))
            }
            Body::Twilio(fields) => {
                let pairs: Vec<(String, String)> = fields
                    .iter()
                    .map(|(k, v)| (k.to_string(), self.fill(v)))
                    .collect();
                let url = self.app.url(&self.fill(call.path));
                let token = match self.twilio_signing {
                    TwilioSigning::Good => Some(TWILIO_TOKEN),
                    TwilioSigning::Wrong => Some("not the account's auth token"),
                    TwilioSigning::Missing => None,
                };
                if let Some(token) = token {
                    let signature = twilio_wire::signature(token, &url, &pairs);
                    req = req.header(twilio_wire::SIGNATURE_HEADER, signature);
                }
                req.form(&pairs)
            }
        };
        let r = req.send().await.unwrap();
        let answer = Answer {
            status: r.status().as_u16(),
            location: r
                .headers()
                .get("location")
                .and_then(|v| v.to_str().ok())
                .map(str::to_string),
            ends_session: r
                .headers()
                .get_all("set-cookie")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .any(|v| v.starts_with("sonde_session=;")),
            body: r.text().await.unwrap_or_default(),
        };
        if let (Some(spend), Some(Outcome::Ok)) = (call.spends, answer.outcome()) {
            self.renew(spend, who).await;
        }
        answer
    }

    pub async fn shutdown(self) {
        self.sf.shutdown().await;
    }
}
