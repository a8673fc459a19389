//! Linked Salesforce orgs and workflows end to end against an in-process sfsim: the OAuth
//! redirect dance as a browser does it, workflows created and refused through the API, 1,000
//! responses delivered exactly once in collections calls, faults, and two PostgreSQL claimers.

use crate::harness::{backends, Backend, TestApp};
use engine::Role;
use futures::TryStreamExt;
use serde_json::{json, Value};
use std::collections::{BTreeMap, HashSet};

pub(crate) async fn start_org() -> sfsim::RunningOrg {
    sfsim::Org::builder()
        .seed(sfsim::Seed::Demo)
        .daily_api_limit(1_000_000)
        .start()
        .await
        .unwrap()
}

pub(crate) fn configure(app: &TestApp, org: &sfsim::RunningOrg) {
    let mut s = crate::harness::sfsim_settings(org);
    s.retry_base_ms = 1;
    s.max_attempts = 50;
    app.sonde.configure_salesforce(s);
    app.sonde
        .set_secret_box(engine::secrets::SecretBox::from_key(&[42u8; 32]));
}

/// The org's own admin session, to look at what arrived (not through Sonde).
async fn org_admin(org: &sfsim::RunningOrg) -> salesforce::Connection {
    crate::harness::sfsim_admin(org)
}

async fn query(conn: &salesforce::Connection, soql: &str) -> Vec<Value> {
    conn.query_all::<Value>(soql).try_collect().await.unwrap()
}

/// Links an org through the redirect dance and returns the connection's id.
pub(crate) async fn link(app: &TestApp, token: &str, org: &sfsim::RunningOrg) -> String {
    dance(
        app,
        token,
        org,
        json!({"environment": "custom", "loginUrl": org.login_url()}),
    )
    .await
}

async fn dance(app: &TestApp, token: &str, org: &sfsim::RunningOrg, start: Value) -> String {
    let (status, text) =
        crate::harness::link_org_as(app, token, org, &org.username(), start.clone()).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("linked"), "{text}");
    let list: Value = app
        .get(token, "/api/v1/salesforce/connections")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let conns = list["connections"].as_array().unwrap();
    let newest = match start["connectionId"].as_str() {
        Some(id) => conns.iter().find(|c| c["id"] == id).unwrap(),
        None => conns.last().unwrap(),
    };
    assert_eq!(newest["status"], "active");
    assert!(
        !list.to_string().contains(org.access_token()),
        "tokens never leave"
    );
    newest["id"].as_str().unwrap().to_string()
}

pub(crate) struct Fixture {
    pub accounts: Vec<(String, String)>,
    pub nps_record_type: String,
}

pub(crate) async fn fixture(org: &sfsim::RunningOrg) -> Fixture {
    let admin = org_admin(org).await;
    let accounts = query(
        &admin,
        "SELECT Id, AccountId FROM Contact WHERE AccountId != null",
    )
    .await
    .into_iter()
    .map(|r| {
        (
            r["AccountId"].as_str().unwrap().to_string(),
            r["Id"].as_str().unwrap().to_string(),
        )
    })
    .collect::<Vec<_>>();
    assert!(!accounts.is_empty());
    let d = admin.describe("Survey_Response__c").await.unwrap();
    let nps_record_type = d
        .record_type_infos
        .iter()
        .find(|r| r.developer_name.as_deref() == Some("NPS") || r.name == "NPS Survey")
        .and_then(|r| r.record_type_id.clone())
        .unwrap();
    Fixture {
        accounts,
        nps_record_type,
    }
}

pub(crate) fn mapping(connection: &str, record_type: &str, label: &str) -> Value {
    json!({
        "name": "Responses into Salesforce",
        "event": "response_created",
        "conditions": {"type": "all", "conditions": [
            {"type": "embedded_data", "field": "sfAccountId", "op": "is_not_empty"}
        ]},
        "tasks": [{
            "type": "salesforce",
            "connectionId": connection,
            "object": "Survey_Response__c",
            "operation": "create",
            "fields": {
                "Account__c": {"piped": "${e://Field/sfAccountId}"},
                "Contact__c": {"piped": "${e://Field/sfContactId}"},
                "Response_Id__c": {"piped": "${rm://ResponseID}"},
                "NPS_Score__c": {"piped": "${q://QID3/ChoiceTextEntryValue}"},
                "Survey_Name__c": {"value": label},
                "Channel__c": {"value": "Web"},
                "RecordTypeId": {"value": record_type}
            }
        }]
    })
}

