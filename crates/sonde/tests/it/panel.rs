//! The Sonde panel inside Salesforce: Canvas signed requests from a linked org list a record's
//! responses (through their sfContactId/sfAccountId… embedded data), framed by that org only;
//! anything not signed for Sonde, or from an org or person Sonde does not know, is refused.

use crate::harness::{backends, insert_response, linked_org, TestApp};
use engine::panel::PanelPass;
use engine::{Actor, Role};
use store::responses::ResponseStatus;

const CONTACT: &str = "0035g00000PaNeLAAA";
const OTHER_CONTACT: &str = "0035g00000OtHeRAAA";
const ACCOUNT: &str = "0015g00000AcMeAAAA";
const OTHER_ACCOUNT: &str = "0015g00000ZzZzZAAA";
/// 2026-01-01T00:00:00Z
const T0: i64 = 1_767_225_600_000;

/// Salesforce's CanvasRequest for `email` on a record, as it arrives from `instance_url`.
pub(crate) fn canvas_context(
    org_id: &str,
    instance_url: &str,
    email: &str,
    object: &str,
    id: &str,
) -> String {
    serde_json::json!({
        "algorithm": "HMACSHA256",
        "userId": "005000000000001AAA",
        "client": {"instanceId": "06P000000000001", "instanceUrl": instance_url,
                   "oauthToken": "00D!panel-session", "targetOrigin": instance_url},
        "context": {
            "user": {"userId": "005000000000001AAA", "userName": email, "email": email, "fullName": "Ada L"},
            "organization": {"organizationId": org_id, "name": "Acme"},
            "environment": {"displayLocation": "Lightning", "parameters": {},
                            "record": {"attributes": {"type": object}, "Id": id}}
        }
    })
    .to_string()
}

/// An organization with a linked local org, its admin and a survey named `survey_name`.
pub(crate) struct Linked {
    pub(crate) app: TestApp,
    pub(crate) sf: sfsim::RunningOrg,
    pub(crate) admin: Actor,
    pub(crate) token: String,
    pub(crate) survey: String,
}

pub(crate) async fn linked(app: TestApp, survey_name: &str) -> Linked {
    let (admin, token) = app.org_user(Role::Admin).await;
    let (sf, _) = linked_org(&app, &token).await;
    let survey = named_survey(&app, &token, survey_name).await;
    Linked {
        app,
        sf,
        admin,
        token,
        survey,
    }
}

async fn named_survey(app: &TestApp, token: &str, name: &str) -> String {
    let mut def = survey::sample::sample_definition();
    def.name = name.into();
    app.create_survey(token, &def).await
}

/// A response to `survey` whose embedded data holds `fields`, started at `started_at`.
async fn response_about(
    app: &TestApp,
    org_id: &str,
    survey: &str,
    started_at: i64,
    fields: &[(&str, &str)],
) -> String {
    let data = survey::ResponseData {
        embedded_data: fields
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
        ..Default::default()
    };
    insert_response(
        app,
        org_id,
        survey,
        ResponseStatus::Complete,
        started_at,
        &data,
    )
    .await
}

impl Linked {
    pub(crate) fn signed(&self, email: &str, object: &str, id: &str) -> String {
        let ctx = canvas_context(&self.sf.org_id(), self.sf.instance_url(), email, object, id);
        salesforce::canvas::sign_request(&ctx, &salesforce::Secret::new(self.sf.client_secret()))
    }

    pub(crate) async fn open(&self, signed_request: &str) -> reqwest::Response {
        self.app
            .client
            .post(self.app.url("/panel"))
            .form(&[("signed_request", signed_request)])
            .send()
            .await
            .unwrap()
    }

    /// The sfsim org's own origin: what may frame its panels.
    pub(crate) fn origin(&self) -> String {
        let u = url::Url::parse(self.sf.instance_url()).unwrap();
        u.origin().ascii_serialization()
    }
}

pub(crate) fn csp(r: &reqwest::Response) -> String {
    r.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .to_string()
}

/// The `Open` link of `response` on a panel page.
fn open_link(page: &str, response: &str) -> String {
    let start = page
        .find(&format!("/panel/responses/{response}?t="))
        .unwrap_or_else(|| panic!("a link to {response} in {page}"));
    let end = start + page[start..].find('"').unwrap();
    page[start..end].replace("&amp;", "&")
}

