//! Inbound pulls sized by COUNT(): a large one read through Bulk API 2.0 (unordered results,
//! several pages, every row once, few calls), the next incremental one through query/queryMore;
//! a pull that would eat into the org's reserved API budget waits instead.

use crate::discover::{post, project, run_job, Linked};
use crate::harness::backends;
use serde_json::{json, Value};

/// `n` more chat transcripts in the org, `per_second` sharing each creation second.
async fn generate_chats(sf: &sfsim::RunningOrg, n: usize, per_second: usize) {
    let r = reqwest::Client::new()
        .post(format!("{}/_sim/generate", sf.base_url()))
        .json(&json!({"object": "LiveChatTranscript", "count": n, "perSecond": per_second}))
        .send()
        .await
        .unwrap();
    assert!(r.status().is_success(), "{}", r.text().await.unwrap());
}

async fn sim_post(sf: &sfsim::RunningOrg, path: &str, body: Value) {
    let r = reqwest::Client::new()
        .post(format!("{}{path}", sf.base_url()))
        .json(&body)
        .send()
        .await
        .unwrap();
    assert!(
        r.status().is_success(),
        "{path}: {}",
        r.text().await.unwrap()
    );
}

async fn chat_job(l: &Linked, project_id: &str, threshold: u64) -> String {
    let (s, v) = post(
        &l.app,
        &l.token,
        "/api/v1/discover/jobs",
        json!({"name": "All chats", "projectId": project_id, "connectionId": l.connection,
               "dataType": "chat", "soql": "SELECT Id, Body, Status FROM LiveChatTranscript",
               "redact": ["card", "email"], "bulkThreshold": threshold,
               "schedule": "0 0 * * * *"}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    v["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn a_large_pull_reads_through_bulk_api_once_each_and_the_next_incremental_one_by_query() {
    for backend in backends() {
        let l = Linked::new(backend).await;
        // 2,400 transcripts beside the demo's 30, two created in each second, served in
        // results pages of 500: five pages, and ties at every timestamp.
        generate_chats(&l.sf, 2_400, 2).await;
        sim_post(&l.sf, "/_sim/bulk", json!({"defaultMaxRecords": 500})).await;
        let project_id = project(&l.app, &l.token, "Chats").await;
        let job = chat_job(&l, &project_id, 1_500).await;

        let run = run_job(&l.app, &l.token, &job).await;
        assert_eq!(run["status"], "succeeded", "{run}");
        assert_eq!(run["transport"], "bulk", "{run}");
        assert_eq!(run["rowsExpected"], 2_430, "{run}");
        assert_eq!(run["rowsRead"], 2_430, "{run}");
        assert_eq!(run["documentsCreated"], 2_430, "{run}");
        // COUNT(), the job's creation, a few polls, five results pages, its deletion (and the
        // describe on a cold cache): calls by the page, not by the row.
        let calls = run["apiCalls"].as_u64().unwrap();
        assert!((8..=16).contains(&calls), "{run}");
        let docs = l
            .app
            .get_json(
                &l.token,
                &format!("/api/v1/discover/projects/{project_id}/documents?limit=1000&q=duplicate"),
            )
            .await;
        let docs = docs["documents"].as_array().unwrap();
        assert!(!docs.is_empty());
        for d in docs {
            assert!(d["turns"].as_array().unwrap().len() >= 3, "{d}");
        }
        let projects = l.app.get_json(&l.token, "/api/v1/discover/projects").await;
        assert_eq!(projects["projects"][0]["documents"], 2_430, "{projects}");

        // An hour later, 10 more: COUNT() says the window (the lookback and the new 10)
        // is small, so query/queryMore reads it, and only the new ones are created.
        l.sf.advance(std::time::Duration::from_secs(3600));
        generate_chats(&l.sf, 10, 10).await;
        let next = run_job(&l.app, &l.token, &job).await;
        assert_eq!(next["status"], "succeeded", "{next}");
        assert_eq!(next["transport"], "query", "{next}");
        assert_eq!(next["documentsCreated"], 10, "{next}");
        // Read again unchanged: the lookback's 600 and the demo's 30 (made at the org's start).
        assert_eq!(next["unchanged"], 630, "{next}");
        assert_eq!(next["documentsUpdated"], 0, "{next}");
    }
}

#[tokio::test]
async fn a_pull_waits_rather_than_spend_the_reserved_api_budget() {
    let backend = backends().remove(0);
    let l = Linked::new(backend).await;
    generate_chats(&l.sf, 2_400, 4).await;
    let project_id = project(&l.app, &l.token, "Chats").await;
    let job = chat_job(&l, &project_id, 100_000).await;
    // 88 of the org's 100 daily calls used: COUNT() and the first page bring it to 90, the
    // 10% reserve, so the run stops after the page in hand and waits.
    l.sf.set_daily_api_limit(100);
    let admin = crate::harness::sfsim_admin(&l.sf);
    while l.sf.api_usage().0 < 88 {
        admin.count("SELECT COUNT() FROM Contact").await.unwrap();
    }
    let run = run_job(&l.app, &l.token, &job).await;
    assert_eq!(run["status"], "running", "{run}");
    // One page of 500 written (with its checkpoint), then the wait.
    assert_eq!(run["documentsCreated"], 500, "{run}");
    let warnings = run["warnings"].to_string();
    assert!(
        warnings.contains("reserve of the org's daily API budget"),
        "{run}"
    );
    let calls_before = l.sf.api_usage().0;
    assert_eq!(
        l.app.sonde.drain_discover_runs().await.unwrap(),
        0,
        "it waits"
    );
    assert_eq!(l.sf.api_usage().0, calls_before);
}

#[tokio::test]
async fn a_record_limit_takes_the_oldest_conversations_and_the_next_run_goes_on_from_there() {
    let backend = backends().remove(0);
    let l = Linked::new(backend).await;
    // One transcript no parser can read: kept as one unknown turn, with a warning.
    let admin = crate::harness::sfsim_admin(&l.sf);
    admin
        .create(
            "LiveChatTranscript",
            &json!({"Body": "<<< %%% >>>", "Status": "Completed"}),
        )
        .await
        .unwrap();
    let project_id = project(&l.app, &l.token, "Chats").await;
    let (s, v) = post(
        &l.app,
        &l.token,
        "/api/v1/discover/jobs",
        json!({"name": "Ten at a time", "projectId": project_id, "connectionId": l.connection,
               "dataType": "chat", "soql": "SELECT Id, Body FROM LiveChatTranscript",
               "recordLimit": 10}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let job = v["id"].as_str().unwrap().to_string();
    let mut seen = 0;
    let mut warned = Vec::new();
    for round in 0..4 {
        let run = run_job(&l.app, &l.token, &job).await;
        assert_eq!(run["status"], "succeeded", "{run}");
        assert_eq!(
            run["transport"], "query",
            "a limit needs the oldest first: {run}"
        );
        let created = run["documentsCreated"].as_u64().unwrap();
        assert_eq!(
            created,
            if round < 3 { 10 } else { 1 },
            "round {round}: {run}"
        );
        seen += created;
        warned.extend(run["warnings"].as_array().unwrap().clone());
    }
    assert_eq!(seen, 31, "the demo's 30 and the unreadable one, each once");
    assert!(
        warned
            .iter()
            .any(|w| w.as_str().unwrap().contains("kept as one turn")),
        "{warned:?}"
    );
    let docs = l
        .app
        .get_json(
            &l.token,
            &format!("/api/v1/discover/projects/{project_id}/documents?limit=100"),
        )
        .await;
    let odd = docs["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["turns"][0]["text"].as_str().unwrap_or("").contains("%%%"))
        .unwrap_or_else(|| panic!("{docs}"));
    assert_eq!(odd["turns"].as_array().unwrap().len(), 1, "{odd}");
    assert_eq!(odd["turns"][0]["role"], "unknown", "{odd}");
}

#[tokio::test]
async fn a_run_cancelled_mid_pull_stops_after_its_page_and_frees_its_bulk_job() {
    let backend = backends().remove(0);
    let l = Linked::new(backend).await;
    generate_chats(&l.sf, 2_400, 2).await;
    // Five results pages, each a while coming: time to cancel between them.
    sim_post(&l.sf, "/_sim/bulk", json!({"defaultMaxRecords": 500})).await;
    sim_post(
        &l.sf,
        "/_sim/faults",
        json!({"latencyMs": 300, "endpoints": ["bulk.getQueryResults"]}),
    )
    .await;
    let project_id = project(&l.app, &l.token, "Chats").await;
    let job = chat_job(&l, &project_id, 1_000).await;
    let (s, v) = post(
        &l.app,
        &l.token,
        &format!("/api/v1/discover/jobs/{job}/runs"),
        json!({}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let run = v["id"].as_str().unwrap().to_string();
    let sonde = l.app.sonde.clone();
    let worker = tokio::spawn(async move { sonde.drain_discover_runs().await.unwrap() });
    loop {
        let r = l
            .app
            .get_json(&l.token, &format!("/api/v1/discover/runs/{run}"))
            .await;
        if r["documentsCreated"].as_u64().unwrap_or(0) > 0 {
            break;
        }
        assert_ne!(
            r["status"], "succeeded",
            "the pull ended before the cancel: {r}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    let (s, v) = post(
        &l.app,
        &l.token,
        &format!("/api/v1/discover/runs/{run}/cancel"),
        json!({}),
    )
    .await;
    assert_eq!(s, 200, "{v}");
    worker.await.unwrap();
    let done = l
        .app
        .get_json(&l.token, &format!("/api/v1/discover/runs/{run}"))
        .await;
    assert_eq!(done["status"], "cancelled", "{done}");
    let kept = done["documentsCreated"].as_u64().unwrap();
    assert!((500..2_430).contains(&kept), "stopped part-way: {done}");
    assert_eq!(
        l.sf.calls_to("bulk.deleteQueryJob"),
        1,
        "{:?}",
        l.sf.calls()
    );
    // Cancelled runs move no cursor: the next run reads the rest (and the kept as unchanged).
    sim_post(&l.sf, "/_sim/faults", json!({})).await;
    let next = run_job(&l.app, &l.token, &job).await;
    assert_eq!(next["status"], "succeeded", "{next}");
    assert_eq!(
        next["documentsCreated"].as_u64().unwrap() + kept,
        2_430,
        "{next}"
    );
}

#[tokio::test]
async fn a_fixed_document_date_dates_every_document_alike() {
    let backend = backends().remove(0);
    let l = Linked::new(backend).await;
    let project_id = project(&l.app, &l.token, "Chats").await;
    let (s, v) = post(
        &l.app,
        &l.token,
        "/api/v1/discover/jobs",
        json!({"name": "Dated", "projectId": project_id, "connectionId": l.connection,
               "dataType": "chat", "soql": "SELECT Id, Body FROM LiveChatTranscript",
               "fixedDocumentDate": "2026-01-15"}),
    )
    .await;
    assert_eq!(s, 201, "{v}");
    let run = run_job(&l.app, &l.token, v["id"].as_str().unwrap()).await;
    assert_eq!(run["documentsCreated"], 30, "{run}");
    let docs = l
        .app
        .get_json(
            &l.token,
            &format!("/api/v1/discover/projects/{project_id}/documents?limit=100"),
        )
        .await;
    for d in docs["documents"].as_array().unwrap() {
        assert!(
            d["documentDate"]
                .as_str()
                .unwrap()
                .starts_with("2026-01-15"),
            "{d}"
        );
    }
}