pub(crate) async fn create_workflow(
    app: &TestApp,
    token: &str,
    survey: &str,
    body: &Value,
) -> Value {
    let r = app
        .post(token, &format!("/api/v1/surveys/{survey}/workflows"))
        .json(body)
        .send()
        .await
        .unwrap();
    let status = r.status();
    let v: Value = r.json().await.unwrap();
    assert_eq!(status, 201, "{v}");
    v
}

/// Submits `n` responses over HTTP; returns response id → (account, contact, nps).
pub(crate) async fn submit(
    app: &TestApp,
    token: &str,
    survey: &str,
    fx: &Fixture,
    n: usize,
) -> BTreeMap<String, (String, String, i64)> {
    let def = survey::sample::sample_definition();
    let base = sonde::bench::complete_answers(&def);
    let mut out = BTreeMap::new();
    for i in 0..n {
        let (account, contact) = fx.accounts[i % fx.accounts.len()].clone();
        let nps = (i % 11) as i64;
        let mut answers = serde_json::to_value(&base).unwrap();
        answers["QID3"] = serde_json::to_value(survey::Answer::Number(nps as f64)).unwrap();
        if nps > 6 {
            answers.as_object_mut().unwrap().remove("QID8");
        }
        let r = app
            .post(token, &format!("/api/v1/surveys/{survey}/responses"))
            .json(&json!({"answers": answers, "embeddedData": {"sfAccountId": account, "sfContactId": contact}, "finished": true}))
            .send()
            .await
            .unwrap();
        let status = r.status();
        let v: Value = r.json().await.unwrap();
        assert_eq!(status, 201, "{v}");
        out.insert(
            v["responseId"].as_str().unwrap().to_string(),
            (account, contact, nps),
        );
    }
    out
}

/// Every response is in the org exactly once with its mapped values.
pub(crate) async fn assert_delivered(
    org: &sfsim::RunningOrg,
    label: &str,
    record_type: &str,
    expected: &BTreeMap<String, (String, String, i64)>,
) {
    let admin = org_admin(org).await;
    let rows = query(
        &admin,
        &format!(
            "SELECT Id, Response_Id__c, Account__c, Contact__c, NPS_Score__c, RecordTypeId, Channel__c \
             FROM Survey_Response__c WHERE Survey_Name__c = '{label}'"
        ),
    )
    .await;
    let mut seen = HashSet::new();
    for r in &rows {
        let rid = r["Response_Id__c"].as_str().unwrap().to_string();
        assert!(seen.insert(rid.clone()), "{rid} written twice");
        let (account, contact, nps) = expected.get(&rid).expect("an expected response");
        assert_eq!(
            r["Account__c"].as_str().unwrap().get(..15),
            account.get(..15)
        );
        assert_eq!(
            r["Contact__c"].as_str().unwrap().get(..15),
            contact.get(..15)
        );
        assert_eq!(r["NPS_Score__c"].as_f64(), Some(*nps as f64), "{r}");
        assert_eq!(
            r["RecordTypeId"].as_str().unwrap().get(..15),
            record_type.get(..15)
        );
        assert_eq!(r["Channel__c"], "Web");
    }
    assert_eq!(rows.len(), expected.len(), "every response exactly once");
}

