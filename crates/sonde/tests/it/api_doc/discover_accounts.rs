//! Inbound jobs' own accounts and what came with them, checked against the document: the
//! versions a linked org serves, a query validated through an account, a job saved with an
//! account, every mapping form, a filter, notices and an expiry, its new credential.

use super::{json_body, Doc};
use crate::harness::TestApp;
use reqwest::Method;
use serde_json::json;

pub(super) async fn check(
    d: &mut Doc,
    app: &TestApp,
    token: &str,
    org: &sfsim::RunningOrg,
    connection: &str,
) {
    let (s, versions) = d
        .call(
            app,
            token,
            Method::GET,
            "/discover/connections/{id}/versions",
            &[connection],
            None,
        )
        .await;
    assert_eq!(s, 200, "{versions}");
    let version = versions["versions"][0]["version"].clone();
    let account = json!({
        "clientId": org.client_id(), "clientSecret": org.client_secret(),
        "username": org.username(), "password": org.password(), "loginUrl": org.login_url()
    });
    let (s, through_account) = d
        .call(
            app,
            token,
            Method::POST,
            "/discover/versions",
            &[],
            json_body(json!({"account": account})),
        )
        .await;
    assert_eq!(s, 200, "{through_account}");
    assert_eq!(through_account["versions"], versions["versions"]);
    let soql = "SELECT Id, Subject, Status, CreatedDate FROM Case";
    let (s, checked) = d
        .call(
            app,
            token,
            Method::POST,
            "/discover/validate-query",
            &[],
            json_body(json!({"account": account, "soql": soql, "apiVersion": version})),
        )
        .await;
    assert_eq!((s, &checked["valid"]), (200, &json!(true)), "{checked}");
    let (s, project) = d
        .call(
            app,
            token,
            Method::POST,
            "/discover/projects",
            &[],
            json_body(json!({"name": "Cases through an account"})),
        )
        .await;
    assert_eq!(s, 201, "{project}");
    let (s, job) = d
        .call(
            app,
            token,
            Method::POST,
            "/discover/jobs",
            &[],
            json_body(json!({
                "name": "Cases through an account", "projectId": project["id"],
                "account": account, "apiVersion": version, "dataType": "feedback", "soql": soql,
                "mappings": {"subject": "Subject", "status": {"field": "Status", "transform": "lowercase"},
                             "ref": {"field": "Subject", "transform": {"prefix": "case-"}},
                             "channel": {"value": "Web"}},
                "filter": [{"attribute": "status", "op": "in", "value": ["new", "closed"]},
                           {"attribute": "channel", "op": "equals", "value": "Web"}],
                "notify": {"emails": ["ops@example.com"], "on": ["failure", "success"]},
                "credentialExpiresOn": "2099-12-31", "reminderDaysBefore": 14,
                "includeDeleted": true
            })),
        )
        .await;
    assert_eq!(s, 201, "{job}");
    assert_eq!(job["account"]["hasPassword"], true, "{job}");
    let (s, replaced) = d
        .call(
            app,
            token,
            Method::PUT,
            "/discover/jobs/{id}/credential",
            &[job["id"].as_str().unwrap()],
            json_body(json!({"account": account, "credentialExpiresOn": "2100-01-31"})),
        )
        .await;
    assert_eq!(s, 200, "{replaced}");
    assert_eq!(replaced["credentialExpiresOn"], "2100-01-31");
    let (s, listed) = d
        .call(app, token, Method::GET, "/discover/jobs", &[], None)
        .await;
    assert_eq!(s, 200, "{listed}");
}
