//! The inbound connector (issue #12) through HTTP against the built-in org: a query checked
//! before a job is saved (syntax errors with their position, GROUP BY refused, unknown fields
//! named), a chat job whose first run loads every transcript as turns with the right roles and
//! card numbers and emails masked, and an incremental run that reads exactly what changed —
//! records edited since, and records written at the cursor's very timestamp.

use crate::harness::{backends, linked_org, sfsim_admin, TestApp};
use engine::Role;
use serde_json::{json, Value};

/// A transcript as Salesforce writes a chat's Body: the header, then `( Ns ) Name: text`.
fn transcript(n: usize, visitor_says: &str) -> String {
    format!(
        "<p align=\"center\">Chat Started: Monday, March 02, 2026, 10:15:03 (+0000)</p>\
         <p align=\"center\">Chat Origin: Web Chat</p><p align=\"center\">Agent Jane D</p>\
         ( 5s ) Jane D: Hello, how can I help with order {n}?<br>\
         ( 12s ) Sam Visitor {n}: {visitor_says}<br>\
         ( 20s ) Jane D: Sorry about that &amp; thanks, write to jane@example.com<br>"
    )
}

pub(crate) async fn post(app: &TestApp, token: &str, path: &str, body: Value) -> (u16, Value) {
    let r = app.post(token, path).json(&body).send().await.unwrap();
    let status = r.status().as_u16();
    (status, r.json().await.unwrap_or(Value::Null))
}

/// An editor whose app is linked to a fresh built-in org.
struct Linked {
    sf: sfsim::RunningOrg,
    app: TestApp,
    token: String,
    connection: String,
}

impl Linked {
    async fn new(backend: crate::harness::Backend) -> Self {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let (sf, connection) = linked_org(&app, &token).await;
        Linked {
            sf,
            app,
            token,
            connection,
        }
    }
}

