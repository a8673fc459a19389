//! The audit log itself: per organization, for admins, newest first, paged and filtered; and
//! written in the act's own transaction — with the store made to refuse the event, no act
//! happens; with the store made to refuse the act, no event is written.

use super::Org;
use crate::harness::{backends, Backend};
use serde_json::{json, Value};

#[tokio::test]
async fn the_log_is_each_organizations_own_for_its_admins_newest_first_and_paged() {
    for backend in backends() {
        let o = Org::new(backend).await;
        // Five acts here, one in the other organization.
        let mut lists = Vec::new();
        for name in ["One", "Two", "Three", "Four", "Five"] {
            let (_, l) = o
                .call(
                    &o.owner.1,
                    "POST",
                    "/api/v1/mailing-lists",
                    Some(json!({"name": name})),
                )
                .await;
            lists.push(l["id"].as_str().unwrap().to_string());
        }
        for l in &lists {
            o.call(
                &o.owner.1,
                "DELETE",
                &format!("/api/v1/mailing-lists/{l}"),
                None,
            )
            .await;
        }
        let (_, theirs) = o
            .call(
                &o.other.1,
                "POST",
                "/api/v1/mailing-lists",
                Some(json!({"name": "Theirs"})),
            )
            .await;
        let theirs = theirs["id"].as_str().unwrap();
        o.call(
            &o.other.1,
            "DELETE",
            &format!("/api/v1/mailing-lists/{theirs}"),
            None,
        )
        .await;

        // Admins only.
        for token in [&o.owner.1, &o.viewer.1] {
            assert_eq!(
                o.call(token, "GET", "/api/v1/audit-events", None).await.0,
                403
            );
        }
        // Newest first, two at a time, without overlap or gap.
        let mut seen = Vec::new();
        let mut next: Option<String> = None;
        loop {
            let path = match &next {
                Some(n) => format!("/api/v1/audit-events?limit=2&after={n}"),
                None => "/api/v1/audit-events?limit=2".to_string(),
            };
            let (s, page) = o.call(&o.admin.1, "GET", &path, None).await;
            assert_eq!(s, 200, "{backend:?}: {page}");
            let events = page["events"].as_array().unwrap();
            assert!(events.len() <= 2);
            seen.extend(
                events
                    .iter()
                    .map(|e| e["subject"]["label"].as_str().unwrap().to_string()),
            );
            match page["next"].as_str() {
                Some(n) => next = Some(n.to_string()),
                None => break,
            }
        }
        assert_eq!(seen, ["Five", "Four", "Three", "Two", "One"], "{backend:?}");
        // The other organization sees its own act only.
        let (_, theirs_log) = o
            .call(&o.other.1, "GET", "/api/v1/audit-events", None)
            .await;
        let labels: Vec<&Value> = theirs_log["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| &e["subject"]["label"])
            .collect();
        assert_eq!(labels, [&json!("Theirs")], "{theirs_log}");
        let (_, none) = o
            .call(
                &o.other.1,
                "GET",
                &format!("/api/v1/audit-events?subjectId={}", lists[0]),
                None,
            )
            .await;
        assert_eq!(
            none["events"],
            json!([]),
            "another organization's event by its subject id"
        );

        // Filters: by subject, by kind, by action; an unknown action names the parameter.
        let one = o.events(&format!("subjectId={}", lists[2])).await;
        assert_eq!(super::only(&one, "by subject")["subject"]["label"], "Three");
        assert_eq!(o.events("subjectKind=mailing_list").await.len(), 5);
        assert!(o.events("subjectKind=survey").await.is_empty());
        let (s, bad) = o
            .call(
                &o.admin.1,
                "GET",
                "/api/v1/audit-events?action=list.eaten",
                None,
            )
            .await;
        assert_eq!(s, 400, "{bad}");
        assert_eq!(bad["error"]["problems"][0]["field"], "action", "{bad}");
        assert!(bad["error"]["problems"][0]["message"]
            .as_str()
            .unwrap()
            .contains("mailing_list.deleted"));
        let (s, bad) = o
            .call(
                &o.admin.1,
                "GET",
                "/api/v1/audit-events?after=yesterday",
                None,
            )
            .await;
        assert_eq!(s, 400, "{bad}");
    }
}

/// Makes the store refuse every statement of `kind` on `table` (a trigger), as a full disk or
/// a constraint would in the middle of a transaction.
async fn refuse(store: &store::Store, backend: Backend, kind: &str, table: &str) {
    let name = format!("refuse_{}_{table}", kind.to_lowercase());
    match backend {
        Backend::Sqlite => {
            store
                .execute_raw(&format!(
                    "CREATE TRIGGER {name} BEFORE {kind} ON {table} BEGIN SELECT RAISE(ABORT, 'refused by the test'); END"
                ))
                .await
                .unwrap();
        }
        Backend::Postgres => {
            store
                .execute_raw(&format!(
                    "CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS \
                     $$ BEGIN RAISE EXCEPTION 'refused by the test'; END $$"
                ))
                .await
                .unwrap();
            store
                .execute_raw(&format!(
                    "CREATE TRIGGER {name} BEFORE {kind} ON {table} FOR EACH ROW EXECUTE FUNCTION {name}()"
                ))
                .await
                .unwrap();
        }
    }
}

async fn allow(store: &store::Store, backend: Backend, kind: &str, table: &str) {
    let name = format!("refuse_{}_{table}", kind.to_lowercase());
    let sql = match backend {
        Backend::Sqlite => format!("DROP TRIGGER {name}"),
        Backend::Postgres => format!("DROP TRIGGER {name} ON {table}"),
    };
    store.execute_raw(&sql).await.unwrap();
}

#[tokio::test]
async fn an_act_and_its_event_commit_together_or_not_at_all() {
    for backend in backends() {
        let o = Org::new(backend).await;
        let store = &o.app.sonde.store;
        let org = &o.owner.0.org_id;
        let (_, contact) = o
            .call(
                &o.owner.1,
                "POST",
                "/api/v1/contacts",
                Some(json!({"email": "ada@example.com", "unsubscribed": true})),
            )
            .await;
        let contact = contact["id"].as_str().unwrap().to_string();
        let (_, list) = o
            .call(
                &o.owner.1,
                "POST",
                "/api/v1/mailing-lists",
                Some(json!({"name": "L"})),
            )
            .await;
        let list = list["id"].as_str().unwrap().to_string();
        let response = o.respond(&o.survey).await;
        let (_, token) = o
            .call(
                &o.owner.1,
                "POST",
                "/api/v1/tokens",
                Some(json!({"name": "T"})),
            )
            .await;
        let token = token["id"].as_str().unwrap().to_string();
        let mut archived = Vec::new();
        for _ in 0..2 {
            let id = o.app.sample_survey(&o.owner.1).await;
            o.call(
                &o.owner.1,
                "POST",
                &format!("/api/v1/surveys/{id}/archive"),
                None,
            )
            .await;
            archived.push(id);
        }
        let (restored, purged) = (&archived[0], &archived[1]);
        let before = o.events("").await.len();

        // The event cannot be written: every act fails whole.
        refuse(store, backend, "INSERT", "audit_events").await;
        let s = &o.survey;
        let acts = [
            ("DELETE", format!("/api/v1/contacts/{contact}")),
            ("DELETE", format!("/api/v1/mailing-lists/{list}")),
            (
                "DELETE",
                format!("/api/v1/surveys/{s}/responses/{response}"),
            ),
            ("DELETE", format!("/api/v1/tokens/{token}")),
            ("POST", format!("/api/v1/surveys/{s}/archive")),
            ("POST", format!("/api/v1/surveys/{restored}/restore")),
            ("DELETE", format!("/api/v1/surveys/{purged}")),
        ];
        for (method, path) in &acts {
            let (status, v) = o.call(&o.owner.1, method, path, None).await;
            assert_eq!(
                status, 500,
                "{backend:?}: {method} {path} without its event: {v}"
            );
        }
        allow(store, backend, "INSERT", "audit_events").await;
        assert!(
            store.contact(org, &contact).await.unwrap().is_some(),
            "the contact was deleted unrecorded"
        );
        assert!(
            store.mailing_list(org, &list).await.unwrap().is_some(),
            "the list was deleted unrecorded"
        );
        assert!(
            store.response(org, &response).await.unwrap().is_some(),
            "the response was deleted unrecorded"
        );
        let (tokens_status, tokens) = o.call(&o.owner.1, "GET", "/api/v1/tokens", None).await;
        assert_eq!(tokens_status, 200);
        assert!(
            tokens.to_string().contains(&token),
            "the token was revoked unrecorded"
        );
        assert!(store
            .survey(org, s)
            .await
            .unwrap()
            .unwrap()
            .archived_at
            .is_none());
        for id in &archived {
            assert!(store
                .survey(org, id)
                .await
                .unwrap()
                .unwrap()
                .archived_at
                .is_some());
        }
        assert!(store.survey_definition(purged, 1).await.unwrap().is_some());
        assert_eq!(o.app.sonde.store.count_responses(org, s).await.unwrap(), 1);
        // Nor did the contact's kept opt-out outlive the rollback.
        let kept = sqlx::query("SELECT COUNT(*) AS n FROM opt_out_suppressions")
            .fetch_one(store.pool())
            .await
            .unwrap();
        assert_eq!(sqlx::Row::get::<i64, _>(&kept, "n"), 0);

        // The act cannot be done: no event.
        refuse(store, backend, "DELETE", "contacts").await;
        let (status, _) = o
            .call(
                &o.owner.1,
                "DELETE",
                &format!("/api/v1/contacts/{contact}"),
                None,
            )
            .await;
        assert_eq!(status, 500);
        allow(store, backend, "DELETE", "contacts").await;
        assert_eq!(
            o.events("").await.len(),
            before,
            "{backend:?}: an event without its act"
        );

        // Allowed again, each act writes exactly its one event.
        for (method, path) in &acts {
            let (status, v) = o.call(&o.owner.1, method, path, None).await;
            assert!(status == 200 || status == 204, "{method} {path}: {v}");
        }
        assert_eq!(o.events("").await.len(), before + acts.len());
    }
}
