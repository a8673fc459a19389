//! Sending from the Salesforce panel: a Campaign's members (their exclusion fields read in the
//! same batched query), a Contact's send scheduled then moved and deleted, the Settings tab for
//! admins only, and Disconnect unlinking the org.

use crate::harness::{backends, sfsim_admin, TestApp};
use crate::panel::{csp, linked, Linked};
use engine::Role;
use serde_json::{json, Value};

/// The pass in a panel page's links (`?t=…`).
fn pass_of(page: &str) -> String {
    let start = page
        .find("/panel/send?t=")
        .unwrap_or_else(|| panic!("the Send tab in {page}"))
        + "/panel/send?t=".len();
    let end = start + page[start..].find('"').unwrap();
    page[start..end].replace("&amp;", "&")
}

/// The number a counts list shows under `data-count="{name}"`.
fn count(page: &str, name: &str) -> u64 {
    let marker = format!("data-count=\"{name}\">");
    let start = page
        .find(&marker)
        .unwrap_or_else(|| panic!("{name} in {page}"))
        + marker.len();
    let digits: String = page[start..]
        .chars()
        .take_while(|c| c.is_ascii_digit())
        .collect();
    digits.parse().unwrap()
}

async fn post_form(l: &Linked, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
    l.app
        .client
        .post(l.app.url(path))
        .form(form)
        .send()
        .await
        .unwrap()
}

async fn get_page(l: &Linked, path: &str, token: &str) -> reqwest::Response {
    l.app
        .client
        .get(l.app.url(&format!("{path}?t={token}")))
        .send()
        .await
        .unwrap()
}

/// Opens the panel for `email` on a record; answers its pass.
async fn open_on(l: &Linked, email: &str, object: &str, id: &str) -> String {
    let r = l.open(&l.signed(email, object, id)).await;
    assert_eq!(r.status(), 200);
    pass_of(&r.text().await.unwrap())
}

fn created(results: Vec<salesforce::collections::RecordResult>) -> Vec<String> {
    results
        .into_iter()
        .map(|r| r.id.unwrap_or_else(|| panic!("{:?}", r.errors)))
        .collect()
}

fn total_calls(l: &Linked) -> u64 {
    l.sf.calls().values().sum()
}

#[tokio::test]
async fn a_campaign_of_500_with_20_do_not_call_sends_to_480_in_at_most_5_calls() {
    for backend in backends() {
        let l = linked(TestApp::spawn(backend).await, "Spring check-in").await;
        let sf = sfsim_admin(&l.sf);
        let campaign = sf
            .create("Campaign", &json!({"Name": "Spring 2027"}))
            .await
            .unwrap();
        let contacts: Vec<Value> = (0..500)
            .map(|i| json!({"LastName": format!("Member {i}"), "Email": format!("member{i:03}@example.com"), "DoNotCall": i % 25 == 0}))
            .collect();
        let contacts = created(sf.create_many("Contact", &contacts, true).await.unwrap());
        let members: Vec<Value> = contacts
            .iter()
            .map(|c| json!({"CampaignId": campaign, "ContactId": c}))
            .collect();
        created(
            sf.create_many("CampaignMember", &members, true)
                .await
                .unwrap(),
        );

        let token = open_on(&l, &l.admin.email, "Campaign", &campaign).await;
        let saved = post_form(
            &l,
            "/panel/settings",
            &[("t", &token), ("contact_do_not_call", "on")],
        )
        .await;
        assert_eq!(saved.status(), 200);
        let saved = saved.text().await.unwrap();
        assert!(saved.contains("Saved."), "{saved}");
        // The form (and its field picker's describe) before the send is counted.
        let form = get_page(&l, "/panel/send", &token).await;
        assert_eq!(form.status(), 200);
        assert!(csp(&form).ends_with(&format!("frame-ancestors {}", l.origin())));
        let form = form.text().await.unwrap();
        assert!(form.contains("the members of Campaign"), "{form}");

        l.sf.reset_calls();
        let before = total_calls(&l);
        let sent = post_form(
            &l,
            "/panel/send",
            &[
                ("t", &token),
                ("survey_id", &l.survey),
                ("channel", "email"),
                ("mailing_list_id", ""),
                ("new_list_name", "Spring 2027 members"),
                ("template_id", ""),
                ("new_template_name", "Spring invitation"),
                ("new_template_subject", "A minute, ${m://FirstName}?"),
                ("new_template_body", "<p>Tell us: ${l://SurveyLink}</p>"),
                ("map_field_0", "Contact.Title"),
                ("map_name_0", "title"),
                ("action", "send"),
            ],
        )
        .await;
        assert_eq!(sent.status(), 200);
        let calls = total_calls(&l) - before;
        let page = sent.text().await.unwrap();
        assert!(page.contains("id=\"panel-sent\""), "{page}");
        assert_eq!(count(&page, "selected"), 500);
        assert_eq!(count(&page, "excluded"), 20);
        assert_eq!(count(&page, "in-list"), 480);
        assert!(page.contains("do not call: 20"), "{page}");
        assert!(
            calls <= 5,
            "the send cost {calls} Salesforce API calls: {:?}",
            l.sf.calls()
        );
        eprintln!("a 500-member campaign's send: {calls} Salesforce API calls");

        // The list holds the 480, each carrying its Contact and the campaign.
        let lists = l.app.get_json(&l.token, "/api/v1/mailing-lists").await;
        let list = lists["mailingLists"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["name"] == "Spring 2027 members")
            .unwrap_or_else(|| panic!("{lists}"));
        assert_eq!(list["members"], 480);

        let tab = get_page(&l, "/panel/sent", &token)
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(count(&tab, "selected"), 500);
        assert_eq!(count(&tab, "excluded"), 20);
        assert_eq!(count(&tab, "in-list"), 480);
        assert!(tab.contains("Spring check-in"), "{tab}");
    }
}

