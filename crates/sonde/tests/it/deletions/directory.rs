//! Deleting contacts (memberships and links go, responses stay, an opt-out is kept for the
//! person's next save or import) and mailing lists (the contacts stay; workflows adding to the
//! list are named).

use super::{only, Org};
use crate::harness::backends;
use serde_json::{json, Value};

impl Org {
    /// Saves a contact through the API (on `list` if given); its JSON.
    async fn contact(&self, body: Value, list: Option<&str>) -> Value {
        let path = match list {
            Some(l) => format!("/api/v1/contacts?listId={l}"),
            None => "/api/v1/contacts".to_string(),
        };
        let (s, v) = self.call(&self.owner.1, "POST", &path, Some(body)).await;
        assert!(s == 201 || s == 200, "{v}");
        v
    }

    async fn opt_out_history(&self, contact: &Value) -> Vec<Value> {
        let path = format!(
            "/api/v1/contacts/{}/opt-out-events",
            contact["id"].as_str().unwrap()
        );
        let (s, v) = self.call(&self.owner.1, "GET", &path, None).await;
        assert_eq!(s, 200, "{v}");
        v["events"].as_array().cloned().unwrap()
    }

    async fn delete_contact(&self, token: &str, contact: &Value) -> (u16, Value) {
        let path = format!("/api/v1/contacts/{}", contact["id"].as_str().unwrap());
        self.call(token, "DELETE", &path, None).await
    }
}

