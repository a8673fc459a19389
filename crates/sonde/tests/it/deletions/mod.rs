//! Deleting things, on both stores: archiving, restoring and purging surveys, deleting
//! responses, contacts and mailing lists, revoking tokens. Each works, is refused to the wrong
//! role and to another organization, and writes exactly one audit event in its own
//! transaction (`audit.rs` forces failures to show it). The queue survives deliveries whose
//! response or survey went away (`queue.rs`), a deleted contact's opt-out is kept
//! (`directory.rs`), and the pages ask first (`pages.rs`, with Chromium).

mod audit;
mod directory;
mod pages;
mod queue;

use crate::harness::{backends, TestApp};
use engine::{Actor, Role};
use serde_json::{json, Value};

/// An organization where `owner` (an editor) owns a survey that `colleague` (another editor)
/// and `viewer` collaborate on, with an `admin`; and another organization's admin.
pub(crate) struct Org {
    pub app: TestApp,
    pub owner: (Actor, String),
    pub colleague: (Actor, String),
    pub viewer: (Actor, String),
    pub admin: (Actor, String),
    pub other: (Actor, String),
    pub survey: String,
}

impl Org {
    pub async fn new(backend: crate::harness::Backend) -> Self {
        let app = TestApp::spawn(backend).await;
        let owner = app.org_user(Role::Editor).await;
        let colleague = app.user_in(&owner.0.org_id, Role::Editor).await;
        let viewer = app.user_in(&owner.0.org_id, Role::Viewer).await;
        let admin = app.user_in(&owner.0.org_id, Role::Admin).await;
        let other = app.org_user(Role::Admin).await;
        let org = Self {
            survey: app.sample_survey(&owner.1).await,
            app,
            owner,
            colleague,
            viewer,
            admin,
            other,
        };
        for who in [&org.colleague.0.email, &org.viewer.0.email] {
            let path = format!("/api/v1/surveys/{}/collaborators", org.survey);
            let (s, v) = org
                .call(&org.owner.1, "POST", &path, Some(json!({"email": who})))
                .await;
            assert_eq!(s, 204, "{v}");
        }
        org
    }

    /// Calls the API with `token`; the status and the JSON answer (null when none).
    pub async fn call(
        &self,
        token: &str,
        method: &str,
        path: &str,
        body: Option<Value>,
    ) -> (u16, Value) {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let mut req = self
            .app
            .client
            .request(method, self.app.url(path))
            .bearer_auth(token);
        if let Some(b) = body {
            req = req.json(&b);
        }
        let r = req.send().await.unwrap();
        let status = r.status().as_u16();
        let text = r.text().await.unwrap();
        (status, serde_json::from_str(&text).unwrap_or(Value::Null))
    }

