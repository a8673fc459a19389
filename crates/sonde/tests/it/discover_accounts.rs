//! Inbound jobs with their own Salesforce account and what came with it (issue #12): a job
//! signing in with the password grant loads documents and never answers its secrets; mapping
//! transforms and a filter shape what is stored; an API version is checked against the org's
//! list; an expired credential fails the run without a call to Salesforce and reminds the
//! owner by email; runs' ends are mailed; deleted records come in through queryAll.

use crate::discover::{post, project, run_job};
use crate::distributions::catcher::Catcher;
use crate::harness::{backends, linked_org, sfsim_admin, start_sfsim, use_sfsim, TestApp};
use engine::Role;
use serde_json::{json, Value};

/// The built-in org's connected app and admin as a job's own account.
fn account_of(sf: &sfsim::RunningOrg) -> Value {
    json!({
        "clientId": sf.client_id(), "clientSecret": sf.client_secret(),
        "username": sf.username(), "password": sf.password(), "loginUrl": sf.login_url()
    })
}

/// Cases marked with `mark` (their SuppliedName), so a query reads only the test's own.
async fn cases(sf: &sfsim::RunningOrg, mark: &str, rows: &[(&str, &str)]) -> Vec<String> {
    let admin = sfsim_admin(sf);
    let mut ids = Vec::new();
    for (subject, status) in rows {
        let id = admin
            .create(
                "Case",
                &json!({"Subject": subject, "Status": status, "SuppliedName": mark,
                        "Description": format!("About {subject}")}),
            )
            .await
            .unwrap();
        ids.push(id);
    }
    ids
}

fn case_query(mark: &str) -> String {
    format!("SELECT Id, Subject, Status, Description, CreatedDate FROM Case WHERE SuppliedName = '{mark}'")
}

/// An editor's app that may reach a fresh built-in org (not linked).
async fn app_and_org(
    backend: crate::harness::Backend,
) -> (TestApp, engine::Actor, String, sfsim::RunningOrg) {
    let app = TestApp::spawn(backend).await;
    let (actor, token) = app.org_user(Role::Editor).await;
    let sf = start_sfsim().await;
    use_sfsim(&app, &sf);
    (app, actor, token, sf)
}

fn documents_of(v: &Value) -> Vec<Value> {
    v["documents"].as_array().cloned().unwrap_or_default()
}

