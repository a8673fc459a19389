//! Discover's admin UI (issue #12) on the built-in org's 30 chat transcripts, one a day from
//! 2 March 2026: the project page lists them, search, an attribute's value and a date range
//! narrow them (the same through the API), the CSV export holds exactly the filtered rows,
//! the volume counts add up, a conversation shows its turns by role, another organization
//! sees none of it — and in Chromium at phone and desktop widths, with screenshots.

use crate::harness::{backends, linked_org, sfsim_admin, Backend, TestApp};
use chrono::Datelike;
use engine::Role;
use serde_json::{json, Value};

/// Where the screenshots go, to be looked at.
const SHOTS: &str = "/tmp/discover-ui";

/// The demo org's transcripts pulled into a new project: (project id, job id).
async fn chats_project(app: &TestApp, token: &str, connection: &str) -> (String, String) {
    pulled(
        app,
        token,
        connection,
        "Support chats",
        "SELECT Id, Body, StartTime, Browser FROM LiveChatTranscript",
    )
    .await
}

/// The transcripts `soql` reads pulled (by StartTime) into a new project `name`.
async fn pulled(
    app: &TestApp,
    token: &str,
    connection: &str,
    name: &str,
    soql: &str,
) -> (String, String) {
    let r = app
        .post(token, "/api/v1/discover/projects")
        .json(&json!({"name": name}))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let project = r.json::<Value>().await.unwrap()["id"]
        .as_str()
        .unwrap()
        .to_string();
    let job = json!({"name": "Demo chats", "projectId": project, "connectionId": connection,
        "dataType": "chat", "soql": soql,
        "dateField": "StartTime", "redact": ["card", "email"], "mappings": {"browser": "Browser"}});
    let r = app
        .post(token, "/api/v1/discover/jobs")
        .json(&job)
        .send()
        .await
        .unwrap();
    let v: Value = r.json().await.unwrap();
    let job = v["id"]
        .as_str()
        .unwrap_or_else(|| panic!("{v}"))
        .to_string();
    let r = app
        .post(token, &format!("/api/v1/discover/jobs/{job}/runs"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    app.sonde.drain_discover_runs().await.unwrap();
    (project, job)
}

/// The count the project page heads its documents with.
fn shown_count(html: &str) -> String {
    let at = html
        .find("id=\"document-count\"")
        .expect("a document count");
    let rest = &html[at..];
    let start = rest.find('>').unwrap() + 1;
    let end = rest.find("</h2>").unwrap();
    rest[start..end].to_string()
}

#[tokio::test]
async fn the_project_page_filters_exports_and_charts_the_documents_and_shows_a_conversation() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (me, token) = app.org_user(Role::Editor).await;
        let (sf, connection) = linked_org(&app, &token).await;
        let (project, job) = chats_project(&app, &token, &connection).await;
        let s = app.sign_in(&me.email).await;
        let base = format!("/discover/projects/{project}");

        let (status, list) = app.web_get(&s, "/discover").await;
        assert_eq!(status, 200);
        assert!(list.contains("Support chats"), "{list}");
        // A project made in the UI; a taken name comes back beside the field, as typed.
        let form = |name: &'static str| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .post(app.url("/discover/projects"))
                .header("cookie", format!("sonde_session={}", s.cookie))
                .form(&[("csrf", s.csrf.as_str()), ("name", name)])
                .send()
        };
        let r = form("Cases").await.unwrap();
        assert_eq!(r.status(), 303);
        assert!(r.headers()["location"]
            .to_str()
            .unwrap()
            .starts_with("/discover/projects/DP_"));
        let r = form("support CHATS").await.unwrap();
        assert_eq!(r.status(), 400);
        let refused = r.text().await.unwrap();
        assert!(refused.contains("id=\"project-name-error\""), "{refused}");
        assert!(refused.contains("value=\"support CHATS\""), "{refused}");
        let (status, all) = app.web_get(&s, &base).await;
        assert_eq!(status, 200, "{all}");
        assert_eq!(shown_count(&all), "30 documents");
        assert_eq!(all.matches("<article class=\"document\"").count(), 25);
        assert!(
            all.contains("id=\"next-page\""),
            "30 documents are two pages"
        );
        let (_, second) = app.web_get(&s, &format!("{base}?offset=25")).await;
        assert_eq!(second.matches("<article class=\"document\"").count(), 5);
        // The chart: one bar a day for the 30 days.
        assert_eq!(all.matches("<rect class=\"bar\"").count(), 30, "{all}");

        // Search, an attribute's value, a date range, and all three at once.
        for (query, count) in [
            ("q=wifi", "5 of 30 documents"),
            ("attribute=browser&value=Chrome", "8 of 30 documents"),
            ("from=2026-03-02&to=2026-03-11", "10 of 30 documents"),
            (
                "attribute=browser&value=Chrome&from=2026-03-02&to=2026-03-11",
                "3 of 30 documents",
            ),
            ("q=wifi&attribute=browser&value=Chrome", "3 of 30 documents"),
        ] {
            let (status, html) = app.web_get(&s, &format!("{base}?{query}")).await;
            assert_eq!(status, 200, "{query}: {html}");
            assert_eq!(shown_count(&html), count, "{query}");
        }
        let (_, wifi) = app.web_get(&s, &format!("{base}?q=wifi")).await;
        assert!(wifi.contains("room 214"), "{wifi}");
        let (status, bad) = app.web_get(&s, &format!("{base}?from=March")).await;
        assert_eq!(status, 400);
        assert!(bad.contains("is not a day"), "{bad}");

        // The API reads the same filters.
        let v = app
            .get_json(
                &token,
                &format!("/api/v1/discover/projects/{project}/documents?attribute=browser&value=Chrome&limit=5"),
            )
            .await;
        assert_eq!(v["total"], 8, "{v}");
        assert_eq!(v["documents"].as_array().unwrap().len(), 5);
        let volume = app
            .get_json(
                &token,
                &format!("/api/v1/discover/projects/{project}/volume"),
            )
            .await;
        assert_eq!(volume["bucketDays"], 1, "{volume}");
        let buckets = volume["buckets"].as_array().unwrap();
        assert_eq!(buckets.len(), 30, "{volume}");
        assert_eq!(buckets[0]["start"], "2026-03-02");
        let sum: i64 = buckets.iter().map(|b| b["count"].as_i64().unwrap()).sum();
        assert_eq!(sum, 30, "{volume}");
        let volume = app
            .get_json(
                &token,
                &format!(
                    "/api/v1/discover/projects/{project}/volume?from=2026-03-02&to=2026-03-11"
                ),
            )
            .await;
        let sum: i64 = volume["buckets"]
            .as_array()
            .unwrap()
            .iter()
            .map(|b| b["count"].as_i64().unwrap())
            .sum();
        assert_eq!(sum, 10, "{volume}");

        // The export holds the filtered documents, one column per attribute.
        let (status, csv_text) = app
            .web_get(
                &s,
                &format!("{base}/export.csv?attribute=browser&value=Chrome"),
            )
            .await;
        assert_eq!(status, 200);
        let mut reader = csv::Reader::from_reader(csv_text.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(&header[..2], ["naturalId", "documentDate"]);
        assert_eq!(header.last().unwrap(), "verbatim");
        let browser = header.iter().position(|h| h == "browser").unwrap();
        let rows: Vec<csv::StringRecord> = reader.records().map(Result::unwrap).collect();
        assert_eq!(rows.len(), 8, "{csv_text}");
        assert!(rows.iter().all(|r| &r[browser] == "Chrome"));
        assert!(
            rows.iter().all(|r| r[header.len() - 1].contains("agent ")
                && r[header.len() - 1].contains("client ")),
            "{csv_text}"
        );
        let r = app
            .get(
                &token,
                &format!("/api/v1/discover/projects/{project}/export.csv"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        let whole = r.text().await.unwrap();
        assert_eq!(
            csv::Reader::from_reader(whole.as_bytes()).records().count(),
            30
        );
        // The export reads page after page from where the last ended: pages of 7 from the
        // store give the listing's 30 in its order, each once.
        let listed: Vec<String> = app
            .get_json(
                &token,
                &format!("/api/v1/discover/projects/{project}/documents?limit=30"),
            )
            .await["documents"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["naturalId"].as_str().unwrap().to_string())
            .collect();
        let (mut paged, mut cursor) = (Vec::new(), None);
        loop {
            let page = app
                .sonde
                .store
                .discover_document_page(
                    &me.org_id,
                    &project,
                    &Default::default(),
                    cursor.as_ref(),
                    0,
                    7,
                )
                .await
                .unwrap();
            let Some(last) = page.last() else { break };
            cursor = Some(store::discover_view::DocumentCursor {
                date: last.document_date.unwrap_or(0),
                natural_id: last.natural_id.clone(),
            });
            paged.extend(page.iter().map(|d| d.natural_id.clone()));
        }
        assert_eq!(paged, listed);

        // A conversation: its turns by role, with names; the customer's text escaped.
        let first = &v["documents"][0]["naturalId"].as_str().unwrap().to_string();
        let (status, page) = app.web_get(&s, &format!("{base}/documents/{first}")).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("class=\"turn role-agent\""), "{page}");
        assert!(page.contains("class=\"turn role-client\""), "{page}");
        assert!(
            page.contains("<strong class=\"long\">"),
            "turns carry names: {page}"
        );
        let api_doc = app
            .get_json(
                &token,
                &format!("/api/v1/discover/projects/{project}/documents/{first}"),
            )
            .await;
        assert!(api_doc["turns"].as_array().unwrap().len() > 2, "{api_doc}");
        let (_, pro) = app.web_get(&s, &format!("{base}?q=yearly")).await;
        assert!(
            pro.contains("&lt;Pro&gt;") && !pro.contains("<Pro>"),
            "{pro}"
        );

        // Run now from the job's page: the run's page shows a bar and Cancel while it is
        // queued, and the script is told to fetch it again; cancelled, it says so and stops.
        let post = |path: String| {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .unwrap()
                .post(app.url(&path))
                .header("cookie", format!("sonde_session={}", s.cookie))
                .form(&[("csrf", s.csrf.as_str())])
                .send()
        };
        let r = post(format!("/discover/jobs/{job}/run")).await.unwrap();
        assert_eq!(r.status(), 303);
        let run_page = r.headers()["location"].to_str().unwrap().to_string();
        let (_, queued) = app.web_get(&s, &run_page).await;
        assert!(
            queued.contains(&format!("data-poll=\"{run_page}\"")),
            "{queued}"
        );
        assert!(queued.contains("<progress id=\"run-bar\">"), "{queued}");
        assert!(queued.contains("id=\"cancel-run\""), "{queued}");
        let r = post(format!("{run_page}/cancel")).await.unwrap();
        assert_eq!(r.status(), 303);
        app.sonde.drain_discover_runs().await.unwrap();
        let (_, cancelled) = app.web_get(&s, &run_page).await;
        assert!(
            cancelled.contains("data-status=\"cancelled\""),
            "{cancelled}"
        );
        assert!(!cancelled.contains("data-poll") && !cancelled.contains("cancel-run"));
        // A job with a record limit knows how far its run has to go: the bar has an end.
        let limited = app
            .post(&token, "/api/v1/discover/jobs")
            .json(
                &json!({"name": "Ten chats", "projectId": project, "connectionId": connection,
                "dataType": "chat", "soql": "SELECT Id, Body, StartTime FROM LiveChatTranscript",
                "dateField": "StartTime", "recordLimit": 10}),
            )
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap();
        let limited = limited["id"].as_str().unwrap();
        let r = post(format!("/discover/jobs/{limited}/run")).await.unwrap();
        let limited_run = r.headers()["location"].to_str().unwrap().to_string();
        let (_, bar) = app.web_get(&s, &limited_run).await;
        assert!(
            bar.contains("<progress id=\"run-bar\" max=\"10\" value=\"0\">"),
            "{bar}"
        );
        assert!(bar.contains("0 of 10 rows read"), "{bar}");
        app.sonde.drain_discover_runs().await.unwrap();
        let (_, done) = app.web_get(&s, &limited_run).await;
        assert!(done.contains("data-status=\"succeeded\"") && !done.contains("<progress"));
        let (status, sample) = app
            .web_get(&s, &format!("/discover/jobs/{job}/sample.csv"))
            .await;
        assert_eq!(status, 200);
        assert_eq!(
            csv::Reader::from_reader(sample.as_bytes())
                .records()
                .count(),
            20
        );
        let (_, job_page) = app.web_get(&s, &format!("/discover/jobs/{job}")).await;
        assert_eq!(job_page.matches("data-status=").count(), 2, "{job_page}");

        // Another organization's people see none of it.
        let (other, other_token) = app.org_user(Role::Admin).await;
        let theirs = app.sign_in(&other.email).await;
        let (status, _) = app.web_get(&theirs, &base).await;
        assert_eq!(status, 404);
        let (status, _) = app
            .web_get(&theirs, &format!("{base}/documents/{first}"))
            .await;
        assert_eq!(status, 404);
        let r = app
            .get(
                &other_token,
                &format!("/api/v1/discover/projects/{project}/volume"),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        sf.shutdown().await;
    }
}

#[tokio::test]
async fn a_long_span_is_charted_by_week_and_weeks_start_on_monday() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (_, token) = app.org_user(Role::Editor).await;
        let (sf, connection) = linked_org(&app, &token).await;
        let admin = sfsim_admin(&sf);
        // A Wednesday and a Thursday in January, and a Sunday in July (whose week began on
        // Monday the 7th): 186 days, too many to draw day by day.
        for at in [
            "2025-01-08T09:00:00Z",
            "2025-01-09T23:30:00Z",
            "2025-07-13T12:00:00Z",
        ] {
            admin
                .create(
                    "LiveChatTranscript",
                    &json!({"Body": "( 5s ) Jane D: Hello<br>( 9s ) Sam Visitor: Hi<br>",
                            "StartTime": at, "Location": "Weekly", "Status": "Completed"}),
                )
                .await
                .unwrap();
        }
        let (project, _) = pulled(
            &app,
            &token,
            &connection,
            "Half a year",
            "SELECT Id, Body, StartTime FROM LiveChatTranscript WHERE Location = 'Weekly'",
        )
        .await;
        let v = app
            .get_json(
                &token,
                &format!("/api/v1/discover/projects/{project}/volume"),
            )
            .await;
        assert_eq!(v["bucketDays"], 7, "{v}");
        let buckets = v["buckets"].as_array().unwrap();
        assert_eq!(buckets.len(), 27, "{v}");
        assert_eq!(
            (&buckets[0]["start"], &buckets[0]["count"]),
            (&json!("2025-01-06"), &json!(2)),
            "{v}"
        );
        assert_eq!(
            (&buckets[26]["start"], &buckets[26]["count"]),
            (&json!("2025-07-07"), &json!(1)),
            "{v}"
        );
        assert!(buckets.iter().all(|b| {
            let day = chrono::NaiveDate::parse_from_str(b["start"].as_str().unwrap(), "%Y-%m-%d");
            day.unwrap().weekday() == chrono::Weekday::Mon
        }));
        let sum: i64 = buckets.iter().map(|b| b["count"].as_i64().unwrap()).sum();
        assert_eq!(sum, 3);
        sf.shutdown().await;
    }
}

