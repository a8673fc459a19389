//! Input the API cannot even read — a query string, a path or a body that does not parse, a
//! method the endpoint does not take — is answered with the API's JSON error saying what and
//! where, like every other API error.

use crate::harness::{Backend, TestApp};
use engine::Role;
use serde_json::Value;

/// Sends the request and returns the status and the JSON error, failing on any other body.
async fn json_error(req: reqwest::RequestBuilder) -> (u16, Value) {
    let r = req.send().await.unwrap();
    let status = r.status().as_u16();
    let content_type = r
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let text = r.text().await.unwrap();
    assert!(
        content_type.starts_with("application/json"),
        "{status} answered as {content_type:?}: {text}"
    );
    let v: Value = serde_json::from_str(&text).unwrap();
    assert!(v["error"]["code"].is_string(), "{v}");
    assert!(v["error"]["message"].is_string(), "{v}");
    (status, v)
}

#[tokio::test]
async fn unreadable_input_gets_the_apis_json_error() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let (_, token) = app.org_user(Role::Editor).await;
    let survey = app.sample_survey(&token).await;

    // A query parameter of the wrong type names the parameter.
    for path in [
        "/api/v1/contacts?limit=abc".to_string(),
        format!("/api/v1/surveys/{survey}/responses?limit=-1"),
        "/api/v1/workflows/WF_x/runs?limit=many".to_string(),
    ] {
        let (status, v) = json_error(app.get(&token, &path)).await;
        assert_eq!(status, 400, "{path}: {v}");
        assert_eq!(v["error"]["code"], "invalid", "{v}");
        let problem = &v["error"]["problems"][0];
        assert_eq!(problem["field"], "limit", "{path}: {v}");
        assert!(
            v["error"]["message"].as_str().unwrap().contains("limit"),
            "{v}"
        );
    }

    // A path segment that is not UTF-8.
    let (status, v) = json_error(app.get(&token, "/api/v1/surveys/%FF%FE")).await;
    assert_eq!(status, 400, "{v}");
    assert_eq!(v["error"]["code"], "invalid");

    // A body that is not JSON names the line and column.
    let (status, v) = json_error(
        app.post(&token, "/api/v1/mailing-lists")
            .header("content-type", "application/json")
            .body("{\"name\": "),
    )
    .await;
    assert_eq!(status, 400, "{v}");
    assert!(
        v["error"]["problems"][0]["field"]
            .as_str()
            .unwrap()
            .starts_with("line 1"),
        "{v}"
    );

    // A method the endpoint does not take says which it does.
    let (status, v) = json_error(
        app.client
            .delete(app.url("/api/v1/surveys"))
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(status, 405, "{v}");
    let message = v["error"]["message"].as_str().unwrap();
    assert!(message.contains("GET") && message.contains("POST"), "{v}");

    // A body over the limit.
    let big = vec![b' '; 33 * 1024 * 1024];
    let (status, v) = json_error(
        app.post(&token, "/api/v1/contacts/import")
            .header("content-type", "text/csv")
            .body(big),
    )
    .await;
    assert_eq!(status, 413, "{v}");
    assert!(
        v["error"]["message"].as_str().unwrap().contains("32 MiB"),
        "{v}"
    );
}