    /// The organization's audit events (as its admin), newest first, for `query`.
    pub async fn events(&self, query: &str) -> Vec<Value> {
        let (s, v) = self
            .call(
                &self.admin.1,
                "GET",
                &format!("/api/v1/audit-events?{query}"),
                None,
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v["events"].as_array().cloned().unwrap()
    }

    /// A finished response to `survey` through the API; its id.
    pub async fn respond(&self, survey: &str) -> String {
        let answers = sonde::bench::complete_answers(&survey::sample::sample_definition());
        let (s, v) = self
            .call(
                &self.owner.1,
                "POST",
                &format!("/api/v1/surveys/{survey}/responses"),
                Some(json!({"answers": answers, "finished": true})),
            )
            .await;
        assert_eq!(s, 201, "{v}");
        v["responseId"].as_str().unwrap().to_string()
    }

    /// A workflow on `survey` adding each respondent's follow-up email to a new list when a
    /// response is recorded; the workflow's and the list's ids.
    pub async fn list_workflow(&self, survey: &str) -> (String, String) {
        self.list_workflow_on(survey, "response_created").await
    }

    /// As [`Org::list_workflow`], fired by `event`.
    pub async fn list_workflow_on(&self, survey: &str, event: &str) -> (String, String) {
        let (s, list) = self
            .call(
                &self.owner.1,
                "POST",
                "/api/v1/mailing-lists",
                Some(json!({"name": format!("Follow-ups {}", store::ids::random_token(4))})),
            )
            .await;
        assert_eq!(s, 201, "{list}");
        let list = list["id"].as_str().unwrap().to_string();
        let body = json!({"name": "Respondents follow up", "event": event,
            "tasks": [{"type": "directory", "action": "add_to_list", "listId": list,
                       "fields": {"email": {"piped": "${q://QID10/ChoiceTextEntryValue}"}}}]});
        let wf = crate::workflows::create_workflow(&self.app, &self.owner.1, survey, &body).await;
        (wf["id"].as_str().unwrap().to_string(), list)
    }

    /// How many runs a workflow has.
    pub async fn runs(&self, workflow: &str) -> usize {
        let (s, v) = self
            .call(
                &self.owner.1,
                "GET",
                &format!("/api/v1/workflows/{workflow}/runs"),
                None,
            )
            .await;
        assert_eq!(s, 200, "{v}");
        v["runs"].as_array().unwrap().len()
    }
}

/// Makes a response in progress overdue, as if its respondent had left long ago.
async fn abandon(o: &Org, response: &str) {
    sqlx::query("UPDATE responses SET expires_at = 1 WHERE id = $1")
        .bind(response)
        .execute(o.app.sonde.store.pool())
        .await
        .unwrap();
}

/// The one event of `events`, asserting there is exactly one.
pub(crate) fn only(events: &[Value], what: &str) -> Value {
    assert_eq!(
        events.len(),
        1,
        "{what}: exactly one audit event: {events:#?}"
    );
    events[0].clone()
}

#[tokio::test]
async fn archiving_closes_a_survey_to_respondents_and_workflows_and_restoring_reopens_it() {
    for backend in backends() {
        let o = Org::new(backend).await;
        let s = &o.survey;
        let (workflow, _) = o.list_workflow(s).await;
        let (on_close, _) = o.list_workflow_on(s, "incomplete_closed").await;
        o.respond(s).await;
        assert_eq!(
            o.runs(&workflow).await,
            1,
            "an open survey's workflow fires"
        );
        // Someone is half-way through when it is archived.
        let page = o
            .app
            .client
            .get(o.app.url(&format!("/s/{s}")))
            .send()
            .await
            .unwrap();
        let page = page.text().await.unwrap();
        let in_progress = first_page_submitted(&o.app, s, &page).await;

        // Refused to a viewer and to another organization; nothing recorded.
        let archive = format!("/api/v1/surveys/{s}/archive");
        assert_eq!(o.call(&o.viewer.1, "POST", &archive, None).await.0, 403);
        assert_eq!(o.call(&o.other.1, "POST", &archive, None).await.0, 404);
        assert!(o.events("action=survey.archived").await.is_empty());

        // A collaborating editor archives it.
        let (status, archived) = o.call(&o.colleague.1, "POST", &archive, None).await;
        assert_eq!(status, 200, "{backend:?}: {archived}");
        assert!(archived["archivedAt"].is_string(), "{archived}");
        let (status, again) = o.call(&o.owner.1, "POST", &archive, None).await;
        assert_eq!(status, 409, "archiving twice: {again}");
        assert!(again["error"]["message"]
            .as_str()
            .unwrap()
            .contains("already archived"));
        let e = only(&o.events("action=survey.archived").await, "archive");
        assert_eq!(e["actor"]["email"], json!(o.colleague.0.email));
        assert_eq!(e["actor"]["userId"], json!(o.colleague.0.user_id));
        assert_eq!(
            e["subject"],
            json!({"kind": "survey", "id": s, "label": "Customer satisfaction after a support case"})
        );

        // Hidden from the list, still there by id and among the archived.
        let (_, list) = o.call(&o.owner.1, "GET", "/api/v1/surveys", None).await;
        assert!(!list.to_string().contains(s.as_str()), "{list}");
        let (_, list) = o
            .call(&o.owner.1, "GET", "/api/v1/surveys?archived=true", None)
            .await;
        assert_eq!(list["surveys"][0]["id"], json!(s), "{list}");
        assert_eq!(
            o.call(&o.viewer.1, "GET", &format!("/api/v1/surveys/{s}"), None)
                .await
                .0,
            200
        );

        // Its link says it is closed and records nothing, not even for the respondent who
        // was answering; the API records nothing either, and no workflow fires.
        let responses = o
            .app
            .sonde
            .store
            .count_responses(&o.owner.0.org_id, s)
            .await
            .unwrap();
        let r = o
            .app
            .client
            .get(o.app.url(&format!("/s/{s}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 404);
        assert!(r
            .text()
            .await
            .unwrap()
            .contains("does not exist or is closed"));
        let (status, _) =
            crate::harness::submit(&o.app, s, &page, vec![("QID3".into(), "9".into())]).await;
        assert_eq!(status, 404, "the respondent's next page");
        let row = o
            .app
            .sonde
            .store
            .response(&o.owner.0.org_id, &in_progress)
            .await
            .unwrap()
            .unwrap();
        assert!(
            !row.data.contains("QID3"),
            "the archived survey saved an answer: {}",
            row.data
        );
        let answers = sonde::bench::complete_answers(&survey::sample::sample_definition());
        let (status, refused) = o
            .call(
                &o.owner.1,
                "POST",
                &format!("/api/v1/surveys/{s}/responses"),
                Some(json!({"answers": answers, "finished": true})),
            )
            .await;
        assert_eq!(status, 409, "{refused}");
        assert!(
            refused["error"]["message"]
                .as_str()
                .unwrap()
                .contains("archived"),
            "{refused}"
        );
        assert_eq!(
            o.app
                .sonde
                .store
                .count_responses(&o.owner.0.org_id, s)
                .await
                .unwrap(),
            responses
        );
        // An abandoned response is still closed, but fires nothing while it is archived.
        abandon(&o, &in_progress).await;
        assert_eq!(o.app.sonde.close_abandoned_responses().await.unwrap(), 1);
        assert_eq!(
            o.runs(&on_close).await,
            0,
            "an archived survey's workflow fired"
        );
        assert_eq!(o.runs(&workflow).await, 1);

        // Restored: listed, open and firing again.
        let restore = format!("/api/v1/surveys/{s}/restore");
        assert_eq!(o.call(&o.viewer.1, "POST", &restore, None).await.0, 403);
        let (status, restored) = o.call(&o.owner.1, "POST", &restore, None).await;
        assert_eq!(status, 200, "{restored}");
        assert!(restored["archivedAt"].is_null(), "{restored}");
        assert_eq!(
            o.call(&o.owner.1, "POST", &restore, None).await.0,
            409,
            "restoring twice"
        );
        let e = only(&o.events("action=survey.restored").await, "restore");
        assert_eq!(e["actor"]["email"], json!(o.owner.0.email));
        let r = o
            .app
            .client
            .get(o.app.url(&format!("/s/{s}")))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 200);
        o.respond(s).await;
        assert_eq!(
            o.runs(&workflow).await,
            2,
            "a restored survey's workflow fires"
        );
        let page = o
            .app
            .client
            .get(o.app.url(&format!("/s/{s}")))
            .send()
            .await
            .unwrap();
        let again = first_page_submitted(&o.app, s, &page.text().await.unwrap()).await;
        abandon(&o, &again).await;
        assert_eq!(o.app.sonde.close_abandoned_responses().await.unwrap(), 1);
        assert_eq!(
            o.runs(&on_close).await,
            1,
            "a restored survey's closing fires"
        );
        let (_, list) = o.call(&o.owner.1, "GET", "/api/v1/surveys", None).await;
        assert!(list.to_string().contains(s.as_str()));
    }
}

#[tokio::test]
async fn only_an_archived_survey_is_purged_by_its_owner_or_an_admin_with_its_responses() {
    for backend in backends() {
        let o = Org::new(backend).await;
        let s = &o.survey;
        let (workflow, _) = o.list_workflow(s).await;
        let first = o.respond(s).await;
        o.respond(s).await;
        let purge = format!("/api/v1/surveys/{s}");

        // Not archived: a clear 409, nothing deleted, nothing recorded.
        let (status, refused) = o.call(&o.owner.1, "DELETE", &purge, None).await;
        assert_eq!(status, 409, "{backend:?}: {refused}");
        let message = refused["error"]["message"].as_str().unwrap();
        assert!(
            message.contains("not archived") && message.contains("archive it first"),
            "{message}"
        );
        assert_eq!(
            o.call(&o.owner.1, "POST", &format!("{purge}/archive"), None)
                .await
                .0,
            200
        );

        // A collaborating editor may archive but not purge; a viewer neither; another
        // organization does not see it.
        let (status, denied) = o.call(&o.colleague.1, "DELETE", &purge, None).await;
        assert_eq!(status, 403, "{denied}");
        assert!(denied["error"]["message"]
            .as_str()
            .unwrap()
            .contains("owner or an admin"));
        assert_eq!(o.call(&o.viewer.1, "DELETE", &purge, None).await.0, 403);
        assert_eq!(o.call(&o.other.1, "DELETE", &purge, None).await.0, 404);
        assert!(o.events("action=survey.purged").await.is_empty());

        let (status, purged) = o.call(&o.owner.1, "DELETE", &purge, None).await;
        assert_eq!(status, 200, "{purged}");
        assert_eq!(purged["responsesDeleted"], 2, "{purged}");
        assert_eq!(purged["workflowsDeleted"], 1, "{purged}");
        assert_eq!(o.call(&o.owner.1, "GET", &purge, None).await.0, 404);
        assert_eq!(
            o.call(&o.owner.1, "DELETE", &purge, None).await.0,
            404,
            "purged twice"
        );
        let store = &o.app.sonde.store;
        assert_eq!(
            store.count_responses(&o.owner.0.org_id, s).await.unwrap(),
            0
        );
        assert!(store
            .response(&o.owner.0.org_id, &first)
            .await
            .unwrap()
            .is_none());
        assert!(store
            .workflow(&o.owner.0.org_id, &workflow)
            .await
            .unwrap()
            .is_none());
        let e = only(&o.events("action=survey.purged").await, "purge");
        assert_eq!(
            e["subject"]["label"],
            "Customer satisfaction after a support case"
        );
        assert_eq!(e["detail"]["responses"], 2, "{e}");
        assert_eq!(e["detail"]["workflows"], 1, "{e}");
        assert_eq!(e["detail"]["queuedRunsCancelled"], 2, "{e}");
        // Its subject's history is all there: archived, then purged.
        let history = o.events(&format!("subjectId={s}")).await;
        let actions: Vec<&str> = history
            .iter()
            .map(|e| e["action"].as_str().unwrap())
            .collect();
        assert_eq!(actions, ["survey.purged", "survey.archived"]);

        // An admin purges a survey someone else owns.
        let theirs = o.app.sample_survey(&o.colleague.1).await;
        o.call(
            &o.colleague.1,
            "POST",
            &format!("/api/v1/surveys/{theirs}/archive"),
            None,
        )
        .await;
        let (status, v) = o
            .call(
                &o.admin.1,
                "DELETE",
                &format!("/api/v1/surveys/{theirs}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{v}");
        let e = only(
            &o.events(&format!("action=survey.purged&subjectId={theirs}"))
                .await,
            "admin purge",
        );
        assert_eq!(e["actor"]["email"], json!(o.admin.0.email));
    }
}

#[tokio::test]
async fn a_deleted_response_is_gone_and_its_personal_link_can_answer_again() {
    for backend in backends() {
        let o = Org::new(backend).await;
        let s = &o.survey;
        let (s1, contact) = o
            .call(
                &o.owner.1,
                "POST",
                "/api/v1/contacts",
                Some(json!({"email": "ada@example.com"})),
            )
            .await;
        assert_eq!(s1, 201);
        let (_, link) = o
            .call(
                &o.owner.1,
                "POST",
                &format!("/api/v1/surveys/{s}/links"),
                Some(json!({"contactId": contact["id"]})),
            )
            .await;
        let token = link["url"]
            .as_str()
            .unwrap()
            .rsplit("l=")
            .next()
            .unwrap()
            .to_string();
        let arrival = engine::responses::Arrival {
            personal_link: Some(token),
            ..Default::default()
        };
        // Opening records nothing: the first page, submitted, stores the response.
        let first = start_through(&o.app, s, arrival.clone()).await;
        let path = format!("/api/v1/surveys/{s}/responses/{first}");

        assert_eq!(o.call(&o.viewer.1, "DELETE", &path, None).await.0, 403);
        assert_eq!(o.call(&o.other.1, "DELETE", &path, None).await.0, 404);
        let elsewhere = o.app.sample_survey(&o.owner.1).await;
        let wrong_survey = format!("/api/v1/surveys/{elsewhere}/responses/{first}");
        assert_eq!(
            o.call(&o.owner.1, "DELETE", &wrong_survey, None).await.0,
            404
        );
        assert!(o.events("action=response.deleted").await.is_empty());

        let (status, _) = o.call(&o.colleague.1, "DELETE", &path, None).await;
        assert_eq!(status, 204, "{backend:?}");
        assert_eq!(o.call(&o.owner.1, "GET", &path, None).await.0, 404);
        assert_eq!(
            o.call(&o.owner.1, "DELETE", &path, None).await.0,
            404,
            "deleted twice"
        );
        let e = only(&o.events("action=response.deleted").await, "response");
        assert_eq!(e["subject"]["id"], json!(first));
        assert!(
            e["subject"]["label"]
                .as_str()
                .unwrap()
                .contains("Customer satisfaction"),
            "{e}"
        );
        assert_eq!(e["detail"]["status"], "in_progress", "{e}");
        assert_eq!(e["detail"]["contactId"], contact["id"], "{e}");

        // The link is free again: it starts a new response instead of "already used".
        let second = start_through(&o.app, s, arrival).await;
        assert_ne!(second, first);
    }
}

/// Opening a link records nothing: opens it and submits its first page unanswered, which
/// stores the response; answers the response's id.
async fn start_through(
    app: &crate::harness::TestApp,
    survey: &str,
    arrival: engine::responses::Arrival,
) -> String {
    let engine::responses::PageView::Page(page) =
        app.sonde.open_survey(survey, &arrival, None).await.unwrap()
    else {
        panic!("the link opens a page")
    };
    let submission = engine::responses::Submission {
        page: page.number,
        ..Default::default()
    };
    let engine::responses::PageView::Page(refused) = app
        .sonde
        .submit_page(survey, &page.form, &submission)
        .await
        .unwrap()
    else {
        panic!("the first page comes back asking for its answers")
    };
    refused.form.response_id().expect("stored").to_string()
}

/// Submits a survey's first page (as opened) unanswered, which stores the response — opening
/// alone records nothing — and answers the response's id from the page that comes back.
pub(crate) async fn first_page_submitted(
    app: &crate::harness::TestApp,
    survey: &str,
    page: &str,
) -> String {
    let (_, refused) = crate::harness::submit(app, survey, page, Vec::new()).await;
    crate::harness::hidden(&refused, "_response")
}