/// The first screenful at each width (whole pages are also taken, but are long to look at).
async fn first_screens(b: &crate::browser::Browser, dir: &std::path::Path, name: &str) {
    for (width, height, kind) in [(390, 844, "phone"), (1280, 900, "desktop")] {
        b.resize(width, height).await;
        b.screenshot_to(&dir.join(format!("{name}-top-{kind}.png")))
            .await;
    }
}

#[tokio::test]
async fn the_discover_pages_in_chromium_at_phone_and_desktop_widths() {
    let Some(b) = crate::browser::Browser::start().await else {
        return;
    };
    let dir = std::path::Path::new(SHOTS);
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (me, token) = app.org_user(Role::Editor).await;
    let (sf, connection) = linked_org(&app, &token).await;
    let (project, job) = chats_project(&app, &token, &connection).await;

    b.goto(&app.url("/login")).await;
    b.type_into("#email", &me.email).await;
    b.type_into("#password", "correct horse battery").await;
    b.click("button[type=submit]").await;
    b.wait_for("Import a Qualtrics survey").await;

    b.goto(&app.url("/discover")).await;
    b.wait_for("Support chats").await;
    b.shots_in(dir, "projects").await;
    b.goto(&app.url("/discover/jobs")).await;
    b.wait_for("Demo chats").await;
    b.shots_in(dir, "jobs").await;

    b.goto(&app.url(&format!("/discover/projects/{project}")))
        .await;
    b.wait_for("30 documents").await;
    b.shots_in(dir, "project").await;
    first_screens(&b, dir, "project").await;
    // The chart on a phone, scrolled into view.
    b.resize(390, 844).await;
    b.execute(
        "document.getElementById('volume').scrollIntoView();",
        json!([]),
    )
    .await;
    b.screenshot_to(&dir.join("project-chart-phone.png")).await;
    b.type_into("#f-q", "wifi").await;
    b.click("#apply-filters").await;
    b.wait_for("5 of 30 documents").await;
    b.shots_in(dir, "project-search").await;
    first_screens(&b, dir, "project-search").await;

    let v = app
        .get_json(
            &token,
            &format!("/api/v1/discover/projects/{project}/documents?q=assistant&limit=1"),
        )
        .await;
    let bot_chat = v["documents"][0]["naturalId"].as_str().unwrap();
    b.goto(&app.url(&format!(
        "/discover/projects/{project}/documents/{bot_chat}"
    )))
    .await;
    let html = b.wait_for("Conversation").await;
    assert!(
        html.contains("turn role-bot") && html.contains("turn role-system"),
        "{html}"
    );
    b.shots_in(dir, "conversation").await;
    first_screens(&b, dir, "conversation").await;

    // The job form: Validate shows where the query goes wrong, and keeps what was typed.
    b.goto(&app.url(&format!("/discover/jobs/new?project={project}")))
        .await;
    b.wait_for("New job").await;
    b.type_into("#job-name", "Chats again").await;
    b.type_into("#job-soql", "SELECT Id, Body FROM LiveChatTranscript WHERE")
        .await;
    b.click("#validate-query").await;
    let html = b.wait_for("soql-check-error").await;
    assert!(html.contains("Line 1, column"), "{html}");
    assert_eq!(b.property("#job-name", "value").await, "Chats again");
    b.shots_in(dir, "job-form-invalid-query").await;
    first_screens(&b, dir, "job-form-invalid-query").await;
    b.type_into(
        "#job-soql",
        "SELECT Id, Body, StartTime, Browser FROM LiveChatTranscript",
    )
    .await;
    b.click("#validate-query").await;
    b.wait_for("soql-check-ok").await;
    b.type_into("#job-limit", "lots").await;
    b.click("#save-job").await;
    // The page before the save names the error's id too: wait for the message itself.
    let html = b.wait_for("is not a number of documents").await;
    assert!(html.contains("id=\"job-limit-error\""), "{html}");
    assert_eq!(b.property("#job-limit", "value").await, "lots");
    b.shots_in(dir, "job-form-refused").await;
    first_screens(&b, dir, "job-form-refused").await;

    // The job's own account instead of the linked org: a refused form never writes the secret
    // or the password back into the page; typed again, the job is saved and says where it
    // reads without them.
    b.click("#job-account-own").await;
    b.type_into("#job-client-id", sf.client_id()).await;
    b.type_into("#job-client-secret", sf.client_secret()).await;
    b.type_into("#job-username", &sf.username()).await;
    b.type_into("#job-password", sf.password()).await;
    b.type_into("#job-login-url", sf.login_url()).await;
    b.type_into("#job-filter", "browser is Chrome").await;
    b.click("#save-job").await;
    let html = b.wait_for("job-retype").await;
    assert!(
        !html.contains(sf.client_secret()),
        "the secret came back into the page"
    );
    assert!(html.contains("id=\"job-filter-error\""), "{html}");
    assert_eq!(b.property("#job-client-secret", "value").await, "");
    b.shots_in(dir, "job-form-account").await;
    b.type_into("#job-client-secret", sf.client_secret()).await;
    b.type_into("#job-password", sf.password()).await;
    b.type_into("#job-mappings", "browser = Browser").await;
    b.type_into("#job-filter", "browser in Chrome | Safari")
        .await;
    b.type_into("#job-limit", "").await;
    b.click("#save-job").await;
    let html = b.wait_for("its own account").await;
    assert!(!html.contains(sf.client_secret()) && !html.contains(sf.password()));
    assert!(html.contains(&sf.username()), "{html}");
    b.shots_in(dir, "job-own-account").await;

    // A run: queued with a bar and Cancel; the page follows it to its end by itself.
    b.goto(&app.url(&format!("/discover/jobs/{job}"))).await;
    b.wait_for("Run now").await;
    b.shots_in(dir, "job").await;
    b.click("#run-now").await;
    b.wait_for("cancel-run").await;
    b.shots_in(dir, "run-queued").await;
    first_screens(&b, dir, "run-queued").await;
    app.sonde.drain_discover_runs().await.unwrap();
    let html = b.wait_for("data-status=\"succeeded\"").await;
    assert!(!html.contains("cancel-run"), "{html}");
    b.shots_in(dir, "run-finished").await;
    b.quit().await;
    sf.shutdown().await;
}