/// A new project; its id.
pub(crate) async fn project(app: &TestApp, token: &str, name: &str) -> String {
    let (s, v) = post(
        app,
        token,
        "/api/v1/discover/projects",
        json!({"name": name}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_str().unwrap().to_string()
}

/// Starts a run of `job`, works it, and answers it as the API reports it.
pub(crate) async fn run_job(app: &TestApp, token: &str, job: &str) -> Value {
    let (s, v) = post(
        app,
        token,
        &format!("/api/v1/discover/jobs/{job}/runs"),
        json!({}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    app.sonde.drain_discover_runs().await.unwrap();
    let id = v["id"].as_str().unwrap();
    app.get_json(token, &format!("/api/v1/discover/runs/{id}"))
        .await
}

#[tokio::test]
async fn a_chat_job_loads_transcripts_as_turns_and_an_incremental_run_reads_only_what_changed() {
    for backend in backends() {
        let Linked {
            sf,
            app,
            token,
            connection,
        } = Linked::new(backend).await;
        let admin = sfsim_admin(&sf);
        let mut chats = Vec::new();
        for n in 0..30 {
            let id = admin
                .create(
                    "LiveChatTranscript",
                    &json!({"Body": transcript(n, "I was charged twice on 4111 1111 1111 1111"),
                            "Status": "Completed", "Location": "Lyon"}),
                )
                .await
                .unwrap();
            chats.push(id);
        }

        // The query is checked before anything is saved.
        let check = |soql: &str| json!({"connectionId": connection, "soql": soql});
        let (s, v) = post(
            &app,
            &token,
            "/api/v1/discover/validate-query",
            check("SELECT Id, Body FROM LiveChatTranscript WHERE"),
        )
        .await;
        assert_eq!(s, 200, "{v}");
        assert_eq!(v["valid"], false, "{v}");
        assert_eq!(v["error"]["line"], 1, "{v}");
        assert!(v["error"]["column"].as_u64().unwrap() > 40, "{v}");
        let (_, v) = post(
            &app,
            &token,
            "/api/v1/discover/validate-query",
            check("SELECT Status, COUNT(Id) FROM LiveChatTranscript GROUP BY Status"),
        )
        .await;
        assert_eq!(v["valid"], false, "{v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains("COUNT"),
            "{v}"
        );
        let (_, v) = post(
            &app,
            &token,
            "/api/v1/discover/validate-query",
            check("SELECT Id,\n  Body, Sentiment__c FROM LiveChatTranscript"),
        )
        .await;
        assert_eq!(v["valid"], false, "{v}");
        assert_eq!(v["problems"][0]["field"], "Sentiment__c", "{v}");
        assert_eq!(
            (&v["problems"][0]["line"], &v["problems"][0]["column"]),
            (&json!(2), &json!(9)),
            "{v}"
        );
        // The demo org's own chats are elsewhere.
        let soql = "SELECT Id, Body, Status, EndTime, LastModifiedDate FROM LiveChatTranscript \
                    WHERE Location = 'Lyon'";
        let (_, v) = post(&app, &token, "/api/v1/discover/validate-query", check(soql)).await;
        assert_eq!(v["valid"], true, "{v}");
        assert_eq!(v["object"], "LiveChatTranscript");
        let offered: Vec<&str> = v["dateFields"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(Value::as_str)
            .collect();
        assert!(
            offered.contains(&"LastModifiedDate") && offered.contains(&"EndTime"),
            "{v}"
        );

        let project = project(&app, &token, "Chats").await;
        let job = json!({"name": "Web chats", "projectId": project, "connectionId": connection,
            "dataType": "chat", "soql": soql, "dateField": "LastModifiedDate",
            "participants": "auto", "redact": ["card", "iban", "email", "phone", "ssn"],
            "mappings": {"chat_status": "Status"}, "duplicates": "update",
            "schedule": "0 0 * * * *"});
        let mut bad = job.clone();
        bad["schedule"] = json!("every hour");
        let (s, v) = post(&app, &token, "/api/v1/discover/jobs", bad).await;
        assert_eq!(s, 400, "{v}");
        assert_eq!(v["error"]["problems"][0]["field"], "schedule", "{v}");
        let (s, v) = post(&app, &token, "/api/v1/discover/jobs", job).await;
        assert_eq!(s, 201, "{v}");
        let job = v["id"].as_str().unwrap().to_string();

        // A sample shows rows as they would be stored, before anything is.
        let r = app
            .get(
                &token,
                &format!("/api/v1/discover/jobs/{job}/sample?rows=5"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let sample = r.text().await.unwrap();
        let mut lines = csv::Reader::from_reader(sample.as_bytes());
        let header = lines.headers().unwrap().clone();
        assert_eq!(
            (&header[0], &header[1]),
            ("natural_id", "document_date"),
            "{sample}"
        );
        assert!(header.iter().any(|h| h == "chat_status") && header.iter().any(|h| h == "text"));
        assert_eq!(lines.records().count(), 5, "{sample}");
        assert!(
            sample.contains("[CARD]") && !sample.contains("4111"),
            "{sample}"
        );
        assert!(sample.contains("agent Jane D: Hello"), "{sample}");
        assert_eq!(
            app.get_json(
                &token,
                &format!("/api/v1/discover/projects/{project}/documents")
            )
            .await["documents"],
            json!([]),
            "a sample stores nothing"
        );

        // The first run loads every transcript, roles told apart, sensitive text masked.
        let first = run_job(&app, &token, &job).await;
        assert_eq!(first["status"], "succeeded", "{first}");
        assert_eq!(
            (&first["rowsRead"], &first["documentsCreated"]),
            (&json!(30), &json!(30)),
            "{first}"
        );
        assert!(first["redactions"].as_u64().unwrap() >= 60, "{first}");
        assert!(first["apiCalls"].as_u64().unwrap() >= 1, "{first}");
        let docs = app
            .get_json(
                &token,
                &format!("/api/v1/discover/projects/{project}/documents?limit=100"),
            )
            .await;
        let docs = docs["documents"].as_array().unwrap();
        assert_eq!(docs.len(), 30);
        let doc = docs
            .iter()
            .find(|d| d["naturalId"] == chats[3].as_str())
            .unwrap();
        let roles: Vec<&str> = doc["turns"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["role"].as_str().unwrap())
            .collect();
        assert_eq!(roles, ["agent", "client", "agent"], "{doc}");
        let text = doc.to_string();
        assert!(
            !text.contains("4111") && !text.contains("jane@example.com"),
            "{text}"
        );
        assert!(
            text.contains("[CARD]") && text.contains("[EMAIL]") && text.contains("thanks"),
            "{text}"
        );
        assert_eq!(doc["attributes"]["feedback_provider"], "Salesforce");
        assert_eq!(doc["attributes"]["feedback_type"], "Operational Reporting");
        assert_eq!(doc["attributes"]["job_name"], "Web chats");
        assert_eq!(doc["attributes"]["chat_status"], "Completed");
        assert!(doc["attributes"]["client_verbatim"]
            .as_str()
            .unwrap()
            .contains("charged twice"));
        let found = app
            .get_json(
                &token,
                &format!("/api/v1/discover/projects/{project}/documents?q=charged%20twice"),
            )
            .await;
        assert_eq!(found["documents"].as_array().unwrap().len(), 30, "{found}");
        let none = app
            .get_json(
                &token,
                &format!("/api/v1/discover/projects/{project}/documents?q=4111"),
            )
            .await;
        assert_eq!(
            none["documents"].as_array().unwrap().len(),
            0,
            "the original is kept nowhere: {none}"
        );

        // Ten edited later, ten written at the cursor's own timestamp: the next run reads those
        // twenty, and the rows its lookback reads again unchanged are not counted.
        sf.advance(std::time::Duration::from_secs(3600));
        for id in &chats[..10] {
            admin
                .update(
                    "LiveChatTranscript",
                    id,
                    &json!({"Body": transcript(99, "Fixed, thanks")}),
                )
                .await
                .unwrap();
        }
        let boundary = sf.now_ms();
        for n in 30..40 {
            sf.set_time_ms(boundary);
            admin
                .create(
                    "LiveChatTranscript",
                    &json!({"Body": transcript(n, "Where is my parcel?"), "Status": "Completed", "Location": "Lyon"}),
                )
                .await
                .unwrap();
        }
        let second = run_job(&app, &token, &job).await;
        assert_eq!(second["status"], "succeeded", "{second}");
        assert_eq!(
            (&second["documentsCreated"], &second["documentsUpdated"]),
            (&json!(10), &json!(10)),
            "{second}"
        );
        let edited = app
            .get_json(
                &token,
                &format!("/api/v1/discover/projects/{project}/documents?q=Fixed"),
            )
            .await;
        assert_eq!(
            edited["documents"].as_array().unwrap().len(),
            10,
            "{edited}"
        );
        let third = run_job(&app, &token, &job).await;
        assert_eq!(
            (&third["documentsCreated"], &third["documentsUpdated"]),
            (&json!(0), &json!(0)),
            "nothing changed since: {third}"
        );
        sf.shutdown().await;
    }
}

#[tokio::test]
async fn a_messaging_job_reads_each_sessions_conversation_entries_as_turns() {
    for backend in backends() {
        let Linked {
            sf,
            app,
            token,
            connection,
        } = Linked::new(backend).await;
        let project = project(&app, &token, "Messaging").await;
        let (s, v) = post(
            &app,
            &token,
            "/api/v1/discover/jobs",
            json!({
            "name": "Enhanced messaging", "projectId": project, "connectionId": connection,
            "dataType": "messaging", "soql": "SELECT Id, Status, CreatedDate FROM MessagingSession",
            "redact": ["card", "email", "phone"]}),
        )
        .await;
        assert_eq!(s, 201, "{v}");
        sf.reset_calls();
        let run = run_job(&app, &token, v["id"].as_str().unwrap()).await;
        assert_eq!(run["status"], "succeeded", "{run}");
        // The demo org's 24 sessions, their entries read in one query for the page; the four
        // older ones have none, which the run says.
        assert_eq!(run["documentsCreated"], 24, "{run}");
        let warned = run["warnings"].as_array().unwrap();
        assert_eq!(warned.len(), 4, "{run}");
        assert!(warned
            .iter()
            .all(|w| w.as_str().unwrap().ends_with("no conversation entries")));
        assert_eq!(sf.calls_to("query"), 2, "{:?}", sf.calls());
        let docs = app
            .get_json(
                &token,
                &format!("/api/v1/discover/projects/{project}/documents?limit=100"),
            )
            .await;
        let docs = docs["documents"].as_array().unwrap();
        assert_eq!(docs.len(), 24);
        let admin = sfsim_admin(&sf);
        let mut conversations = 0;
        for doc in docs {
            let id = doc["naturalId"].as_str().unwrap();
            let entries: Vec<Value> = futures::TryStreamExt::try_collect(admin.query::<Value>(
                &format!("SELECT Id FROM ConversationEntry WHERE ConversationId = '{id}'"),
            ))
            .await
            .unwrap();
            let turns = doc["turns"].as_array().unwrap();
            assert_eq!(turns.len(), entries.len(), "{doc}");
            if !turns.is_empty() {
                conversations += 1;
                assert!(turns.iter().any(|t| t["role"] == "client"), "{doc}");
            }
        }
        assert_eq!(conversations, 20);
        let all = serde_json::to_string(docs).unwrap();
        assert!(
            all.contains("\"role\":\"agent\"") && all.contains("\"role\":\"bot\""),
            "{all}"
        );
        sf.shutdown().await;
    }
}

#[tokio::test]
async fn a_scheduled_job_is_run_when_its_schedule_comes_due_and_only_once() {
    for backend in backends() {
        let Linked {
            sf,
            app,
            token,
            connection,
        } = Linked::new(backend).await;
        let project = project(&app, &token, "Cases").await;
        let job = |schedule: Value| {
            json!({"name": "Case descriptions", "projectId": project, "connectionId": connection,
                   "dataType": "feedback", "soql": "SELECT Id, Description, CreatedDate FROM Case",
                   "redact": ["card", "email", "phone"], "schedule": schedule})
        };
        let (s, hourly) = post(
            &app,
            &token,
            "/api/v1/discover/jobs",
            job(json!("0 0 * * * *")),
        )
        .await;
        assert_eq!(s, 201, "{hourly}");
        let (s, _) = post(&app, &token, "/api/v1/discover/jobs", job(Value::Null)).await;
        assert_eq!(s, 201);
        let now = chrono::Utc::now().timestamp_millis();
        let hours = |n: i64| now + n * 3_600_000;
        // Not due before the next full hour; due after it, once however often it is looked at.
        assert_eq!(app.sonde.fire_due_discover_schedules(now).await.unwrap(), 0);
        assert_eq!(
            app.sonde
                .fire_due_discover_schedules(hours(2))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            app.sonde
                .fire_due_discover_schedules(hours(2))
                .await
                .unwrap(),
            0
        );
        app.sonde.drain_discover_runs().await.unwrap();
        let runs = app
            .get_json(
                &token,
                &format!(
                    "/api/v1/discover/jobs/{}/runs",
                    hourly["id"].as_str().unwrap()
                ),
            )
            .await;
        let runs = runs["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 1, "{runs:?}");
        assert_eq!(runs[0]["status"], "succeeded", "{runs:?}");
        assert!(
            runs[0]["redactions"].as_u64().unwrap() > 0,
            "the demo's feedback has card numbers: {runs:?}"
        );
        // That moment has fired: another look, here or on another node, queues nothing more
        // (the unscheduled job never ran: one run was queued above, not two).
        assert_eq!(
            app.sonde
                .fire_due_discover_schedules(hours(2))
                .await
                .unwrap(),
            0
        );
        sf.shutdown().await;
    }
}