#[tokio::test]
async fn a_thousand_responses_arrive_once_in_collections_calls() {
    for backend in backends() {
        let org = start_org().await;
        let app = TestApp::spawn(backend).await;
        configure(&app, &org);
        let (_, token) = app.org_user(Role::Editor).await;
        let survey = app.sample_survey(&token).await;
        let conn = link(&app, &token, &org).await;
        let fx = fixture(&org).await;
        let label = format!("e2e-{backend:?}");
        let wf = create_workflow(
            &app,
            &token,
            &survey,
            &mapping(&conn, &fx.nps_record_type, &label),
        )
        .await;
        let wf_id = wf["id"].as_str().unwrap();

        let expected = submit(&app, &token, &survey, &fx, 1000).await;
        org.reset_calls();
        let started = std::time::Instant::now();
        let report = app.sonde.drain_workflows().await.unwrap();
        let elapsed = started.elapsed();
        assert_eq!(report.succeeded, 1000, "{report:?}");
        let calls: u64 = org.calls().values().sum();
        let per_record = calls as f64 / 1000.0;
        eprintln!(
            "{backend:?}: 1000 records in {calls} API calls ({per_record:.4}/record), drained in {:.2}s ({:.0} records/s); calls {:?}",
            elapsed.as_secs_f64(),
            1000.0 / elapsed.as_secs_f64(),
            org.calls()
        );
        assert!(per_record <= 0.01, "{per_record} calls per record");
        assert_delivered(&org, &label, &fx.nps_record_type, &expected).await;

        let runs = app
            .get_json(&token, &format!("/api/v1/workflows/{wf_id}/runs?limit=5"))
            .await;
        assert_eq!(runs["counts"]["succeeded"], 1000, "{runs}");
        let run = &runs["runs"][0];
        assert_eq!(run["status"], "succeeded");
        assert_eq!(run["conditionMet"], true);
        assert_eq!(run["trigger"], "response_created");
        assert_eq!(run["tasks"][0]["status"], "succeeded");
        assert!(run["tasks"][0]["recordId"].as_str().unwrap().len() == 18);

        // Draining again writes nothing more.
        assert_eq!(app.sonde.drain_workflows().await.unwrap().claimed, 0);
        org.shutdown().await;
    }
}