#[tokio::test]
async fn a_contacts_panel_lists_its_responses_newest_first_framed_by_its_org_only() {
    for backend in backends() {
        let l = linked(TestApp::spawn(backend).await, "Kettle feedback").await;
        let org = &l.admin.org_id;
        let older = response_about(&l.app, org, &l.survey, T0, &[("sfContactId", CONTACT)]).await;
        // The 15-character form of the same id names the same Contact.
        let newer = response_about(
            &l.app,
            org,
            &l.survey,
            T0 + 60_000,
            &[("sfContactId", &CONTACT[..15])],
        )
        .await;
        let elses = response_about(
            &l.app,
            org,
            &l.survey,
            T0,
            &[("sfContactId", OTHER_CONTACT)],
        )
        .await;
        // The id in a field that ties no record (a note) does not make it the Contact's.
        let noted = response_about(&l.app, org, &l.survey, T0, &[("Note", CONTACT)]).await;

        let r = l.open(&l.signed(&l.admin.email, "Contact", CONTACT)).await;
        assert_eq!(r.status(), 200);
        let policy = csp(&r);
        assert!(
            policy.ends_with(&format!("frame-ancestors {}", l.origin())),
            "{policy}"
        );
        assert!(!policy.contains('*'), "{policy}");
        assert!(r.headers().get("x-frame-options").is_none());
        assert!(
            r.headers().get("set-cookie").is_none(),
            "no cookie in a frame"
        );
        let page = r.text().await.unwrap();
        assert!(page.contains("Kettle feedback"), "{page}");
        let (at_newer, at_older) = (page.find(&newer).unwrap(), page.find(&older).unwrap());
        assert!(at_newer < at_older, "newest first: {page}");
        assert!(!page.contains(&elses) && !page.contains(&noted), "{page}");

        // The page's link opens the response inside the panel, framed the same way.
        let link = open_link(&page, &newer);
        let r = l.app.client.get(l.app.url(&link)).send().await.unwrap();
        assert_eq!(r.status(), 200);
        assert!(csp(&r).ends_with(&format!("frame-ancestors {}", l.origin())));
        let shown = r.text().await.unwrap();
        assert!(
            shown.contains(&newer) && shown.contains(&CONTACT[..15]),
            "{shown}"
        );

        // The same pass does not open a response about another record.
        let token = link.split("?t=").nth(1).unwrap();
        let r = l
            .app
            .client
            .get(l.app.url(&format!("/panel/responses/{elses}?t={token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        assert!(!r.text().await.unwrap().contains(OTHER_CONTACT));

        // Every other page still refuses to be framed.
        let r = l.app.client.get(l.app.url("/login")).send().await.unwrap();
        assert!(csp(&r).ends_with("frame-ancestors 'none'"), "{}", csp(&r));
        assert_eq!(r.headers()["x-frame-options"], "DENY");
        let r = l.app.get(&l.token, "/surveys").send().await.unwrap();
        assert!(csp(&r).ends_with("frame-ancestors 'none'"));
    }
}

#[tokio::test]
async fn a_forged_or_expired_pass_asks_to_reload_the_panel() {
    for backend in backends() {
        let l = linked(TestApp::spawn(backend).await, "Kettle feedback").await;
        let org = &l.admin.org_id;
        let id = response_about(&l.app, org, &l.survey, T0, &[("sfContactId", CONTACT)]).await;
        let page = l
            .open(&l.signed(&l.admin.email, "Contact", CONTACT))
            .await
            .text()
            .await
            .unwrap();
        let link = open_link(&page, &id);
        let (path, token) = link.split_once("?t=").unwrap();
        let (body, tag) = token.split_once('.').unwrap();
        let flipped = if tag.starts_with('A') { "B" } else { "A" };
        let forged_tag = format!("{path}?t={body}.{flipped}{}", &tag[1..]);
        // A pass naming another user, with the tag of the real one.
        let mut pass: serde_json::Value = serde_json::from_slice(
            &base64::Engine::decode(&base64::engine::general_purpose::URL_SAFE_NO_PAD, body)
                .unwrap(),
        )
        .unwrap();
        pass["user_id"] = "U_someone_else".into();
        let edited = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            serde_json::to_vec(&pass).unwrap(),
        );
        let forged_body = format!("{path}?t={edited}.{tag}");
        let expired = l
            .app
            .sonde
            .sign_panel_pass(&PanelPass {
                user_id: l.admin.user_id.clone(),
                org_id: l.admin.org_id.clone(),
                record_id: Some(CONTACT[..15].into()),
                frame_ancestors: vec![l.origin()],
                expires_at: store::now_ms() - 1,
                ..Default::default()
            })
            .await
            .unwrap();
        let expired = format!("{path}?t={expired}");
        let fresh = l
            .app
            .sonde
            .sign_panel_pass(&PanelPass {
                user_id: l.admin.user_id.clone(),
                org_id: l.admin.org_id.clone(),
                record_id: Some(CONTACT[..15].into()),
                frame_ancestors: vec![l.origin()],
                expires_at: store::now_ms() + 60_000,
                ..Default::default()
            })
            .await
            .unwrap();
        let r = l
            .app
            .client
            .get(l.app.url(&format!("{path}?t={fresh}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200, "a pass this instance signed opens");
        for (what, link) in [
            ("forged tag", forged_tag),
            ("edited pass", forged_body),
            ("expired", expired),
            ("no pass", path.to_string()),
        ] {
            let r = l.app.client.get(l.app.url(&link)).send().await.unwrap();
            assert_eq!(r.status(), 403, "{what}");
            if what == "expired" {
                // This instance signed it: its org frames the page that asks Salesforce to
                // sign the panel again (the page script, through data-panel-refresh).
                assert!(
                    csp(&r).ends_with(&format!("frame-ancestors {}", l.origin())),
                    "{what}"
                );
                let text = r.text().await.unwrap();
                assert!(text.contains("data-panel-refresh"), "{text}");
                assert!(text.contains("reload the page in Salesforce"), "{text}");
                continue;
            } else {
                assert!(csp(&r).ends_with("frame-ancestors 'none'"), "{what}");
            }
            let text = r.text().await.unwrap();
            assert!(
                text.contains("reload the page in Salesforce"),
                "{what}: {text}"
            );
            assert!(
                !text.contains("Kettle feedback") && !text.contains(CONTACT),
                "{what}: {text}"
            );
        }
    }
}

#[tokio::test]
async fn an_accounts_panel_lists_the_responses_of_its_contacts() {
    for backend in backends() {
        let l = linked(TestApp::spawn(backend).await, "Onboarding").await;
        let org = &l.admin.org_id;
        let ours = response_about(
            &l.app,
            org,
            &l.survey,
            T0,
            &[("sfContactId", CONTACT), ("sfAccountId", ACCOUNT)],
        )
        .await;
        let theirs = response_about(
            &l.app,
            org,
            &l.survey,
            T0,
            &[
                ("sfContactId", OTHER_CONTACT),
                ("sfAccountId", OTHER_ACCOUNT),
            ],
        )
        .await;
        let r = l
            .open(&l.signed(&l.admin.email, "Account", &ACCOUNT[..15]))
            .await;
        assert_eq!(r.status(), 200);
        let page = r.text().await.unwrap();
        assert!(
            page.contains(&ours) && page.contains("Onboarding"),
            "{page}"
        );
        assert!(!page.contains(&theirs), "{page}");
    }
}

#[tokio::test]
async fn requests_not_signed_for_sonde_or_from_unknown_orgs_and_people_are_refused() {
    for backend in backends() {
        let l = linked(TestApp::spawn(backend).await, "Secret kettle survey").await;
        let org = &l.admin.org_id;
        let id = response_about(&l.app, org, &l.survey, T0, &[("sfContactId", CONTACT)]).await;
        let good = l.signed(&l.admin.email, "Contact", CONTACT);
        assert_eq!(l.open(&good).await.status(), 200, "the valid request opens");

        // One byte of the context changed: still Base64, no longer what Salesforce signed.
        let (sig, ctx) = good.split_once('.').unwrap();
        let mut bytes = ctx.as_bytes().to_vec();
        let at = bytes.len() / 2;
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let tampered = format!("{sig}.{}", String::from_utf8(bytes).unwrap());
        let ctx_json = canvas_context(
            &l.sf.org_id(),
            l.sf.instance_url(),
            &l.admin.email,
            "Contact",
            CONTACT,
        );
        let other_secret = salesforce::canvas::sign_request(
            &ctx_json,
            &salesforce::Secret::new("not-the-consumer-secret"),
        );
        let unlinked_org = salesforce::canvas::sign_request(
            &canvas_context(
                "00D5g00000NoLnkAAA",
                l.sf.instance_url(),
                &l.admin.email,
                "Contact",
                CONTACT,
            ),
            &salesforce::Secret::new(l.sf.client_secret()),
        );
        let stranger = l.signed("stranger@example.com", "Contact", CONTACT);
        for (what, signed, says, framed) in [
            (
                "tampered",
                tampered.as_str(),
                "not signed by Salesforce",
                false,
            ),
            (
                "other secret",
                other_secret.as_str(),
                "not signed by Salesforce",
                false,
            ),
            (
                "garbage",
                "not-a-signed-request",
                "not signed by Salesforce",
                false,
            ),
            (
                "unlinked org",
                unlinked_org.as_str(),
                "not linked to Sonde",
                true,
            ),
            (
                "unknown person",
                stranger.as_str(),
                "no Sonde account",
                true,
            ),
        ] {
            let r = l.open(signed).await;
            assert_eq!(r.status(), 403, "{what}");
            let policy = csp(&r);
            if framed {
                // Salesforce did sign it: the org may show why, in its own frame.
                assert!(
                    policy.ends_with(&format!("frame-ancestors {}", l.origin())),
                    "{what}: {policy}"
                );
            } else {
                assert!(
                    policy.ends_with("frame-ancestors 'none'"),
                    "{what}: {policy}"
                );
            }
            let text = r.text().await.unwrap();
            assert!(text.contains(says), "{what}: {text}");
            assert!(
                !text.contains(&id)
                    && !text.contains("Secret kettle survey")
                    && !text.contains(CONTACT),
                "{what}: {text}"
            );
        }
        let r = l
            .app
            .client
            .post(l.app.url("/panel"))
            .form(&[("something_else", "x")])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 403, "no signed request at all");
    }
}

#[tokio::test]
async fn another_organizations_responses_never_appear_and_viewers_see_what_is_shared_with_them() {
    for backend in backends() {
        let l = linked(TestApp::spawn(backend).await, "Ours").await;
        // Another Sonde organization linked to the same Salesforce org, with its own response
        // about the same Contact.
        let (other, other_token) = l.app.org_user(Role::Admin).await;
        crate::harness::link_sfsim(&l.app, &other_token, &l.sf).await;
        let their_survey = named_survey(&l.app, &other_token, "Theirs").await;
        let theirs = response_about(
            &l.app,
            &other.org_id,
            &their_survey,
            T0,
            &[("sfContactId", CONTACT)],
        )
        .await;
        let ours = response_about(
            &l.app,
            &l.admin.org_id,
            &l.survey,
            T0,
            &[("sfContactId", CONTACT)],
        )
        .await;

        let page = l
            .open(&l.signed(&l.admin.email, "Contact", CONTACT))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            page.contains(&ours) && !page.contains(&theirs) && !page.contains("Theirs"),
            "{page}"
        );
        let page = l
            .open(&l.signed(&other.email, "Contact", CONTACT))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains(&theirs) && !page.contains(&ours), "{page}");
        // The other organization's pass does not open our response either.
        let link = open_link(&page, &theirs);
        let token = link.split("?t=").nth(1).unwrap();
        let r = l
            .app
            .client
            .get(l.app.url(&format!("/panel/responses/{ours}?t={token}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);

        // A viewer reads the responses of surveys shared with them, and only those.
        let (viewer, _) = l.app.user_in(&l.admin.org_id, Role::Viewer).await;
        let page = l
            .open(&l.signed(&viewer.email, "Contact", CONTACT))
            .await
            .text()
            .await
            .unwrap();
        assert!(!page.contains(&ours), "not shared yet: {page}");
        let r = l
            .app
            .post(
                &l.token,
                &format!("/api/v1/surveys/{}/collaborators", l.survey),
            )
            .json(&serde_json::json!({"email": viewer.email}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.text().await.unwrap());
        let page = l
            .open(&l.signed(&viewer.email, "Contact", CONTACT))
            .await
            .text()
            .await
            .unwrap();
        assert!(page.contains(&ours), "shared: {page}");
    }
}