#[tokio::test]
async fn a_deleted_contact_leaves_its_lists_and_links_and_its_opt_out_stays() {
    for backend in backends() {
        let o = Org::new(backend).await;
        let (_, list) = o
            .call(
                &o.owner.1,
                "POST",
                "/api/v1/mailing-lists",
                Some(json!({"name": "Customers"})),
            )
            .await;
        let list = list["id"].as_str().unwrap().to_string();
        let ada = o
            .contact(json!({"email": "Ada@Example.com", "firstName": "Ada", "embeddedData": {"Tier": "gold"}}), Some(&list))
            .await;
        let (_, link) = o
            .call(
                &o.owner.1,
                "POST",
                &format!("/api/v1/surveys/{}/links", o.survey),
                Some(json!({"contactId": ada["id"]})),
            )
            .await;
        let link = link["url"].as_str().unwrap().replace(&o.app.base, "");
        let id = ada["id"].as_str().unwrap();
        assert_eq!(
            o.call(
                &o.owner.1,
                "POST",
                &format!("/api/v1/contacts/{id}/unsubscribe"),
                None
            )
            .await
            .0,
            200
        );
        // A response through the personal link stays with the survey.
        let page = o.app.client.get(o.app.url(&link)).send().await.unwrap();
        let survey = link
            .trim_start_matches("/s/")
            .split('?')
            .next()
            .unwrap()
            .to_string();
        let response =
            super::first_page_submitted(&o.app, &survey, &page.text().await.unwrap()).await;

        assert_eq!(o.delete_contact(&o.viewer.1, &ada).await.0, 403);
        assert_eq!(o.delete_contact(&o.other.1, &ada).await.0, 404);
        assert!(o.events("action=contact.deleted").await.is_empty());

        let (status, deleted) = o.delete_contact(&o.colleague.1, &ada).await;
        assert_eq!(status, 200, "{backend:?}: {deleted}");
        assert_eq!(
            deleted,
            json!({"id": id, "label": ada["email"], "listMembershipsRemoved": 1,
                   "personalLinksRemoved": 1, "optOutKept": true})
        );
        assert_eq!(
            o.call(&o.owner.1, "GET", &format!("/api/v1/contacts/{id}"), None)
                .await
                .0,
            404
        );
        assert_eq!(
            o.delete_contact(&o.owner.1, &ada).await.0,
            404,
            "deleted twice"
        );
        let (_, members) = o
            .call(
                &o.owner.1,
                "GET",
                &format!("/api/v1/mailing-lists/{list}"),
                None,
            )
            .await;
        assert_eq!(members["members"], 0, "{members}");
        let r = o.app.client.get(o.app.url(&link)).send().await.unwrap();
        assert_eq!(r.status(), 404, "the personal link no longer opens");
        assert!(o
            .app
            .sonde
            .store
            .response(&o.owner.0.org_id, &response)
            .await
            .unwrap()
            .is_some());
        let e = only(&o.events("action=contact.deleted").await, "contact");
        assert_eq!(
            e["subject"],
            json!({"kind": "contact", "id": id, "label": ada["email"]})
        );
        assert_eq!(
            e["detail"],
            json!({"listMemberships": 1, "personalLinks": 1, "optOutKept": true})
        );

        // Saved again (the email in another case): unsubscribed, and the history says why.
        let again = o
            .contact(
                json!({"email": "ada@example.COM", "firstName": "Ada"}),
                None,
            )
            .await;
        assert_ne!(again["id"], ada["id"]);
        assert_eq!(
            again["unsubscribed"], true,
            "{backend:?}: the opt-out was lost: {again}"
        );
        let history = o.opt_out_history(&again).await;
        assert_eq!(history.len(), 1, "{history:?}");
        assert_eq!(history[0]["action"], "unsubscribe");
        assert_eq!(history[0]["source"], "deleted_contact");
        assert!(
            history[0]["detail"].as_str().unwrap().contains(id),
            "{history:?}"
        );
        // The suppression is used up: once resubscribed and deleted, a new save is subscribed.
        let again_id = again["id"].as_str().unwrap();
        o.call(
            &o.owner.1,
            "POST",
            &format!("/api/v1/contacts/{again_id}/resubscribe"),
            None,
        )
        .await;
        let (_, deleted) = o.delete_contact(&o.owner.1, &again).await;
        assert_eq!(deleted["optOutKept"], false, "{deleted}");
        let third = o.contact(json!({"email": "ada@example.com"}), None).await;
        assert_eq!(third["unsubscribed"], false, "{third}");

        // An import finds the opt-out too, and so does a save matched by external reference.
        let grace = o
            .contact(
                json!({"email": "grace@example.com", "unsubscribed": true}),
                None,
            )
            .await;
        let lin = o
            .contact(
                json!({"extRef": "003LIN", "lastName": "Lin", "unsubscribed": true}),
                None,
            )
            .await;
        for c in [&grace, &lin] {
            assert_eq!(o.delete_contact(&o.owner.1, c).await.1["optOutKept"], true);
        }
        let csv = "Email,FirstName\nGRACE@example.com,Grace\nnew@example.com,New\n";
        let r = o
            .app
            .post(&o.owner.1, "/api/v1/contacts/import")
            .header("content-type", "text/csv")
            .body(csv)
            .send()
            .await
            .unwrap();
        let status = r.status();
        let report = r.text().await.unwrap();
        assert_eq!(status, 200, "{report}");
        let lin_again = o
            .contact(json!({"extRef": "003LIN", "firstName": "Lin"}), None)
            .await;
        assert_eq!(lin_again["unsubscribed"], true, "{lin_again}");
        let (_, all) = o.call(&o.owner.1, "GET", "/api/v1/contacts", None).await;
        let subscribed = |email: &str| {
            all["contacts"]
                .as_array()
                .unwrap()
                .iter()
                .find(|c| {
                    c["email"]
                        .as_str()
                        .is_some_and(|e| e.eq_ignore_ascii_case(email))
                })
                .map(|c| c["unsubscribed"] == false)
        };
        assert_eq!(
            subscribed("grace@example.com"),
            Some(false),
            "the import kept the opt-out: {all} (import: {report})"
        );
        assert_eq!(subscribed("new@example.com"), Some(true));
        assert_eq!(o.events("action=contact.deleted").await.len(), 4);
    }
}

