//! The deletion calls and the audit log, checked against the document: a survey archived
//! (then listed among the archived), restored, refused a purge while open (409), archived
//! again and purged; a response, a mailing list and a contact deleted; the log read, filtered
//! and refused an unknown action.

use super::Doc;
use crate::harness::TestApp;
use reqwest::Method;
use serde_json::json;

/// What the calls act on, made earlier in the walk through the API.
pub(super) struct Subjects<'a> {
    pub survey: &'a str,
    pub response: &'a str,
    /// A survey nothing later uses, archived and purged here.
    pub archivable: &'a str,
    pub list: &'a str,
    pub contact: &'a str,
}

pub(super) async fn check(d: &mut Doc, app: &TestApp, token: &str, on: Subjects<'_>) {
    let (post, get, delete) = (Method::POST, Method::GET, Method::DELETE);
    let survey = [on.archivable];
    let (s, archived) = d
        .call(
            app,
            token,
            post.clone(),
            "/surveys/{id}/archive",
            &survey,
            None,
        )
        .await;
    assert_eq!(s, 200, "{archived}");
    assert!(archived["archivedAt"].is_string(), "{archived}");
    let (s, listed) = d
        .call(app, token, get.clone(), "/surveys?archived=true", &[], None)
        .await;
    assert_eq!(
        (s, &listed["surveys"][0]["id"]),
        (200, &json!(on.archivable))
    );
    let (s, _) = d
        .call(
            app,
            token,
            post.clone(),
            "/surveys/{id}/restore",
            &survey,
            None,
        )
        .await;
    assert_eq!(s, 200);
    let (s, refused) = d
        .call(app, token, delete.clone(), "/surveys/{id}", &survey, None)
        .await;
    assert_eq!(s, 409, "{refused}");
    d.call(app, token, post, "/surveys/{id}/archive", &survey, None)
        .await;
    let (s, purged) = d
        .call(app, token, delete.clone(), "/surveys/{id}", &survey, None)
        .await;
    assert_eq!(s, 200, "{purged}");

    let one = "/surveys/{id}/responses/{response_id}";
    let (s, _) = d
        .call(
            app,
            token,
            delete.clone(),
            one,
            &[on.survey, on.response],
            None,
        )
        .await;
    assert_eq!(s, 204);
    let (s, gone) = d
        .call(
            app,
            token,
            delete.clone(),
            "/mailing-lists/{id}",
            &[on.list],
            None,
        )
        .await;
    assert_eq!(s, 200, "{gone}");
    let (s, gone) = d
        .call(app, token, delete, "/contacts/{id}", &[on.contact], None)
        .await;
    assert_eq!(s, 200, "{gone}");

    let (s, log) = d
        .call(app, token, get.clone(), "/audit-events?limit=3", &[], None)
        .await;
    assert_eq!(s, 200, "{log}");
    assert_eq!(log["events"][0]["action"], "contact.deleted", "{log}");
    assert!(log["next"].is_string(), "{log}");
    let (s, purges) = d
        .call(
            app,
            token,
            get.clone(),
            "/audit-events?action=survey.purged",
            &[],
            None,
        )
        .await;
    assert_eq!(
        (s, purges["events"].as_array().unwrap().len()),
        (200, 1),
        "{purges}"
    );
    let (s, _) = d
        .call(
            app,
            token,
            get,
            "/audit-events?action=survey.eaten",
            &[],
            None,
        )
        .await;
    assert_eq!(s, 400);
}