#[tokio::test]
async fn faults_and_token_expiry_still_deliver_exactly_once() {
    for backend in backends() {
        let org = start_org().await;
        let app = TestApp::spawn(backend).await;
        configure(&app, &org);
        let (_, token) = app.org_user(Role::Editor).await;
        let survey = app.sample_survey(&token).await;
        let conn = link(&app, &token, &org).await;
        let fx = fixture(&org).await;
        let label = format!("faults-{backend:?}");
        create_workflow(
            &app,
            &token,
            &survey,
            &mapping(&conn, &fx.nps_record_type, &label),
        )
        .await;
        let expected = submit(&app, &token, &survey, &fx, 300).await;

        org.set_faults(sfsim::Faults {
            error_rate: 0.2,
            timeout_rate: 0.02,
            timeout_ms: 1000,
            ..Default::default()
        });
        let mut rounds = 0;
        let mut retried = 0;
        loop {
            rounds += 1;
            // Every pass finds its session expired and refreshes once.
            org.expire_sessions();
            let r = app.sonde.try_execute_workflows("w", 25).await.unwrap();
            retried += r.retried;
            let c = app.sonde.store.queue_counts("workflow").await.unwrap();
            if c.queued == 0 && c.running == 0 {
                assert_eq!(c.failed, 0, "{c:?}");
                eprintln!("{backend:?}: delivered through faults in {rounds} passes, {retried} runs retried, calls {:?}", org.calls());
                break;
            }
            assert!(rounds < 500, "still not delivered: {c:?}");
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        org.clear_faults();
        assert!(retried > 0, "the faults were exercised");
        assert_delivered(&org, &label, &fx.nps_record_type, &expected).await;

        // One limit exhaustion: the org's work pauses instead of failing.
        let more = submit(&app, &token, &survey, &fx, 5).await;
        org.exhaust_api_limit(true);
        let r = app.sonde.drain_workflows().await.unwrap();
        assert_eq!((r.deferred, r.failed), (5, 0), "{r:?}");
        let listed = app.get_json(&token, "/api/v1/salesforce/connections").await;
        assert!(listed["connections"][0]["pausedUntil"].as_i64().unwrap() > store::now_ms());
        org.exhaust_api_limit(false);
        org.shutdown().await;
        drop(more);
    }
}

#[tokio::test]
async fn a_sixth_org_is_refused_and_bad_mappings_name_the_field() {
    let org = crate::harness::start_shared_app_org().await;
    let org2 = crate::harness::start_shared_app_org().await;
    let app = TestApp::spawn(Backend::Sqlite).await;
    let mut settings = crate::harness::shared_app_settings(&[&org, &org2]);
    settings.max_attempts = 50;
    app.sonde.configure_salesforce(settings);
    let (owner, token) = app.org_user(Role::Editor).await;
    let survey = app.sample_survey(&token).await;
    // Five links: each org and Salesforce user once (linking one again is the same link).
    let mut conns = Vec::new();
    for (o, user) in [
        (&org, "admin@sfsim.example"),
        (&org, "integration@sfsim.example"),
        (&org, "noapi@sfsim.example"),
        (&org2, "admin@sfsim.example"),
        (&org2, "integration@sfsim.example"),
    ] {
        let start = json!({"environment": "custom", "loginUrl": o.login_url()});
        let (status, page) = crate::harness::link_org_as(&app, &token, o, user, start).await;
        assert_eq!(status, 200, "{page}");
        let list = crate::harness::connections_of(&app, &token).await;
        let c = list
            .iter()
            .find(|c| c["username"] == user && c["salesforceOrgId"] == o.org_id().as_str())
            .unwrap();
        conns.push(c["id"].as_str().unwrap().to_string());
    }
    assert_eq!(crate::harness::connections_of(&app, &token).await.len(), 5);
    let r = app
        .post(&token, "/api/v1/salesforce/connections")
        .json(&json!({"environment": "custom", "loginUrl": org.login_url()}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 409);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("5 Salesforce orgs"),
        "{v}"
    );

    let fx = fixture(&org).await;
    let problems = |v: &Value| -> Vec<String> {
        v["error"]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["field"].as_str().unwrap().to_string())
            .collect()
    };
    // Read-only field, missing required field, bad picklist value, wrong type.
    let mut bad = mapping(&conns[0], &fx.nps_record_type, "x");
    let fields = bad["tasks"][0]["fields"].as_object_mut().unwrap();
    fields.remove("Account__c");
    fields.insert("Name".into(), json!({"value": "R-1"}));
    fields.insert("Channel__c".into(), json!({"value": "Carrier pigeon"}));
    fields.insert("CSAT_Score__c".into(), json!({"value": "lots"}));
    fields.insert("Nope__c".into(), json!({"piped": "x"}));
    let r = app
        .post(&token, &format!("/api/v1/surveys/{survey}/workflows"))
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    let named = problems(&v);
    for f in [
        "tasks[0].fields.Name",
        "tasks[0].fields.Account__c",
        "tasks[0].fields.Channel__c",
        "tasks[0].fields.CSAT_Score__c",
        "tasks[0].fields.Nope__c",
    ] {
        assert!(named.contains(&f.to_string()), "{f} not in {v}");
    }
    // Unknown object.
    let mut bad = mapping(&conns[0], &fx.nps_record_type, "x");
    bad["tasks"][0]["object"] = json!("No_Such_Object__c");
    let r = app
        .post(&token, &format!("/api/v1/surveys/{survey}/workflows"))
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    let v: Value = r.json().await.unwrap();
    assert_eq!(problems(&v), vec!["tasks[0].object".to_string()], "{v}");

    // A good one; a colleague may read it, not change it, but may copy it.
    let wf = create_workflow(
        &app,
        &token,
        &survey,
        &mapping(&conns[0], &fx.nps_record_type, "x"),
    )
    .await;
    let wf_id = wf["id"].as_str().unwrap();
    let (_, admin_token) = app.user_in(&owner.org_id, Role::Admin).await;
    let r = app
        .client
        .put(app.url(&format!("/api/v1/workflows/{wf_id}")))
        .bearer_auth(&admin_token)
        .json(&mapping(&conns[0], &fx.nps_record_type, "y"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);
    let v: Value = r.json().await.unwrap();
    assert!(
        v["error"]["message"].as_str().unwrap().contains("copy"),
        "{v}"
    );
    let admin_conn = link(&app, &admin_token, &org).await;
    let r = app
        .post(&admin_token, &format!("/api/v1/workflows/{wf_id}/copy"))
        .json(&json!({"connectionId": admin_conn}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let copy: Value = r.json().await.unwrap();
    assert_eq!(copy["tasks"][0]["connectionId"], admin_conn.as_str());
    assert_ne!(copy["ownerId"], wf["ownerId"]);

    // Check reports per workflow.
    let check = app
        .get_json(
            &token,
            &format!("/api/v1/salesforce/connections/{}/check", conns[0]),
        )
        .await;
    assert_eq!(check["apiAccess"], true, "{check}");
    assert_eq!(check["workflows"][0]["ok"], true, "{check}");

    // Disconnect revokes: the next run fails asking to reconnect.
    let r = app
        .client
        .delete(app.url(&format!("/api/v1/salesforce/connections/{}", conns[0])))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(
        r.status(),
        200,
        "the answer names the workflows that now fail"
    );
    submit(&app, &token, &survey, &fx, 1).await;
    let r = app.sonde.drain_workflows().await.unwrap();
    assert_eq!(r.failed, 1, "{r:?}");
    let runs = app
        .get_json(
            &token,
            &format!("/api/v1/workflows/{wf_id}/runs?status=failed"),
        )
        .await;
    assert!(
        runs["runs"][0]["error"]
            .as_str()
            .unwrap()
            .contains("reconnect"),
        "{runs}"
    );
    org.shutdown().await;
    org2.shutdown().await;
}

#[tokio::test]
async fn two_claimers_on_postgres_write_each_record_once() {
    if !backends().contains(&Backend::Postgres) {
        return;
    }
    let org = start_org().await;
    let app = TestApp::spawn(Backend::Postgres).await;
    configure(&app, &org);
    let (_, token) = app.org_user(Role::Editor).await;
    let survey = app.sample_survey(&token).await;
    let conn = link(&app, &token, &org).await;
    let fx = fixture(&org).await;
    let label = "two-nodes";
    create_workflow(
        &app,
        &token,
        &survey,
        &mapping(&conn, &fx.nps_record_type, label),
    )
    .await;
    let expected = submit(&app, &token, &survey, &fx, 600).await;
    // A second node: its own engine (own connections, own refresh) over the same database.
    let node2 = engine::Sonde::new(
        app.sonde.store.clone(),
        engine::Config {
            public_url: app.base.clone(),
        },
    )
    .await
    .unwrap();
    node2.configure_salesforce(app.sonde.salesforce_settings());
    node2.set_secret_box(engine::secrets::SecretBox::from_key(&[42u8; 32]));
    let mut handles = Vec::new();
    for (n, sonde) in [app.sonde.clone(), node2].into_iter().enumerate() {
        handles.push(tokio::spawn(async move {
            let owner = format!("node{n}");
            let mut done = 0;
            loop {
                let r = sonde.try_execute_workflows(&owner, 100).await.unwrap();
                if r.claimed == 0 {
                    return done;
                }
                done += r.succeeded;
            }
        }));
    }
    let mut total = 0;
    let mut per_node = Vec::new();
    for h in handles {
        let d = h.await.unwrap();
        per_node.push(d);
        total += d;
    }
    eprintln!("two nodes delivered {per_node:?}");
    assert_eq!(total, 600);
    assert_delivered(&org, label, &fx.nps_record_type, &expected).await;
    org.shutdown().await;
}

#[tokio::test]
async fn a_revoked_org_fails_runs_with_reconnect_until_relinked_and_retried() {
    for backend in backends() {
        let org = start_org().await;
        let app = TestApp::spawn(backend).await;
        configure(&app, &org);
        let (_, token) = app.org_user(Role::Editor).await;
        let survey = app.sample_survey(&token).await;
        let conn = link(&app, &token, &org).await;
        let fx = fixture(&org).await;
        let label = format!("revoked-{backend:?}");
        let wf = create_workflow(
            &app,
            &token,
            &survey,
            &mapping(&conn, &fx.nps_record_type, &label),
        )
        .await;
        let wf_id = wf["id"].as_str().unwrap();

        // Tokens are sealed at rest.
        let stored = app
            .sonde
            .store
            .connection_by_id(&conn)
            .await
            .unwrap()
            .unwrap();
        let live = app.sonde.live_connection(&conn).await.unwrap().tokens();
        let sealed = stored.tokens.clone().unwrap();
        assert!(sealed.starts_with("v2.") && !sealed.contains(live.access_token.expose()));
        assert!(
            !format!("{stored:?}").contains("v2."),
            "Debug shows no tokens"
        );

        // An org admin revokes the app's access in Salesforce; sessions end.
        let refresh = live.refresh_token.unwrap();
        let r = reqwest::Client::new()
            .post(format!("{}/services/oauth2/revoke", org.login_url()))
            .form(&[("token", refresh.expose())])
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
        org.expire_sessions();

        let expected = submit(&app, &token, &survey, &fx, 3).await;
        let r = app.sonde.drain_workflows().await.unwrap();
        assert_eq!(r.failed, 3, "{r:?}");
        let runs = app
            .get_json(
                &token,
                &format!("/api/v1/workflows/{wf_id}/runs?status=failed"),
            )
            .await;
        let failed = runs["runs"].as_array().unwrap();
        assert_eq!(failed.len(), 3);
        assert!(
            failed[0]["error"].as_str().unwrap().contains("reconnect"),
            "{runs}"
        );

        // Relink the same connection, retry the runs: they succeed.
        dance(&app, &token, &org, json!({"connectionId": conn})).await;
        for run in failed {
            let id = run["id"].as_str().unwrap();
            let r = app
                .post(
                    &token,
                    &format!("/api/v1/workflows/{wf_id}/runs/{id}/retry"),
                )
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{}", r.text().await.unwrap());
        }
        let r = app.sonde.drain_workflows().await.unwrap();
        assert_eq!(r.succeeded, 3, "{r:?}");
        assert_delivered(&org, &label, &fx.nps_record_type, &expected).await;
        org.shutdown().await;
    }
}

#[tokio::test]
async fn directory_tasks_add_the_respondent_to_a_list() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let survey = app.sample_survey(&token).await;
        let r = app
            .post(&token, "/api/v1/mailing-lists")
            .json(&json!({"name": "Follow-ups"}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let list: Value = r.json().await.unwrap();
        let list_id = list["id"].as_str().unwrap();
        let body = json!({
            "name": "Follow-up list",
            "conditions": {"type": "answer", "question": "QID10", "op": "is_not_empty"},
            "tasks": [{"type": "directory", "action": "add_to_list", "listId": list_id,
                       "fields": {"email": {"piped": "${q://QID10/ChoiceTextEntryValue}"},
                                  "lastName": {"value": "Respondent"}}}]
        });
        let wf = create_workflow(&app, &token, &survey, &body).await;
        // A task field the directory does not know is refused by name.
        let mut bad = body.clone();
        bad["tasks"][0]["fields"]["shoeSize"] = json!({"value": "42"});
        let r = app
            .post(&token, &format!("/api/v1/surveys/{survey}/workflows"))
            .json(&bad)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 400);
        assert!(r.text().await.unwrap().contains("tasks[0].fields.shoeSize"));

        let def = survey::sample::sample_definition();
        let answers = sonde::bench::complete_answers(&def);
        let r = app
            .post(&token, &format!("/api/v1/surveys/{survey}/responses"))
            .json(&json!({"answers": answers, "finished": true}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let report = app.sonde.drain_workflows().await.unwrap();
        assert_eq!(report.succeeded, 1, "{report:?}");
        let members = app
            .get_json(&token, &format!("/api/v1/contacts?listId={list_id}"))
            .await;
        assert!(
            members.to_string().contains("respondent@example.com"),
            "{members}"
        );
        let runs = app
            .get_json(
                &token,
                &format!("/api/v1/workflows/{}/runs", wf["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(runs["runs"][0]["tasks"][0]["status"], "succeeded", "{runs}");
    }
}

#[tokio::test]
async fn the_reserve_of_the_daily_budget_is_left_untouched() {
    let org = start_org().await;
    let app = TestApp::spawn(Backend::Sqlite).await;
    configure(&app, &org);
    let mut settings = app.sonde.salesforce_settings();
    settings.api_reserve = 0.5;
    app.sonde.configure_salesforce(settings);
    let (_, token) = app.org_user(Role::Editor).await;
    let survey = app.sample_survey(&token).await;
    let conn = link(&app, &token, &org).await;
    let fx = fixture(&org).await;
    // Half the allocation is already spent by the time the workflow is saved.
    let (used, _) = org.api_usage();
    org.set_daily_api_limit(used * 2 + 1);
    create_workflow(
        &app,
        &token,
        &survey,
        &mapping(&conn, &fx.nps_record_type, "reserve"),
    )
    .await;
    submit(&app, &token, &survey, &fx, 10).await;
    org.reset_calls();
    let r = app.sonde.drain_workflows().await.unwrap();
    assert_eq!((r.deferred, r.succeeded, r.failed), (10, 0, 0), "{r:?}");
    assert_eq!(org.calls_to("collections.upsert"), 0);
    let listed = app.get_json(&token, "/api/v1/salesforce/connections").await;
    let c = &listed["connections"][0];
    assert!(c["pausedUntil"].as_i64().unwrap() > store::now_ms(), "{c}");
    assert!(c["lastError"].as_str().unwrap().contains("reserve"), "{c}");
    org.shutdown().await;
}

#[tokio::test]
async fn closing_an_abandoned_response_fires_incomplete_closed_workflows() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let survey = app.sample_survey(&token).await;
        let wf = create_workflow(
            &app,
            &token,
            &survey,
            &json!({
                "name": "Chase abandoned",
                "event": "incomplete_closed",
                "tasks": [{"type": "directory", "action": "upsert_contact",
                           "fields": {"email": {"value": "abandoned@example.com"},
                                      "lastName": {"piped": "${e://Field/ContactId}"}}}]
            }),
        )
        .await;
        let page = app
            .client
            .get(app.url(&format!("/s/{survey}?ContactId=003abandoned")))
            .send()
            .await
            .unwrap();
        assert_eq!(page.status(), 200);
        // The respondent answers the first page and leaves.
        let fields = vec![("QID3".into(), "10".into()), ("QID4".into(), "1".into())];
        let (status, _) =
            crate::harness::submit(&app, &survey, &page.text().await.unwrap(), fields).await;
        assert_eq!(status, 200);
        // Nothing fires while the response is open.
        assert_eq!(app.sonde.drain_workflows().await.unwrap().claimed, 0);
        app.sonde
            .store
            .execute_raw("UPDATE responses SET expires_at = 1 WHERE status = 'in_progress'")
            .await
            .unwrap();
        assert_eq!(app.sonde.close_abandoned_responses().await.unwrap(), 1);
        let r = app.sonde.drain_workflows().await.unwrap();
        assert_eq!(r.succeeded, 1, "{r:?}");
        let runs = app
            .get_json(
                &token,
                &format!("/api/v1/workflows/{}/runs", wf["id"].as_str().unwrap()),
            )
            .await;
        assert_eq!(runs["runs"][0]["trigger"], "incomplete_closed", "{runs}");
        let contacts = app.get_json(&token, "/api/v1/contacts").await;
        assert!(contacts.to_string().contains("003abandoned"), "{contacts}");
    }
}

#[tokio::test]
async fn changing_a_recorded_response_fires_response_updated_workflows_each_time() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        // The workflow reads two fields the API sets: the flow declares them.
        let mut def = survey::sample::sample_definition();
        def.flow.insert(
            0,
            serde_json::from_value(json!({"type": "embedded_data", "fields": [
                {"name": "Email"}, {"name": "Tier"}
            ]}))
            .unwrap(),
        );
        let survey = app.create_survey(&token, &def).await;
        let wf = create_workflow(
            &app,
            &token,
            &survey,
            &json!({
                "name": "Follow changes",
                "event": "response_updated",
                "tasks": [{"type": "directory", "action": "upsert_contact",
                           "fields": {"email": {"piped": "${e://Field/Email}"},
                                      "lastName": {"piped": "${e://Field/Tier}"}}}]
            }),
        )
        .await;
        let wf_id = wf["id"].as_str().unwrap();
        let created: Value = app
            .post(&token, &format!("/api/v1/surveys/{survey}/responses"))
            .json(&json!({"embeddedData": {"Email": "changed@example.com", "Tier": "silver"}, "finished": false}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let rid = created["responseId"].as_str().unwrap();
        // Recording it is not an update.
        assert_eq!(app.sonde.drain_workflows().await.unwrap().claimed, 0);
        for tier in ["gold", "platinum"] {
            let r = app
                .client
                .patch(app.url(&format!("/api/v1/surveys/{survey}/responses/{rid}")))
                .bearer_auth(&token)
                .json(&json!({"embeddedData": {"Tier": tier}}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 200, "{backend:?}");
            // Distinct millisecond timestamps make distinct firings.
            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
            let report = app.sonde.drain_workflows().await.unwrap();
            assert_eq!(report.succeeded, 1, "{backend:?}: {report:?}");
            let contacts = app.get_json(&token, "/api/v1/contacts").await;
            assert!(contacts.to_string().contains(tier), "{contacts}");
        }
        let runs = app
            .get_json(&token, &format!("/api/v1/workflows/{wf_id}/runs"))
            .await;
        assert_eq!(runs["runs"].as_array().unwrap().len(), 2, "{runs}");
        assert_eq!(runs["runs"][0]["trigger"], "response_updated");
    }
}