#[tokio::test]
async fn a_scheduled_send_from_a_contact_can_be_moved_and_deleted() {
    for backend in backends() {
        let l = linked(TestApp::spawn(backend).await, "Onboarding").await;
        let sf = sfsim_admin(&l.sf);
        let contact = sf
            .create(
                "Contact",
                &json!({"LastName": "Ada", "Email": "ada@example.com", "AccountId": null}),
            )
            .await
            .unwrap();
        let token = open_on(&l, &l.admin.email, "Contact", &contact).await;
        let template = l
            .app
            .post(&l.token, "/api/v1/templates")
            .json(&json!({"channel": "email", "name": "Hello", "subject": "Hi", "body": "<p>${l://SurveyLink}</p>"}))
            .send()
            .await
            .unwrap();
        assert_eq!(template.status(), 201, "{}", template.text().await.unwrap());
        let template: Value = template.json().await.unwrap();
        let next_year = format!("{}-06-01T09:00", chrono_year() + 1);
        let page = post_form(
            &l,
            "/panel/send",
            &[
                ("t", &token),
                ("survey_id", &l.survey),
                ("channel", "email"),
                ("new_list_name", "Ada"),
                ("template_id", template["id"].as_str().unwrap()),
                ("send_at", &next_year),
                ("time_zone", "Europe/Paris"),
                ("action", "send"),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
        assert!(page.contains("Scheduled for"), "{page}");
        assert_eq!(count(&page, "in-list"), 1);
        let tab = get_page(&l, "/panel/scheduled", &token)
            .await
            .text()
            .await
            .unwrap();
        let start =
            tab.find("action=\"/panel/scheduled/").unwrap() + "action=\"/panel/scheduled/".len();
        let id: String = tab[start..].chars().take_while(|c| *c != '"').collect();
        assert!(tab.contains("Europe/Paris"), "{tab}");
        let moved = post_form(
            &l,
            &format!("/panel/scheduled/{id}"),
            &[
                ("t", &token),
                ("send_at", &format!("{}-07-01T10:30", chrono_year() + 1)),
                ("time_zone", "Europe/Paris"),
            ],
        )
        .await
        .text()
        .await
        .unwrap();
        assert!(moved.contains("Now goes"), "{moved}");
        assert!(moved.contains("07-01T10:30"), "{moved}");
        // Nothing is sent yet, so the Sent tab is empty.
        let sent = get_page(&l, "/panel/sent", &token)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            sent.contains("No survey has been sent from here yet."),
            "{sent}"
        );
        let gone = post_form(
            &l,
            &format!("/panel/scheduled/{id}/delete"),
            &[("t", &token)],
        )
        .await
        .text()
        .await
        .unwrap();
        assert!(gone.contains("Deleted"), "{gone}");
        assert!(gone.contains("Nothing is scheduled from here."), "{gone}");
        let r = l
            .app
            .get(&l.token, &format!("/api/v1/distributions/{id}"))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
    }
}

fn chrono_year() -> i32 {
    // Years since 1970 from the clock: enough for "next year" in a form.
    let days = store::now_ms() / 86_400_000;
    1970 + (days as f64 / 365.2425) as i32
}

#[tokio::test]
async fn a_record_with_a_chosen_exclusion_is_never_sent_and_nobody_left_is_said() {
    for backend in backends() {
        let l = linked(TestApp::spawn(backend).await, "Support").await;
        let sf = sfsim_admin(&l.sf);
        let contact = sf
            .create("Contact", &json!({"LastName": "Bounced", "Email": "gone@example.com", "IsEmailBounced": true}))
            .await
            .unwrap();
        let token = open_on(&l, &l.admin.email, "Contact", &contact).await;
        let form = [
            ("t", token.as_str()),
            ("survey_id", l.survey.as_str()),
            ("channel", "email"),
            ("new_list_name", "Bounced"),
            ("template_id", ""),
            ("new_template_subject", "Hi"),
            ("new_template_body", "<p>${l://SurveyLink}</p>"),
            ("action", "send"),
        ];
        // Not chosen yet: the bounced address is sent to.
        let first = post_form(&l, "/panel/send", &form)
            .await
            .text()
            .await
            .unwrap();
        assert_eq!(count(&first, "in-list"), 1, "{first}");
        post_form(
            &l,
            "/panel/settings",
            &[("t", &token), ("contact_email_bounced", "on")],
        )
        .await;
        let second = post_form(&l, "/panel/send", &form)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            second.contains("nobody to send to: of 1 records, 1 excluded"),
            "{second}"
        );
        // What was typed is still there.
        assert!(second.contains("value=\"Bounced\""), "{second}");
    }
}