#[tokio::test]
async fn a_job_with_its_own_account_loads_transformed_filtered_documents_and_never_answers_its_secrets(
) {
    for backend in backends() {
        let (app, actor, token, sf) = app_and_org(backend).await;
        cases(
            &sf,
            "acct",
            &[
                ("  Broken Kettle  ", "Closed"),
                ("Lost parcel", "New"),
                ("Late van", "Closed"),
            ],
        )
        .await;
        let project = project(&app, &token, "Account cases").await;
        let account = account_of(&sf);

        // The query is checked through the account, before any job exists.
        let (s, v) = post(
            &app,
            &token,
            "/api/v1/discover/validate-query",
            json!({"account": account, "soql": case_query("acct")}),
        )
        .await;
        assert_eq!((s, v["valid"].clone()), (200, json!(true)), "{v}");
        // A wrong password is Salesforce's refusal, named on the account.
        let mut wrong = account.clone();
        wrong["password"] = json!("not-it");
        let (s, v) = post(
            &app,
            &token,
            "/api/v1/discover/validate-query",
            json!({"account": wrong, "soql": case_query("acct")}),
        )
        .await;
        assert_eq!(s, 400, "{v}");
        assert!(v.to_string().contains("invalid_grant"), "{v}");

        // The picker's versions, through the account before the job exists.
        let (s, v) = post(
            &app,
            &token,
            "/api/v1/discover/versions",
            json!({"account": account}),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        let versions: Vec<String> = v["versions"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v["version"].as_str().unwrap().to_string())
            .collect();
        assert!(versions.len() > 3, "{v}");
        let older = versions[versions.len() - 2].clone();
        let job = |extra: Value| {
            let mut j = json!({
                "name": "Cases by account", "projectId": project, "account": account,
                "dataType": "feedback", "soql": case_query("acct"),
                "mappings": {
                    "subject": {"field": "Subject", "transform": "trim"},
                    "status": {"field": "Status", "transform": "lowercase"},
                    "shout": {"field": "Status", "transform": "uppercase"},
                    "ref": {"field": "Status", "transform": {"prefix": "status-"}},
                    "day": {"field": "CreatedDate", "transform": "date"},
                    "channel": {"value": "Web"},
                    "raw": "Subject"
                },
                "filter": [{"attribute": "status", "op": "equals", "value": "closed"}],
                "apiVersion": older
            });
            for (k, v) in extra.as_object().unwrap() {
                j[k] = v.clone();
            }
            j
        };
        // What cannot hold is refused by field.
        let refused = |extra: Value| {
            let app = &app;
            let token = &token;
            let body = job(extra);
            async move {
                let (s, v) = post(app, token, "/api/v1/discover/jobs", body).await;
                assert_eq!(s, 400, "{v}");
                v.to_string()
            }
        };
        let v = refused(json!({"apiVersion": "12.0"})).await;
        assert!(v.contains("apiVersion") && v.contains("12.0"), "{v}");
        let v = refused(json!({"filter": [{"attribute": "Status", "op": "equals", "value": "x"}]}))
            .await;
        assert!(v.contains("filter[0].attribute"), "{v}");
        let v = refused(json!({"reminderDaysBefore": 0})).await;
        assert!(v.contains("reminderDaysBefore"), "{v}");
        let v = refused(json!({"reminderDaysBefore": 101})).await;
        assert!(v.contains("reminderDaysBefore"), "{v}");
        let v = refused(json!({"connectionId": "SC_x"})).await;
        assert!(v.contains("connectionId"), "{v}");

        let r = app
            .post(&token, "/api/v1/discover/jobs")
            .json(&job(json!({})))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let text = r.text().await.unwrap();
        let created: Value = serde_json::from_str(&text).unwrap();
        let secret = sf.client_secret().to_string();
        let password = sf.password().to_string();
        assert!(
            !text.contains(&secret) && !text.contains(&password),
            "{text}"
        );
        assert_eq!(created["account"]["hasPassword"], true, "{text}");
        assert_eq!(created["account"]["hasClientSecret"], true, "{text}");
        assert_eq!(created["apiVersion"], json!(older));
        let listed = app
            .get(&token, "/api/v1/discover/jobs")
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        assert!(!listed.contains(&secret) && !listed.contains(&password));
        // At rest the secrets are sealed, apart from the settings.
        let id = created["id"].as_str().unwrap();
        let row = app
            .sonde
            .store
            .discover_job_account(id)
            .await
            .unwrap()
            .unwrap();
        assert!(!row.client_secret.contains(&secret) && !row.password.contains(&password));
        let stored = app
            .sonde
            .store
            .discover_job(&actor.org_id, id)
            .await
            .unwrap()
            .unwrap();
        assert!(!stored.settings.contains(&secret) && !stored.settings.contains(&password));

        let run = run_job(&app, &token, id).await;
        assert_eq!(run["status"], "succeeded", "{run}");
        assert_eq!(run["rowsRead"], 3, "{run}");
        assert_eq!(run["filtered"], 1, "{run}");
        assert_eq!(run["documentsCreated"], 2, "{run}");
        let docs = documents_of(
            &app.get_json(
                &token,
                &format!("/api/v1/discover/projects/{project}/documents"),
            )
            .await,
        );
        assert_eq!(docs.len(), 2, "{docs:?}");
        let kettle = docs
            .iter()
            .find(|d| d["attributes"]["raw"] == "  Broken Kettle  ")
            .expect("the kettle case");
        let a = &kettle["attributes"];
        assert_eq!(a["subject"], "Broken Kettle");
        assert_eq!(a["status"], "closed");
        assert_eq!(a["shout"], "CLOSED");
        assert_eq!(a["ref"], "status-Closed");
        assert_eq!(a["channel"], "Web");
        let today = chrono::Utc::now().format("%Y-%m-%d").to_string();
        assert_eq!(a["day"], json!(today));
        assert!(docs.iter().all(|d| d["attributes"]["status"] == "closed"));
    }
}

#[tokio::test]
async fn an_expired_credential_fails_the_run_without_calling_salesforce_and_mail_tells_people() {
    let Some(catcher) = Catcher::start(&[], &[]) else {
        return;
    };
    for backend in backends() {
        let (app, actor, token, sf) = app_and_org(backend).await;
        let owner = actor.email.clone();
        app.sonde.set_mailer(Some(catcher.mailer()));
        let before = catcher.received().len();
        cases(&sf, "exp", &[("Broken kettle", "Closed")]).await;
        let project = project(&app, &token, "Expiring").await;
        let yesterday = (chrono::Utc::now() - chrono::Duration::days(1)).date_naive();
        let (s, job) = post(
            &app,
            &token,
            "/api/v1/discover/jobs",
            json!({"name": "Expired account", "projectId": project, "account": account_of(&sf),
                   "dataType": "feedback", "soql": case_query("exp"),
                   "credentialExpiresOn": yesterday.to_string(), "reminderDaysBefore": 10,
                   "notify": {"emails": ["ops@example.com"], "on": ["failure"]}}),
        )
        .await;
        assert_eq!(s, 201, "{job}");
        let id = job["id"].as_str().unwrap();

        sf.reset_calls();
        let run = run_job(&app, &token, id).await;
        assert_eq!(run["status"], "failed", "{run}");
        assert_eq!(
            run["error"],
            json!(format!(
                "the job's Salesforce credential expired on {yesterday}; enter a new one"
            )),
            "{run}"
        );
        assert_eq!(sf.calls().values().sum::<u64>(), 0, "{:?}", sf.calls());

        // One reminder per expiry date however often the check runs.
        let now = store::now_ms();
        assert_eq!(app.sonde.queue_credential_reminders(now).await.unwrap(), 1);
        assert_eq!(
            app.sonde
                .queue_credential_reminders(now + 60_000)
                .await
                .unwrap(),
            0
        );
        app.sonde.drain_distributions().await.unwrap();
        let got = catcher.wait_for(before + 2).await;
        let mine = &got[before..];
        let subject = |m: &crate::distributions::catcher::Received| {
            m.parsed().subject().unwrap_or_default().to_string()
        };
        let reminder = mine
            .iter()
            .find(|m| m.to() == owner)
            .expect("a reminder to the owner");
        assert!(
            subject(reminder).contains(&format!("expired on {yesterday}")),
            "{}",
            subject(reminder)
        );
        let failure = mine
            .iter()
            .find(|m| m.to() == "ops@example.com")
            .expect("the failure notice");
        assert!(subject(failure).contains("failed"), "{}", subject(failure));
        let body = failure
            .parsed()
            .body_text(0)
            .unwrap_or_default()
            .to_string();
        assert!(body.contains("credential expired"), "{body}");

        // A new credential, expiring later: the next run reads, and success is mailed when
        // asked for.
        let later = (chrono::Utc::now() + chrono::Duration::days(60)).date_naive();
        let r = app
            .put(&token, &format!("/api/v1/discover/jobs/{id}/credential"))
            .json(&json!({"account": account_of(&sf), "credentialExpiresOn": later.to_string()}))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let text = r.text().await.unwrap();
        assert!(!text.contains(sf.password()), "{text}");
        let run = run_job(&app, &token, id).await;
        assert_eq!(run["status"], "succeeded", "{run}");
        assert_eq!(app.sonde.queue_credential_reminders(now).await.unwrap(), 0);

        let (s, ok_job) = post(
            &app,
            &token,
            "/api/v1/discover/jobs",
            json!({"name": "Told on success", "projectId": project, "account": account_of(&sf),
                   "dataType": "feedback", "soql": case_query("exp"), "duplicates": "replace",
                   "notify": {"emails": ["team@example.com"], "on": ["success"]}}),
        )
        .await;
        assert_eq!(s, 201, "{ok_job}");
        let run = run_job(&app, &token, ok_job["id"].as_str().unwrap()).await;
        assert_eq!(run["status"], "succeeded", "{run}");
        app.sonde.drain_distributions().await.unwrap();
        let got = catcher.wait_for(before + 3).await;
        let success = got[before..]
            .iter()
            .find(|m| m.to() == "team@example.com")
            .expect("the success notice");
        assert!(
            subject(success).contains("succeeded"),
            "{}",
            subject(success)
        );
        let body = success
            .parsed()
            .body_text(0)
            .unwrap_or_default()
            .to_string();
        assert!(body.contains("Rows read: 1"), "{body}");
        // Exactly three: the failure of the first job's success was not asked for.
        assert_eq!(got.len() - before, 3);
    }
}

#[tokio::test]
async fn deleted_records_come_in_through_query_all_marked_deleted() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let (sf, connection) = linked_org(&app, &token).await;
        // The picker's versions are the org's.
        let v = app
            .get_json(
                &token,
                &format!("/api/v1/discover/connections/{connection}/versions"),
            )
            .await;
        let versions = v["versions"].as_array().unwrap();
        assert!(versions.len() > 3, "{v}");
        let newest = versions.last().unwrap()["version"].clone();

        let ids = cases(&sf, "del", &[("Kept", "New"), ("Gone", "New")]).await;
        sfsim_admin(&sf).delete("Case", &ids[1]).await.unwrap();
        let project = project(&app, &token, "Deleted too").await;
        let soql = "SELECT Id, Subject, CreatedDate FROM Case WHERE SuppliedName = 'del'";
        let mut loaded = Vec::new();
        for include in [false, true] {
            let (s, job) = post(
                &app,
                &token,
                "/api/v1/discover/jobs",
                json!({"name": format!("Cases, deleted too: {include}"), "projectId": project,
                       "connectionId": connection, "dataType": "feedback", "soql": soql,
                       "includeDeleted": include, "apiVersion": newest,
                       "duplicates": "replace", "mappings": {"subject": "Subject"}}),
            )
            .await;
            assert_eq!(s, 201, "{job}");
            let run = run_job(&app, &token, job["id"].as_str().unwrap()).await;
            assert_eq!(run["status"], "succeeded", "{run}");
            loaded.push(run["rowsRead"].clone());
        }
        assert_eq!(loaded, [json!(1), json!(2)]);
        let docs = documents_of(
            &app.get_json(
                &token,
                &format!("/api/v1/discover/projects/{project}/documents"),
            )
            .await,
        );
        let deleted = |subject: &str| {
            docs.iter()
                .find(|d| d["attributes"]["subject"] == subject)
                .map(|d| d["attributes"]["deleted"].clone())
        };
        assert_eq!(deleted("Gone"), Some(json!(true)), "{docs:?}");
        assert_eq!(deleted("Kept"), Some(json!(false)), "{docs:?}");
    }
}
