//! Moving a survey's workflows from a sandbox to production (issue #11): the plan lists what
//! the target org lacks by field before anything changes; with the field there, the move
//! rebinds every task, re-points record types by DeveloperName, and a Salesforce-message
//! workflow gets a new endpoint that takes the production org's messages (and the sandbox's
//! old one takes nothing).

use crate::harness::{backends, link_sfsim, TestApp};
use engine::Role;
use serde_json::{json, Value};

/// The sandbox: a Case field the workflows map, and a Detractor record type.
const SANDBOX: &str = r#"
objects:
  - name: Case
    fields:
      - {name: Survey_Marker__c, type: text, length: 64, label: Survey Marker}
  - name: Survey_Response__c
    recordTypes:
      - {developerName: Detractor, name: Detractor}
"#;

/// Production without the Case field; its record types made in another order (other ids).
const PRODUCTION_LACKING: &str = r#"
objects:
  - name: Case
    recordTypes:
      - {developerName: Support, name: Support}
  - name: Survey_Response__c
    recordTypes:
      - {developerName: Detractor, name: Detractor}
"#;

const PRODUCTION: &str = r#"
objects:
  - name: Case
    fields:
      - {name: Survey_Marker__c, type: text, length: 64, label: Survey Marker}
    recordTypes:
      - {developerName: Support, name: Support}
  - name: Survey_Response__c
    recordTypes:
      - {developerName: Detractor, name: Detractor}
"#;

async fn org(metadata: &str) -> sfsim::RunningOrg {
    sfsim::Org::builder()
        .seed(sfsim::Seed::Demo)
        .client_credentials("sonde-test-client", "sonde-test-secret")
        .metadata(sfsim::MetadataFile::parse(metadata).unwrap())
        .start()
        .await
        .unwrap()
}

async fn record_type(org: &sfsim::RunningOrg, developer_name: &str) -> String {
    crate::harness::sfsim_admin(org)
        .describe("Survey_Response__c")
        .await
        .unwrap()
        .record_type_infos
        .iter()
        .find(|r| r.developer_name.as_deref() == Some(developer_name))
        .and_then(|r| r.record_type_id.clone())
        .unwrap()
}

async fn call(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    let r = app.post(token, path).json(&body).send().await.unwrap();
    (r.status().as_u16(), r.json().await.unwrap())
}