#[tokio::test]
async fn settings_are_for_admins_and_disconnect_unlinks_the_org() {
    for backend in backends() {
        let l = linked(TestApp::spawn(backend).await, "Support").await;
        let (editor, _) = l.app.user_in(&l.admin.org_id, Role::Editor).await;
        let contact = "0035g00000PaNeLAAA";
        let editor_pass = open_on(&l, &editor.email, "Contact", contact).await;
        let home = get_page(&l, "/panel/home", &editor_pass)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            !home.contains("/panel/settings?t="),
            "no Settings tab for editors: {home}"
        );
        assert!(
            home.contains("/panel/send?t="),
            "a Contact's panel sends: {home}"
        );
        // An Account's panel has nothing to send to: no Send tab.
        let account = l
            .open(&l.signed(&editor.email, "Account", "0015g00000AcMeAAAA"))
            .await
            .text()
            .await
            .unwrap();
        assert!(
            !account.contains("/panel/send?t=") && account.contains("/panel/dashboard?t="),
            "{account}"
        );
        let r = get_page(&l, "/panel/settings", &editor_pass).await;
        assert_eq!(r.status(), 403);
        let r = post_form(&l, "/panel/disconnect", &[("t", &editor_pass)]).await;
        assert_eq!(r.status(), 403);
        let r = l.open(&l.signed(&l.admin.email, "Contact", contact)).await;
        assert_eq!(r.status(), 200, "still linked");

        let admin_pass = open_on(&l, &l.admin.email, "Contact", contact).await;
        let r = post_form(&l, "/panel/disconnect", &[("t", &admin_pass)]).await;
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains("no longer linked"));
        let r = l.open(&l.signed(&l.admin.email, "Contact", contact)).await;
        assert_eq!(r.status(), 403);
        assert!(r.text().await.unwrap().contains("not linked to Sonde"));
        let links = crate::harness::connections_of(&l.app, &l.token).await;
        assert!(links.iter().all(|c| c["status"] == "revoked"), "{links:?}");
        let log = l
            .app
            .get_json(&l.token, "/api/v1/audit-events")
            .await
            .to_string();
        assert!(log.contains("salesforce_org.disconnected"), "{log}");
        assert!(log.contains(&l.admin.email), "{log}");
    }
}

