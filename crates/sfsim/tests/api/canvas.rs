//! The Canvas app: record pages and list views that host it in an iframe with a signed
//! request checked here from Salesforce's documented recipe, whose session really works.

use crate::{demo, start, TestOrg};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use hmac::{Hmac, Mac};
use serde_json::{json, Value};
use sfsim::{Org, Seed};
use sha2::Sha256;

const PANEL: &str = "http://127.0.0.1:9/panel";

/// The value of the page's hidden `signed_request`.
fn signed_request_of(page: &str) -> String {
    let marker = "name=\"signed_request\" value=\"";
    let start = page
        .find(marker)
        .unwrap_or_else(|| panic!("no signed request in {page}"))
        + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

/// Salesforce's recipe: split on the first '.', HMAC-SHA256 the Base64 context with the
/// consumer secret, compare with the Base64 signature; then decode the context.
fn verify(signed: &str, secret: &str) -> Option<Value> {
    let (sig, ctx) = signed.split_once('.')?;
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(ctx.as_bytes());
    if STANDARD.encode(mac.finalize().into_bytes()) != sig {
        return None;
    }
    serde_json::from_slice(&STANDARD.decode(ctx).ok()?).ok()
}

async fn page(t: &TestOrg, path: &str) -> (u16, String) {
    let r = t.http.get(t.url(path)).send().await.unwrap();
    (r.status().as_u16(), r.text().await.unwrap())
}

async fn first_id(t: &TestOrg, soql: &str) -> String {
    let a = t.query(soql).await;
    a.json["records"][0]["Id"]
        .as_str()
        .unwrap_or_else(|| panic!("{soql}: {}", a.text))
        .to_string()
}

async fn with_canvas() -> TestOrg {
    let t = demo().await;
    let r = t
        .http
        .post(t.url("/_sim/canvas"))
        .json(&json!({"url": PANEL}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    t
}

#[tokio::test]
async fn a_contacts_record_page_posts_a_signed_request_with_a_working_session_into_the_frame() {
    let t = with_canvas().await;
    let got: Value = t
        .http
        .get(t.url("/_sim/canvas"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(got["url"], PANEL);
    let contact = first_id(
        &t,
        "SELECT Id FROM Contact WHERE AccountId != null ORDER BY Name LIMIT 1",
    )
    .await;
    let name = t.get(&format!("sobjects/Contact/{contact}")).await.json["Name"]
        .as_str()
        .unwrap()
        .to_string();
    // A 15-character id opens the same page.
    let (status, html) = page(&t, &format!("/lightning/r/Contact/{}/view", &contact[..15])).await;
    assert_eq!(status, 200, "{html}");
    assert!(html.contains("<iframe name=\"sonde-panel\""), "{html}");
    assert!(
        html.contains(&format!(
            "<form id=\"sonde-canvas\" method=\"post\" action=\"{PANEL}\" target=\"sonde-panel\""
        )),
        "{html}"
    );
    assert!(html.contains("form.submit()"), "submitted on load");
    assert!(
        html.contains(&name) && html.contains("Email Opt Out"),
        "{html}"
    );

    let signed = signed_request_of(&html);
    assert!(
        verify(&signed, "another-secret").is_none(),
        "another secret does not verify"
    );
    let ctx = verify(&signed, t.org.client_secret()).expect("signed with the consumer secret");
    assert_eq!(ctx["algorithm"], "HMACSHA256");
    let env = &ctx["context"]["environment"];
    assert_eq!(env["record"]["Id"], contact.as_str());
    assert_eq!(env["record"]["attributes"]["type"], "Contact");
    assert_eq!(env["record"]["Name"], name.as_str());
    assert_eq!(env["parameters"]["recordId"], contact.as_str());
    assert_eq!(env["displayLocation"], "Aura");
    assert!(env["locationUrl"]
        .as_str()
        .unwrap()
        .ends_with(&format!("/lightning/r/Contact/{contact}/view")));
    assert_eq!(
        ctx["context"]["organization"]["organizationId"],
        t.org.org_id()
    );
    assert_eq!(ctx["client"]["instanceUrl"], t.org.instance_url());
    assert_eq!(ctx["context"]["user"]["userName"], t.org.username());
    assert_eq!(ctx["userId"], ctx["context"]["user"]["userId"]);

    // The session is the org's own: the app can read the record with it.
    let token = ctx["client"]["oauthToken"].as_str().unwrap();
    assert_ne!(token, t.org.access_token());
    let a = t
        .call_as(
            token,
            reqwest::Method::GET,
            &format!("sobjects/Contact/{contact}"),
            None,
        )
        .await;
    assert_eq!(a.status, 200, "{}", a.text);

    // The refresh endpoint signs the same context again, with a new session.
    let fresh: Value = t
        .http
        .get(t.url(&format!(
            "/_sim/canvas/signed-request?object=Contact&id={contact}"
        )))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let again = verify(
        fresh["signedRequest"].as_str().unwrap(),
        t.org.client_secret(),
    )
    .unwrap();
    assert_eq!(
        again["context"]["environment"]["record"]["Id"],
        contact.as_str()
    );
    assert_ne!(again["client"]["oauthToken"], ctx["client"]["oauthToken"]);
    assert!(html.contains(&format!(
        "data-refresh=\"/_sim/canvas/signed-request?object=Contact&amp;id={contact}\""
    )));
}

#[tokio::test]
async fn a_campaign_page_lists_its_members_and_an_account_page_its_contacts() {
    let t = with_canvas().await;
    let campaign = first_id(&t, "SELECT Id FROM Campaign LIMIT 1").await;
    let members = t
        .query(&format!(
            "SELECT Contact.Name, Contact.Email, Lead.Name, Lead.Email FROM CampaignMember WHERE CampaignId = '{campaign}'"
        ))
        .await;
    let members = members.json["records"].as_array().unwrap().clone();
    assert!(members.len() >= 2);
    let (status, html) = page(&t, &format!("/lightning/r/Campaign/{campaign}/view")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains(&format!("Campaign Members ({})", members.len())),
        "{html}"
    );
    let mut leads = 0;
    for m in &members {
        let who = if m["Contact"].is_object() {
            &m["Contact"]
        } else {
            leads += 1;
            &m["Lead"]
        };
        let name = who["Name"]
            .as_str()
            .unwrap()
            .replace('&', "&amp;")
            .replace('\'', "&#39;");
        assert!(html.contains(&name), "{name} on the page");
    }
    assert!(leads > 0, "the demo campaign has leads too");
    assert!(
        html.contains(&format!("<dt>Leads in Campaign</dt><dd>{leads}</dd>"))
            && html.contains(&format!(
                "<dt>Contacts in Campaign</dt><dd>{}</dd>",
                members.len() - leads
            )),
        "{html}"
    );
    let ctx = verify(&signed_request_of(&html), t.org.client_secret()).unwrap();
    assert_eq!(
        ctx["context"]["environment"]["record"]["attributes"]["type"],
        "Campaign"
    );

    let account = t
        .query("SELECT AccountId FROM Contact WHERE AccountId != null LIMIT 1")
        .await
        .json["records"][0]["AccountId"]
        .as_str()
        .unwrap()
        .to_string();
    let contacts = t
        .query(&format!(
            "SELECT Name FROM Contact WHERE AccountId = '{account}'"
        ))
        .await
        .json["totalSize"]
        .as_u64()
        .unwrap();
    let (_, html) = page(&t, &format!("/lightning/r/Account/{account}/view")).await;
    assert!(html.contains(&format!("Contacts ({contacts})")), "{html}");
}

#[tokio::test]
async fn a_list_views_selection_opens_the_app_with_record_ids_and_no_record() {
    let t = with_canvas().await;
    let leads = t.query("SELECT Id FROM Lead ORDER BY Name LIMIT 2").await;
    let ids: Vec<String> = leads.json["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["Id"].as_str().unwrap().to_string())
        .collect();
    let (status, html) = page(&t, "/lightning/o/Lead/list").await;
    assert_eq!(status, 200);
    assert!(
        html.contains("id=\"send-survey\"") && !html.contains("<iframe"),
        "nothing selected: no panel"
    );
    assert!(html.contains(&format!("name=\"recordIds\" value=\"{}\"", ids[0])));
    let (_, html) = page(
        &t,
        &format!(
            "/lightning/o/Lead/list?recordIds={}&recordIds={}",
            ids[0], ids[1]
        ),
    )
    .await;
    assert!(html.contains("<iframe name=\"sonde-panel\""), "{html}");
    assert!(html.contains(&format!(
        "value=\"{}\" aria-label=\"Select\" checked",
        ids[0]
    )));
    let ctx = verify(&signed_request_of(&html), t.org.client_secret()).unwrap();
    let env = &ctx["context"]["environment"];
    assert_eq!(env["parameters"]["recordIds"], json!(ids));
    assert_eq!(env["record"], json!({}));
}

#[tokio::test]
async fn pages_show_another_user_with_a_changed_email_and_say_when_no_app_is_set_up() {
    let t = demo().await;
    let contact = first_id(&t, "SELECT Id FROM Contact LIMIT 1").await;
    let (status, html) = page(&t, &format!("/lightning/r/Contact/{contact}/view")).await;
    assert_eq!(status, 200);
    assert!(
        html.contains("id=\"no-canvas\"") && !html.contains("<iframe"),
        "{html}"
    );
    let r = t
        .http
        .post(t.url("/_sim/canvas"))
        .json(&json!({"url": "javascript:alert(1)"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);

    t.org.set_canvas_url(Some(PANEL)).unwrap();
    let r = t
        .http
        .patch(t.url("/_sim/users/integration@sfsim.example"))
        .json(&json!({"email": "ivan@example.com"}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let (_, html) = page(
        &t,
        &format!("/lightning/r/Contact/{contact}/view?as=integration@sfsim.example"),
    )
    .await;
    let ctx = verify(&signed_request_of(&html), t.org.client_secret()).unwrap();
    assert_eq!(ctx["context"]["user"]["email"], "ivan@example.com");
    assert_eq!(
        ctx["context"]["user"]["userName"],
        "integration@sfsim.example"
    );
    assert!(
        html.contains("as=integration%40sfsim.example"),
        "the refresh keeps the user"
    );
    let (status, _) = page(
        &t,
        &format!("/lightning/r/Contact/{contact}/view?as=nobody@example.com"),
    )
    .await;
    assert_eq!(status, 404);
    let (status, _) = page(&t, &format!("/lightning/r/Lead/{contact}/view")).await;
    assert_eq!(status, 404, "a Contact's id is no Lead");
}

#[tokio::test]
async fn the_canvas_url_survives_a_restart_with_state() {
    let dir = std::env::temp_dir().join(format!("sfsim-canvas-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let t = start(Org::builder().seed(Seed::Demo).state_dir(&dir)).await;
    t.org.set_canvas_url(Some(PANEL)).unwrap();
    t.org.shutdown().await;
    let t2 = start(Org::builder().seed(Seed::Demo).state_dir(&dir)).await;
    assert_eq!(t2.org.canvas_url().as_deref(), Some(PANEL));
    t2.org.shutdown().await;
    let t3 = start(
        Org::builder()
            .state_dir(&dir)
            .canvas_url("https://sonde.example.com/panel"),
    )
    .await;
    assert_eq!(
        t3.org.canvas_url().as_deref(),
        Some("https://sonde.example.com/panel"),
        "the flag wins"
    );
    t3.org.shutdown().await;
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn without_the_record_a_request_carries_what_lightning_sends_and_home_links_every_page() {
    let t = demo().await;
    let r = t
        .http
        .post(t.url("/_sim/canvas"))
        .json(&json!({"url": PANEL, "sendRecord": false}))
        .send()
        .await
        .unwrap();
    let got: Value = r.json().await.unwrap();
    assert_eq!(got, json!({"url": PANEL, "sendRecord": false}));
    let lead = first_id(&t, "SELECT Id FROM Lead LIMIT 1").await;
    let (_, html) = page(&t, &format!("/lightning/r/Lead/{lead}/view")).await;
    let ctx = verify(&signed_request_of(&html), t.org.client_secret()).unwrap();
    let env = &ctx["context"]["environment"];
    assert_eq!(env["record"], json!({}));
    assert_eq!(env["parameters"]["recordId"], lead.as_str());

    let (status, home) = page(&t, "/lightning/page/home").await;
    assert_eq!(status, 200);
    let campaign = first_id(&t, "SELECT Id FROM Campaign LIMIT 1").await;
    assert!(
        home.contains(&format!("href=\"/lightning/r/Campaign/{campaign}/view\"")),
        "{home}"
    );
    assert!(home.contains("href=\"/lightning/o/Lead/list\""));
}