#[tokio::test]
async fn a_sandbox_workflow_moves_to_production_only_once_production_has_what_it_maps() {
    for backend in backends() {
        let sandbox = org(SANDBOX).await;
        let lacking = org(PRODUCTION_LACKING).await;
        let production = org(PRODUCTION).await;
        let app = TestApp::spawn(backend).await;
        let mut settings = crate::harness::sfsim_settings(&sandbox);
        for o in [&lacking, &production] {
            settings.allowed_hosts = settings.allowed_hosts.allow(&o.host()).unwrap();
        }
        settings.retry_base_ms = 1;
        app.sonde.configure_salesforce(settings);
        let (_, token) = app.org_user(Role::Editor).await;
        let from = link_sfsim(&app, &token, &sandbox).await;
        let to_lacking = link_sfsim(&app, &token, &lacking).await;
        let to = link_sfsim(&app, &token, &production).await;
        let survey = app.sample_survey(&token).await;
        let sandbox_detractor = record_type(&sandbox, "Detractor").await;
        let (s, w) = call(
            &app,
            &token,
            &format!("/api/v1/surveys/{survey}/workflows"),
            json!({"name": "Responses", "tasks": [
                {"type": "salesforce", "connectionId": from, "object": "Survey_Response__c", "operation": "create",
                 "fields": {"Response_Id__c": {"piped": "${rm://ResponseID}"},
                            "Account__c": {"piped": "${e://Field/sfAccountId}"},
                            "RecordTypeId": {"value": sandbox_detractor}}},
                {"type": "salesforce", "connectionId": from, "object": "Case", "operation": "create",
                 "fields": {"Subject": {"value": "Follow up"}, "Survey_Marker__c": {"piped": "${rm://ResponseID}"}}}]}),
        )
        .await;
        assert_eq!(s, 201, "{w}");
        let (s, m) = call(
            &app,
            &token,
            &format!("/api/v1/surveys/{survey}/workflows"),
            json!({"name": "Case closed", "event": "salesforce_message", "connectionId": from,
                   "object": "Case", "tasks": [{"type": "directory", "action": "upsert_contact",
                   "fields": {"email": {"piped": "${sf://SuppliedEmail}"}}}]}),
        )
        .await;
        assert_eq!(s, 201, "{m}");
        let old_endpoint = m["endpointUrl"].as_str().unwrap().to_string();
        let move_path = format!("/api/v1/surveys/{survey}/workflows/move");

        // Production lacking the field: the plan names it, and applying changes nothing.
        let (s, plan) = call(
            &app,
            &token,
            &move_path,
            json!({"connectionId": to_lacking}),
        )
        .await;
        assert_eq!(s, 200, "{plan}");
        assert_eq!(plan["ready"], false, "{plan}");
        let responses = plan["workflows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["name"] == "Responses")
            .unwrap();
        let fields: Vec<&str> = responses["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["field"].as_str().unwrap())
            .collect();
        assert_eq!(fields, ["tasks[1].fields.Survey_Marker__c"], "{plan}");
        assert_eq!(responses["recordTypes"][0]["developerName"], "Detractor");
        let (s, refused) = call(
            &app,
            &token,
            &move_path,
            json!({"connectionId": to_lacking, "apply": true}),
        )
        .await;
        assert_eq!(s, 400, "{refused}");
        assert!(
            refused.to_string().contains("Survey_Marker__c"),
            "{refused}"
        );
        let unchanged = app
            .get_json(
                &token,
                &format!("/api/v1/workflows/{}", w["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(unchanged["tasks"][0]["connectionId"], from.as_str());

        // With the field there: moved, record type re-pointed, a new endpoint.
        let (s, done) = call(
            &app,
            &token,
            &move_path,
            json!({"connectionId": to, "apply": true}),
        )
        .await;
        assert_eq!(s, 200, "{done}");
        assert_eq!(done["applied"], true, "{done}");
        let moved = app
            .get_json(
                &token,
                &format!("/api/v1/workflows/{}", w["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(moved["tasks"][0]["connectionId"], to.as_str());
        assert_eq!(moved["tasks"][1]["connectionId"], to.as_str());
        assert_eq!(
            moved["tasks"][0]["fields"]["RecordTypeId"]["value"],
            record_type(&production, "Detractor").await.as_str()
        );
        let message = done["workflows"]
            .as_array()
            .unwrap()
            .iter()
            .find(|w| w["name"] == "Case closed")
            .unwrap();
        let new_endpoint = message["endpointUrl"].as_str().unwrap();
        assert_ne!(new_endpoint, old_endpoint);
        let post = |url: String, org_id: String| async move {
            let body = salesforce::outbound::Notifications {
                organization_id: org_id,
                action_id: "04k000000000001AAA".into(),
                session_id: None,
                enterprise_url: "https://example.my.salesforce.com/services/Soap/c/61.0".into(),
                partner_url: "https://example.my.salesforce.com/services/Soap/u/61.0".into(),
                notifications: vec![salesforce::outbound::Notification {
                    id: "04l000000000001AAA".into(),
                    sobject: salesforce::outbound::SObject {
                        object_type: "Case".into(),
                        fields: [("Id".to_string(), Some("500000000000001AAA".to_string()))]
                            .into_iter()
                            .collect(),
                    },
                }],
            }
            .to_xml();
            let r = reqwest::Client::new()
                .post(url)
                .header("content-type", "text/xml")
                .body(body)
                .send()
                .await
                .unwrap();
            r.status().as_u16()
        };
        assert_eq!(
            post(new_endpoint.to_string(), production.org_id()).await,
            200
        );
        assert_eq!(post(new_endpoint.to_string(), sandbox.org_id()).await, 500);
        assert_eq!(post(old_endpoint.clone(), sandbox.org_id()).await, 404);
    }
}

/// A survey moves to another Sonde account as one bundle: its definition, its workflows
/// rebound to the importer's linked org, the templates they send with, its opt-out override.
/// A bundle one of whose workflows the importer's account refuses leaves nothing behind.
#[tokio::test]
async fn a_survey_bundle_moves_to_another_account_with_its_workflows_and_templates() {
    for backend in backends() {
        let sf = crate::harness::start_sfsim().await;
        let app = TestApp::spawn(backend).await;
        crate::harness::use_sfsim(&app, &sf);
        let (_, a) = app.org_user(Role::Editor).await;
        let (_, b) = app.org_user(Role::Editor).await;
        let a_link = link_sfsim(&app, &a, &sf).await;
        let b_link = link_sfsim(&app, &b, &sf).await;
        let survey = app.sample_survey(&a).await;
        let (s, t) = call(
            &app,
            &a,
            "/api/v1/templates",
            json!({"channel": "email", "name": "Case closed", "subject": "Case ${sf://CaseNumber}",
                   "body": "<p>${l://SurveyLink}</p>"}),
        )
        .await;
        assert_eq!(s, 201, "{t}");
        let (s, w) = call(
            &app,
            &a,
            &format!("/api/v1/surveys/{survey}/workflows"),
            json!({"name": "Case closed", "event": "salesforce_message", "connectionId": a_link,
                   "object": "Case", "tasks": [{"type": "distribution", "channel": "email",
                   "templateId": t["id"], "delay": "PT24H",
                   "recipient": {"email": "${sf://ContactEmail}", "extRef": "${sf://ContactId}"},
                   "embeddedData": {"sfContactId": "${sf://ContactId}"}}]}),
        )
        .await;
        assert_eq!(s, 201, "{w}");
        let r = app
            .put(&a, &format!("/api/v1/surveys/{survey}/opt-out-sync"))
            .json(&json!({"enabled": false}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let bundle = app
            .get_json(&a, &format!("/api/v1/surveys/{survey}/bundle"))
            .await;
        assert_eq!(bundle["format"], "sonde.survey-bundle/1");
        assert!(
            bundle["workflows"][0].get("connectionId").is_none(),
            "{bundle}"
        );

        let (s, made) = call(&app, &b, "/api/v1/surveys/bundle", bundle.clone()).await;
        assert_eq!(s, 201, "{made}");
        assert_eq!(made["connectionId"], b_link.as_str());
        let imported = made["surveyId"].as_str().unwrap();
        let original = app.get_json(&a, &format!("/api/v1/surveys/{survey}")).await;
        let copy = app
            .get_json(&b, &format!("/api/v1/surveys/{imported}"))
            .await;
        assert_eq!(copy["definition"], original["definition"]);
        let workflows = app
            .get_json(&b, &format!("/api/v1/surveys/{imported}/workflows"))
            .await;
        let moved = &workflows["workflows"][0];
        assert_eq!(moved["connectionId"], b_link.as_str(), "{moved}");
        let task = &moved["tasks"][0];
        assert_eq!(task["templateId"], made["templateIds"][0], "{task}");
        assert_ne!(task["templateId"], t["id"]);
        assert_eq!(task["delay"], "PT24H");
        assert_ne!(moved["endpointUrl"], w["endpointUrl"]);
        let sync = app
            .get_json(&b, &format!("/api/v1/surveys/{imported}/opt-out-sync"))
            .await;
        assert_eq!(sync["enabled"], false);

        // A workflow the importer cannot have (a mailing list of another account): nothing kept.
        let (s, list) = call(
            &app,
            &a,
            "/api/v1/mailing-lists",
            json!({"name": "A's list"}),
        )
        .await;
        assert_eq!(s, 201);
        let mut bad = bundle.clone();
        bad["workflows"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "Into A's list", "event": "response_created", "enabled": true,
                         "tasks": [{"type": "directory", "action": "add_to_list", "listId": list["id"],
                                    "fields": {"email": {"piped": "${m://Email}"}}}]}));
        let before = app.get_json(&b, "/api/v1/surveys").await;
        let templates_before = app.get_json(&b, "/api/v1/templates").await;
        let (s, refused) = call(&app, &b, "/api/v1/surveys/bundle", bad).await;
        assert_eq!(s, 400, "{refused}");
        assert!(
            refused.to_string().contains("workflows[1].tasks[0].listId"),
            "{refused}"
        );
        assert_eq!(app.get_json(&b, "/api/v1/surveys").await, before);
        assert_eq!(
            app.get_json(&b, "/api/v1/templates").await,
            templates_before
        );
    }
}