#[tokio::test]
async fn a_salesforce_user_without_an_account_sends_as_the_chosen_sender() {
    for backend in backends() {
        let l = linked(TestApp::spawn(backend).await, "Support").await;
        let contact = "0035g00000PaNeLAAA";
        let r = l
            .open(&l.signed("stranger@example.com", "Contact", contact))
            .await;
        assert_eq!(r.status(), 403);
        let (sender, _) = l.app.user_in(&l.admin.org_id, Role::Editor).await;
        let admin_pass = open_on(&l, &l.admin.email, "Contact", contact).await;
        let saved = post_form(
            &l,
            "/panel/settings",
            &[("t", &admin_pass), ("sender_user_id", &sender.user_id)],
        )
        .await;
        assert!(saved.text().await.unwrap().contains("Saved."));
        let r = l
            .open(&l.signed("stranger@example.com", "Contact", contact))
            .await;
        assert_eq!(r.status(), 200);
        assert!(r.text().await.unwrap().contains(&sender.email));
    }
}

#[tokio::test]
async fn records_selected_in_a_list_view_are_sent_and_a_test_goes_to_the_sender() {
    for backend in backends() {
        let l = linked(TestApp::spawn(backend).await, "Selected").await;
        let sf = sfsim_admin(&l.sf);
        let people: Vec<Value> = (0..3)
            .map(|i| json!({"LastName": format!("Picked {i}"), "Email": format!("picked{i}@example.com")}))
            .collect();
        let ids = created(sf.create_many("Contact", &people, true).await.unwrap());
        // A list view's selection: the ids in the parameters, no record.
        let mut context: Value = serde_json::from_str(&crate::panel::canvas_context(
            &l.sf.org_id(),
            l.sf.instance_url(),
            &l.admin.email,
            "Contact",
            &ids[0],
        ))
        .unwrap();
        context["context"]["environment"]["record"] = json!({});
        context["context"]["environment"]["parameters"] = json!({"recordIds": [ids[0], ids[1]]});
        let signed = salesforce::canvas::sign_request(
            &context.to_string(),
            &salesforce::Secret::new(l.sf.client_secret()),
        );
        let page = l.open(&signed).await.text().await.unwrap();
        assert!(page.contains("2 records selected"), "{page}");
        let token = pass_of(&page);
        let form = |action: &'static str| {
            vec![
                ("t", token.clone()),
                ("survey_id", l.survey.clone()),
                ("channel", "email".to_string()),
                ("new_list_name", "Picked".to_string()),
                ("template_id", String::new()),
                ("new_template_subject", "Hi ${m://FirstName}".to_string()),
                ("new_template_body", "<p>${l://SurveyLink}</p>".to_string()),
                ("action", action.to_string()),
            ]
        };
        let test = l
            .app
            .client
            .post(l.app.url("/panel/send"))
            .form(&form("test"))
            .send()
            .await
            .unwrap();
        let test = test.text().await.unwrap();
        assert!(
            test.contains(&format!("A test is on its way to {}", l.admin.email)),
            "{test}"
        );
        let sent = l
            .app
            .client
            .post(l.app.url("/panel/send"))
            .form(&form("send"))
            .send()
            .await
            .unwrap();
        let sent = sent.text().await.unwrap();
        assert_eq!(count(&sent, "selected"), 2, "{sent}");
        assert_eq!(count(&sent, "in-list"), 2, "{sent}");
        // Each selected record's own Sent tab lists the send; the one left out does not.
        let first = open_on(&l, &l.admin.email, "Contact", &ids[1]).await;
        let tab = get_page(&l, "/panel/sent", &first)
            .await
            .text()
            .await
            .unwrap();
        assert!(tab.contains("launched from selected"), "{tab}");
        let other = open_on(&l, &l.admin.email, "Contact", &ids[2]).await;
        let tab = get_page(&l, "/panel/sent", &other)
            .await
            .text()
            .await
            .unwrap();
        assert!(
            tab.contains("No survey has been sent from here yet."),
            "{tab}"
        );
    }
}