#[tokio::test]
async fn a_deleted_mailing_list_leaves_its_contacts_and_names_the_workflows_using_it() {
    for backend in backends() {
        let o = Org::new(backend).await;
        let (workflow, list) = o.list_workflow(&o.survey).await;
        let ada = o
            .contact(json!({"email": "ada@example.com"}), Some(&list))
            .await;
        o.contact(json!({"email": "grace@example.com"}), Some(&list))
            .await;
        let path = format!("/api/v1/mailing-lists/{list}");

        assert_eq!(o.call(&o.viewer.1, "DELETE", &path, None).await.0, 403);
        assert_eq!(o.call(&o.other.1, "DELETE", &path, None).await.0, 404);
        assert!(o.events("action=mailing_list.deleted").await.is_empty());

        let (status, deleted) = o.call(&o.owner.1, "DELETE", &path, None).await;
        assert_eq!(status, 200, "{backend:?}: {deleted}");
        assert_eq!(deleted["membershipsRemoved"], 2, "{deleted}");
        assert_eq!(
            deleted["workflowsAffected"][0]["id"],
            json!(workflow),
            "{deleted}"
        );
        assert_eq!(o.call(&o.owner.1, "GET", &path, None).await.0, 404);
        assert_eq!(
            o.call(&o.owner.1, "DELETE", &path, None).await.0,
            404,
            "deleted twice"
        );
        let id = ada["id"].as_str().unwrap();
        assert_eq!(
            o.call(&o.owner.1, "GET", &format!("/api/v1/contacts/{id}"), None)
                .await
                .0,
            200
        );
        let e = only(&o.events("action=mailing_list.deleted").await, "list");
        assert_eq!(e["subject"]["label"], json!(deleted["name"]));
        assert_eq!(e["detail"]["members"], 2, "{e}");

        // The workflow's next run fails saying what is missing, and the queue goes on.
        o.respond(&o.survey).await;
        let report = o.app.sonde.drain_workflows().await.unwrap();
        assert_eq!(report.failed, 1, "{report:?}");
        let (_, runs) = o
            .call(
                &o.owner.1,
                "GET",
                &format!("/api/v1/workflows/{workflow}/runs"),
                None,
            )
            .await;
        assert!(
            runs["runs"][0]["error"]
                .as_str()
                .unwrap()
                .contains("mailing list"),
            "{runs}"
        );
    }
}

#[tokio::test]
async fn a_revoked_token_is_recorded_as_its_owners_act_or_the_command_lines() {
    for backend in backends() {
        let o = Org::new(backend).await;
        let (_, made) = o
            .call(
                &o.viewer.1,
                "POST",
                "/api/v1/tokens",
                Some(json!({"name": "Zapier"})),
            )
            .await;
        let id = made["id"].as_str().unwrap().to_string();
        let path = format!("/api/v1/tokens/{id}");
        // Someone else's token is not found, even for an admin; nothing is recorded.
        assert_eq!(o.call(&o.admin.1, "DELETE", &path, None).await.0, 404);
        assert!(o.events("action=api_token.revoked").await.is_empty());
        // Anyone takes back their own, a viewer too.
        assert_eq!(
            o.call(&o.viewer.1, "DELETE", &path, None).await.0,
            204,
            "{backend:?}"
        );
        assert_eq!(
            o.call(&o.viewer.1, "DELETE", &path, None).await.0,
            404,
            "revoked twice"
        );
        let e = only(&o.events("action=api_token.revoked").await, "revoke");
        assert_eq!(e["actor"]["email"], json!(o.viewer.0.email));
        assert_eq!(
            e["subject"],
            json!({"kind": "api_token", "id": id, "label": "Zapier"})
        );

        // The operator's `sonde tokens revoke` is the command line's act, in the owner's org.
        let token = o
            .app
            .sonde
            .create_api_token_for(&o.owner.0.email, "CI", None)
            .await
            .unwrap();
        o.app
            .sonde
            .revoke_api_token_by_id(&token.listed.id)
            .await
            .unwrap();
        let e = only(
            &o.events(&format!("subjectId={}", token.listed.id)).await,
            "CLI revoke",
        );
        assert_eq!(
            e["actor"],
            json!({"userId": null, "email": "the command line"})
        );
        assert_eq!(e["detail"]["ownerEmail"], json!(o.owner.0.email));
    }
}
