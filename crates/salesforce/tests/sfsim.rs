//! The client against a local org (sfsim) over real HTTP: OAuth flows and refresh, describe,
//! records, upsert, query paging, collections, Bulk 2.0, error mapping, API budget and the
//! Outbound Message listener side. One file, one test binary: one link step.

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use salesforce::collections::NOT_ATTEMPTED;
use salesforce::oauth::PersistWith;
use salesforce::{
    AllowedHosts, BulkQueryOptions, CallKind, Connection, Error, OAuthClient, OAuthConfig,
    QueryOptions, Record, Secret, Tokens,
};
use serde_json::json;
use sfsim::{MetadataFile, OrgBuilder, RunningOrg};

const TEST_METADATA: &str = r#"
objects:
  - name: Feedback__c
    label: Feedback
    labelPlural: Feedback
    nameFieldType: autonumber
    fields:
      - {name: Ext_Id__c, type: text, length: 64, externalId: true, label: External Id}
      - {name: Score__c, type: number, precision: 4, scale: 0}
      - {name: Note__c, type: text, length: 255}
"#;

struct TestOrg {
    org: RunningOrg,
    conn: Connection,
    saved: Arc<Mutex<Vec<Tokens>>>,
}

/// The local org is on loopback, not a Salesforce domain: the client must be told it may
/// send credentials there, as Sonde's operators do with `SONDE_SALESFORCE_ALLOWED_HOSTS`.
fn allowed(org: &RunningOrg) -> AllowedHosts {
    AllowedHosts::parse(&org.host()).unwrap()
}

/// The connected app of `org`, allowed to reach it.
fn app_of(org: &RunningOrg, client_id: &str) -> OAuthConfig {
    OAuthConfig::new(org.login_url(), client_id).allowed_hosts(allowed(org))
}

impl TestOrg {
    fn oauth_config(&self) -> OAuthConfig {
        app_of(&self.org, self.org.client_id()).client_secret(self.org.client_secret())
    }

    fn saved(&self) -> Vec<Tokens> {
        self.saved.lock().unwrap().clone()
    }
}

fn builder() -> OrgBuilder {
    sfsim::Org::builder().metadata(MetadataFile::parse(TEST_METADATA).expect("test metadata"))
}

async fn start() -> TestOrg {
    start_with(builder()).await
}

async fn start_with(b: OrgBuilder) -> TestOrg {
    let org = b.start().await.expect("sfsim starts");
    let saved = Arc::new(Mutex::new(Vec::new()));
    let sink = saved.clone();
    let conn = Connection::builder(Tokens {
        access_token: Secret::new(org.access_token()),
        refresh_token: Some(Secret::new(org.refresh_token())),
        instance_url: org.instance_url().to_string(),
    })
    .oauth(app_of(&org, org.client_id()).client_secret(org.client_secret()))
    .persistence(PersistWith(move |t: &Tokens| {
        sink.lock().unwrap().push(t.clone());
        Ok(())
    }))
    .build()
    .expect("connection");
    TestOrg { org, conn, saved }
}

fn contact(last: &str) -> serde_json::Value {
    json!({ "LastName": last })
}

async fn insert_contacts(conn: &Connection, last: &str, n: usize) {
    let records: Vec<_> = (0..n).map(|_| contact(last)).collect();
    let results = conn.create_many("Contact", &records, false).await.unwrap();
    assert!(
        results.iter().all(|r| r.success),
        "{:?}",
        results.iter().find(|r| !r.success)
    );
}

// ---------------------------------------------------------------- OAuth

#[tokio::test]
async fn password_login_then_userinfo_versions_and_limits() {
    let t = start().await;
    let password = Secret::new(t.org.password());
    let conn = Connection::login_password(t.oauth_config(), &t.org.username(), &password)
        .await
        .expect("password flow");
    let me = conn.userinfo().await.unwrap();
    assert_eq!(
        me.preferred_username.as_deref(),
        Some(t.org.username().as_str())
    );
    assert_eq!(me.organization_id, t.org.org_id());

    let versions = conn.versions().await.unwrap();
    assert!(versions.iter().any(|v| v.version == conn.api_version()));
    let limits = conn.limits().await.unwrap();
    assert!(limits["DailyApiRequests"].max > 0);

    let wrong = OAuthClient::new(t.oauth_config())
        .unwrap()
        .password(&t.org.username(), &Secret::new("nope"))
        .await
        .unwrap_err();
    assert!(wrong.needs_reconnect(), "{wrong:?}");
    let bad_client = OAuthClient::new(app_of(&t.org, "unknown"))
        .unwrap()
        .password(&t.org.username(), &password)
        .await
        .unwrap_err();
    assert_eq!(bad_client.code(), Some("invalid_client_id"));
}

#[tokio::test]
async fn web_server_flow_with_state_and_pkce() {
    let t = start_with(builder().redirect_uri("http://127.0.0.1:9/callback")).await;
    let cfg = t.oauth_config().redirect_uri("http://127.0.0.1:9/callback");
    let start = salesforce::authorize_url(&cfg, Some("api refresh_token")).unwrap();

    // A person signing in and approving, scripted as the form post the page makes.
    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let mut form: Vec<(String, String)> = start.url.query_pairs().into_owned().collect();
    form.push(("username".into(), t.org.username()));
    form.push(("password".into(), t.org.password().to_string()));
    form.push(("action".into(), "Allow".into()));
    let resp = browser
        .post(format!("{}/services/oauth2/authorize", t.org.login_url()))
        .form(&form)
        .send()
        .await
        .unwrap();
    assert!(resp.status().is_redirection(), "{}", resp.status());
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let q: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(q["state"], start.state, "state comes back unchanged");

    let oauth = OAuthClient::new(cfg).unwrap();
    let wrong_verifier = oauth
        .exchange_code(&q["code"], Some(&Secret::new("x".repeat(43))))
        .await
        .unwrap_err();
    assert!(wrong_verifier.needs_reconnect());

    // Codes are single-use, so approve again for the real exchange.
    let resp = browser
        .post(format!("{}/services/oauth2/authorize", t.org.login_url()))
        .form(&form)
        .send()
        .await
        .unwrap();
    let location = url::Url::parse(resp.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(k, _)| k == "code")
        .unwrap()
        .1
        .into_owned();
    let tokens = oauth
        .exchange_code(&code, Some(&start.pkce.verifier))
        .await
        .unwrap();
    assert!(tokens.refresh_token.is_some());
    assert_eq!(tokens.org_id(), Some(t.org.org_id().as_str()));
    let conn = Connection::builder(tokens.into())
        .allowed_hosts(allowed(&t.org))
        .build()
        .unwrap();
    assert_eq!(conn.count("SELECT COUNT() FROM Contact").await.unwrap(), 0);
}

#[tokio::test]
async fn jwt_bearer_flow() {
    let t = start().await;
    let key = include_bytes!("data/jwt_test_key.pem");
    let oauth = OAuthClient::new(app_of(&t.org, t.org.client_id())).unwrap();
    let tokens = oauth
        .jwt_bearer(&t.org.username(), key, None)
        .await
        .unwrap();
    assert!(
        tokens.refresh_token.is_none(),
        "JWT bearer issues no refresh token"
    );
    let bad_audience = oauth
        .jwt_bearer(&t.org.username(), key, Some("https://login.salesforce.com"))
        .await
        .unwrap_err();
    assert!(bad_audience.needs_reconnect());
}

#[tokio::test]
async fn expired_session_refreshes_once_and_persists_before_use() {
    let t = start().await;
    t.org.expire_sessions();
    let old = t.conn.tokens();
    assert_eq!(
        t.conn.count("SELECT COUNT() FROM Contact").await.unwrap(),
        0
    );
    let saved = t.saved();
    assert_eq!(saved.len(), 1, "one refresh, persisted once");
    assert_ne!(saved[0].access_token, old.access_token);
    assert_eq!(
        saved[0],
        t.conn.tokens(),
        "the persisted tokens are the ones in use"
    );
    assert_eq!(t.conn.budget().calls(CallKind::OAuth), 1);
    // Without rotation the refresh token is kept.
    assert_eq!(saved[0].refresh_token, old.refresh_token);
}

#[tokio::test]
async fn tokens_that_cannot_be_saved_are_not_used() {
    let t = start().await;
    let conn = Connection::builder(t.conn.tokens())
        .oauth(t.oauth_config())
        .persistence(PersistWith(|_: &Tokens| Err("disk full".to_string())))
        .build()
        .unwrap();
    let before = conn.tokens();
    t.org.expire_sessions();
    t.org.reset_calls();
    let e = conn.count("SELECT COUNT() FROM Contact").await.unwrap_err();
    assert!(matches!(&e, Error::Persist(m) if m == "disk full"), "{e:?}");
    assert_eq!(conn.tokens(), before, "the unsaved tokens were not adopted");
    // The org counts only calls with a valid session: a retry with the new tokens would be 1.
    assert_eq!(
        t.org.calls_to("query"),
        0,
        "no call was made with the unsaved tokens"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rotation_under_concurrent_calls_refreshes_exactly_once() {
    let t = start_with(builder().rotate_refresh_tokens(true)).await;
    let original = t.conn.tokens().refresh_token.unwrap();
    t.org.expire_sessions();
    t.org.reset_calls();

    let calls = (0..24).map(|_| {
        let conn = t.conn.clone();
        tokio::spawn(async move { conn.count("SELECT COUNT() FROM Contact").await })
    });
    for r in futures::future::join_all(calls).await {
        assert_eq!(r.unwrap().unwrap(), 0);
    }

    let saved = t.saved();
    assert_eq!(saved.len(), 1, "exactly one refresh persisted");
    assert_eq!(t.conn.budget().calls(CallKind::OAuth), 1);
    let rotated = saved[0].refresh_token.clone().unwrap();
    assert_ne!(rotated, original);
    // On the org's side: the old refresh token was retired by the one refresh, and the new one
    // is the only live one (a second refresh would have retired it and failed every caller).
    let oauth = OAuthClient::new(t.oauth_config()).unwrap();
    assert!(oauth
        .refresh(&original)
        .await
        .unwrap_err()
        .needs_reconnect());
    assert!(oauth.refresh(&rotated).await.is_ok());
    // 24 queries that failed with 401 and 24 retries.
    assert_eq!(t.org.calls_to("query"), 24);
}

#[tokio::test]
async fn dead_refresh_token_means_reconnect_and_fails_fast() {
    let t = start().await;
    t.conn.revoke().await.unwrap();
    let e = t
        .conn
        .count("SELECT COUNT() FROM Contact")
        .await
        .unwrap_err();
    assert!(e.needs_reconnect(), "{e:?}");

    let t = start().await;
    let conn = Connection::builder(Tokens {
        access_token: Secret::new("expired"),
        refresh_token: Some(Secret::new("not-a-refresh-token")),
        instance_url: t.org.instance_url().into(),
    })
    .oauth(t.oauth_config())
    .build()
    .unwrap();
    let e = conn.describe("Contact").await.unwrap_err();
    assert_eq!(e.code(), Some("invalid_grant"));
    let again = conn.describe("Contact").await.unwrap_err();
    assert!(again.needs_reconnect());
    assert_eq!(
        conn.budget().calls(CallKind::OAuth),
        1,
        "no second refresh attempt"
    );
}

// ---------------------------------------------------------------- metadata and records

#[tokio::test]
async fn describe_is_cached_per_connection() {
    let t = start().await;
    let global = t.conn.describe_global().await.unwrap();
    assert!(global
        .sobjects
        .iter()
        .any(|o| o.name == "Feedback__c" && o.custom));
    let d = t.conn.describe("Contact").await.unwrap();
    let again = t.conn.describe("contact").await.unwrap();
    assert!(Arc::ptr_eq(&d, &again));
    assert_eq!(t.org.calls_to("sobject.describe"), 1);
    assert_eq!(d.field("Email").unwrap().kind, "email");
    assert!(d.required_on_create().any(|f| f.name == "LastName"));
    let f = t.conn.describe("Feedback__c").await.unwrap();
    assert!(f.field("Ext_Id__c").unwrap().external_id);
}

#[tokio::test]
async fn create_retrieve_update_delete() {
    let t = start().await;
    let id = t
        .conn
        .create(
            "Contact",
            &json!({"LastName": "Lovelace", "Email": "ada@example.com"}),
        )
        .await
        .unwrap();
    assert!(id.starts_with("003") && id.len() == 18);
    let r: Record = t
        .conn
        .retrieve("Contact", &id, Some(&["LastName", "Email"]))
        .await
        .unwrap();
    assert_eq!(r["Email"], "ada@example.com");
    assert_eq!(r["attributes"]["type"], "Contact");
    t.conn
        .update("Contact", &id, &json!({"Email": "ada@analytical.example"}))
        .await
        .unwrap();
    let r: Record = t.conn.retrieve("Contact", &id, None).await.unwrap();
    assert_eq!(r["Email"], "ada@analytical.example");
    t.conn.delete("Contact", &id).await.unwrap();
    let gone = t
        .conn
        .retrieve::<Record>("Contact", &id, None)
        .await
        .unwrap_err();
    assert!(
        matches!(gone, Error::Permanent { status: 404, .. }),
        "{gone:?}"
    );
}

#[tokio::test]
async fn upsert_inserts_updates_and_reports_multiple_matches() {
    let t = start().await;
    let first = t
        .conn
        .upsert("Feedback__c", "Ext_Id__c", "R-1", &json!({"Score__c": 9}))
        .await
        .unwrap();
    assert!(first.created);
    let second = t
        .conn
        .upsert("Feedback__c", "Ext_Id__c", "R-1", &json!({"Score__c": 10}))
        .await
        .unwrap();
    assert!(!second.created);
    assert_eq!(first.id, second.id);
    let r: Record = t
        .conn
        .retrieve("Feedback__c", first.id.as_deref().unwrap(), None)
        .await
        .unwrap();
    assert_eq!(r["Score__c"].as_f64(), Some(10.0));

    let refused = t
        .conn
        .upsert_update_only("Feedback__c", "Ext_Id__c", "R-404", &json!({"Score__c": 1}))
        .await
        .unwrap_err();
    assert!(matches!(refused, Error::Permanent { .. }), "{refused:?}");

    // The field is an external id but not unique: two records may share a value.
    t.conn
        .create_many(
            "Feedback__c",
            &[json!({"Ext_Id__c": "DUP"}), json!({"Ext_Id__c": "DUP"})],
            true,
        )
        .await
        .unwrap();
    match t
        .conn
        .upsert("Feedback__c", "Ext_Id__c", "DUP", &json!({"Score__c": 1}))
        .await
    {
        Err(Error::MultipleMatches { matches }) => {
            assert_eq!(matches.len(), 2);
            assert!(matches.iter().all(|m| m.contains("/sobjects/Feedback__c/")));
        }
        other => panic!("expected multiple matches, got {other:?}"),
    }
    let not_ext = t
        .conn
        .upsert("Feedback__c", "Note__c", "x", &json!({}))
        .await
        .unwrap_err();
    assert!(
        matches!(not_ext, Error::Permanent { status: 404, .. }),
        "{not_ext:?}"
    );
}

// ---------------------------------------------------------------- query

#[tokio::test]
async fn query_streams_all_pages_of_5000_and_query_all_sees_deleted() {
    let t = start().await;
    insert_contacts(&t.conn, "Pager", 5000).await;
    t.org.reset_calls();
    let before = t.conn.budget().calls(CallKind::Query);

    let mut seen = HashSet::new();
    let mut rows = t.conn.query_with::<Record>(
        "SELECT Id, LastName FROM Contact WHERE LastName = 'Pager'",
        QueryOptions {
            batch_size: Some(2000),
            ..Default::default()
        },
    );
    while let Some(r) = rows.next().await {
        let r = r.unwrap();
        assert_eq!(r["LastName"], "Pager");
        assert!(
            seen.insert(r["Id"].as_str().unwrap().to_string()),
            "no duplicates"
        );
    }
    assert_eq!(seen.len(), 5000);
    assert_eq!(t.org.calls_to("query"), 1);
    assert_eq!(t.org.calls_to("queryMore"), 2, "pages of 2000");
    assert_eq!(t.conn.budget().calls(CallKind::Query) - before, 3);

    let to_delete: Vec<String> = seen.iter().take(250).cloned().collect();
    let res = t.conn.delete_many(&to_delete, false).await.unwrap();
    assert!(res.iter().all(|r| r.success));
    let live = t
        .conn
        .count("SELECT COUNT() FROM Contact WHERE LastName = 'Pager'")
        .await
        .unwrap();
    assert_eq!(live, 4750);
    let deleted: Vec<Record> = t
        .conn
        .query_all(
            "SELECT Id, IsDeleted FROM Contact WHERE LastName = 'Pager' AND IsDeleted = true",
        )
        .try_collect()
        .await
        .unwrap();
    assert_eq!(deleted.len(), 250);
    assert!(deleted.iter().all(|r| r["IsDeleted"] == true));
}

// ---------------------------------------------------------------- collections

#[tokio::test]
async fn collections_chunk_by_200_with_per_record_results_in_order() {
    let t = start().await;
    let records: Vec<_> = (0..450)
        .map(|i| {
            if i == 5 || i == 300 {
                json!({"Email": "no-last-name@example.com"})
            } else {
                json!({"LastName": format!("C{i}")})
            }
        })
        .collect();
    t.org.reset_calls();
    let results = t
        .conn
        .create_many("Contact", &records, false)
        .await
        .unwrap();
    assert_eq!(t.org.calls_to("collections.create"), 3);
    assert_eq!(results.len(), 450);
    for (i, r) in results.iter().enumerate() {
        if i == 5 || i == 300 {
            assert!(!r.success);
            assert_eq!(r.errors[0].code, "REQUIRED_FIELD_MISSING");
            assert_eq!(r.errors[0].fields, vec!["LastName"]);
        } else {
            assert!(r.success, "record {i}: {:?}", r.errors);
        }
    }
    // Order is kept: record 7 got the id whose LastName is C7.
    let r: Record = t
        .conn
        .retrieve(
            "Contact",
            results[7].id.as_deref().unwrap(),
            Some(&["LastName"]),
        )
        .await
        .unwrap();
    assert_eq!(r["LastName"], "C7");

    // Updates and upserts through collections.
    let updates: Vec<_> = results
        .iter()
        .filter_map(|r| r.id.clone())
        .take(250)
        .map(|id| json!({"Id": id, "Title": "Updated"}))
        .collect();
    let up = t
        .conn
        .update_many("Contact", &updates, false)
        .await
        .unwrap();
    assert!(up.iter().all(|r| r.success));
    assert_eq!(
        t.conn
            .count("SELECT COUNT() FROM Contact WHERE Title = 'Updated'")
            .await
            .unwrap(),
        250
    );
    let ups: Vec<_> = (0..3)
        .map(|i| json!({"Ext_Id__c": format!("U-{i}"), "Score__c": i}))
        .collect();
    let first = t
        .conn
        .upsert_many("Feedback__c", "Ext_Id__c", &ups, false)
        .await
        .unwrap();
    assert!(first.iter().all(|r| r.success && r.created == Some(true)));
    let again = t
        .conn
        .upsert_many("Feedback__c", "Ext_Id__c", &ups, false)
        .await
        .unwrap();
    assert!(again.iter().all(|r| r.success && r.created == Some(false)));

    // allOrNone: the failing chunk rolls back, later chunks are not sent.
    let mut bad: Vec<_> = (0..450)
        .map(|i| json!({"LastName": format!("A{i}")}))
        .collect();
    bad[210] = json!({"Email": "x@example.com"});
    t.org.reset_calls();
    let results = t.conn.create_many("Contact", &bad, true).await.unwrap();
    assert_eq!(t.org.calls_to("collections.create"), 2);
    assert!(results[..200].iter().all(|r| r.success));
    assert!(results[200..400].iter().all(|r| !r.success));
    assert!(results[400..]
        .iter()
        .all(|r| r.errors[0].code == NOT_ATTEMPTED));
}

// ---------------------------------------------------------------- Bulk API 2.0

#[tokio::test]
async fn bulk_query_streams_csv_pages() {
    let t = start().await;
    insert_contacts(&t.conn, "Bulk", 5000).await;
    t.org.reset_calls();
    let rows = t
        .conn
        .bulk_query(
            "SELECT Id, LastName, Email FROM Contact WHERE LastName = 'Bulk'",
            BulkQueryOptions {
                max_records: Some(1000),
                poll_initial: Duration::from_millis(20),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let rows: Vec<_> = rows.try_collect().await.unwrap();
    assert_eq!(rows.len(), 5000);
    assert_eq!(&rows[0].columns[..], ["Id", "LastName", "Email"]);
    assert!(rows.iter().all(|r| r.get("lastname") == Some("Bulk")));
    assert_eq!(
        rows.iter()
            .map(|r| r.get("Id"))
            .collect::<HashSet<_>>()
            .len(),
        5000
    );
    assert_eq!(t.org.calls_to("bulk.getQueryResults"), 5);

    let bad = match t
        .conn
        .bulk_query("SELECT Nope__c FROM Contact", BulkQueryOptions::default())
        .await
    {
        Err(e) => e,
        Ok(s) => s.try_collect::<Vec<_>>().await.unwrap_err(),
    };
    assert!(
        matches!(bad, Error::Permanent { .. } | Error::JobFailed { .. }),
        "{bad:?}"
    );
}

// ---------------------------------------------------------------- errors and budget

#[tokio::test]
async fn errors_map_to_salesforce_codes() {
    let t = start().await;
    let bad_field = t
        .conn
        .count("SELECT COUNT() FROM Contact WHERE Nope__c = 1")
        .await
        .unwrap_err();
    assert_eq!(bad_field.code(), Some("INVALID_FIELD"), "{bad_field:?}");
    let malformed = t.conn.count("SELEKT Id FROM Contact").await.unwrap_err();
    assert_eq!(malformed.code(), Some("MALFORMED_QUERY"));
    let unknown = t
        .conn
        .create("Contact", &json!({"LastName": "X", "Nope__c": 1}))
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Some("INVALID_FIELD"));
    match t.conn.create("Contact", &json!({"Email": "a@b.c"})).await {
        Err(Error::Permanent { code, fields, .. }) => {
            assert_eq!(code, "REQUIRED_FIELD_MISSING");
            assert_eq!(fields, vec!["LastName"]);
        }
        other => panic!("{other:?}"),
    }

    t.org.set_faults(sfsim::Faults {
        error_rate: 1.0,
        ..Default::default()
    });
    let e = t
        .conn
        .count("SELECT COUNT() FROM Contact")
        .await
        .unwrap_err();
    assert!(e.is_retryable(), "{e:?}");
    t.org.clear_faults();

    t.org.exhaust_api_limit(true);
    let e = t
        .conn
        .count("SELECT COUNT() FROM Contact")
        .await
        .unwrap_err();
    assert!(e.is_rate_limited(), "{e:?}");
    assert!(!e.is_retryable());
    t.org.exhaust_api_limit(false);
}

#[tokio::test]
async fn budget_follows_sforce_limit_info() {
    let t = start_with(builder().daily_api_limit(5000)).await;
    t.conn.count("SELECT COUNT() FROM Contact").await.unwrap();
    t.conn.describe("Account").await.unwrap();
    let usage = t.conn.budget().usage().expect("header seen");
    assert_eq!(usage.max, 5000);
    assert_eq!((usage.used, usage.max), t.org.api_usage());
    assert_eq!(t.conn.budget().calls(CallKind::Query), 1);
    assert_eq!(t.conn.budget().calls(CallKind::Metadata), 1);
    assert_eq!(t.conn.budget().total_calls(), 2);
}

// ---------------------------------------------------------------- Outbound Messages

/// A listener built on the codec: faults the first delivery it sees, then acknowledges, and
/// acts on each notification id once.
#[tokio::test]
async fn outbound_listener_acks_and_dedupes_retries() {
    use axum::{routing::post, Router};

    #[derive(Default)]
    struct Listener {
        posts: usize,
        acted_on: HashSet<String>,
        duplicates: usize,
        records: Vec<String>,
    }
    let state = Arc::new(Mutex::new(Listener::default()));
    let s = state.clone();
    let app = Router::new().route(
        "/hooks/salesforce",
        post(move |body: String| {
            let s = s.clone();
            async move {
                let msg = match salesforce::parse_notifications(&body) {
                    Ok(m) => m,
                    Err(e) => {
                        return (
                            axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                            salesforce::fault_response(
                                salesforce::outbound::FaultCode::Client,
                                &e.to_string(),
                            ),
                        )
                    }
                };
                let mut l = s.lock().unwrap();
                l.posts += 1;
                if l.posts == 1 {
                    return (
                        axum::http::StatusCode::INTERNAL_SERVER_ERROR,
                        salesforce::fault_response(
                            salesforce::outbound::FaultCode::Server,
                            "try again later",
                        ),
                    );
                }
                for n in &msg.notifications {
                    if l.acted_on.insert(n.id.clone()) {
                        l.records
                            .push(n.sobject.id().unwrap_or_default().to_string());
                    } else {
                        l.duplicates += 1;
                    }
                }
                (axum::http::StatusCode::OK, salesforce::ack_response(true))
            }
        }),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await });

    let t = start().await;
    t.org.set_outbound_settings(sfsim::OutboundSettings {
        first_retry_ms: 50,
        duplicate_rate: 1.0,
        ..Default::default()
    });
    t.org
        .add_outbound_rule(sfsim::OutboundRule {
            id: String::new(),
            name: "survey on new contact".into(),
            object: "Contact".into(),
            on_create: true,
            on_update: false,
            criteria: None,
            fields: vec!["Email".into(), "LastName".into()],
            endpoint: format!("http://{addr}/hooks/salesforce"),
            send_session_id: false,
        })
        .unwrap();
    let mut ids = Vec::new();
    for i in 0..3 {
        let fields = json!({"LastName": format!("O{i}")});
        ids.push(t.conn.create("Contact", &fields).await.unwrap());
    }

    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        let done = {
            let l = state.lock().unwrap();
            l.acted_on.len() == 3 && l.duplicates > 0
        };
        if done || tokio::time::Instant::now() > deadline {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let l = state.lock().unwrap();
    assert_eq!(l.acted_on.len(), 3, "each notification acted on once");
    let mut got = l.records.clone();
    got.sort();
    let mut want = ids.clone();
    want.sort();
    assert_eq!(got, want);
    assert!(l.duplicates > 0, "duplicates were delivered and ignored");
    let deliveries = t.org.outbound_deliveries();
    assert!(
        deliveries.iter().any(|d| !d.acknowledged),
        "the fault was seen as a failure"
    );
    assert!(deliveries.iter().any(|d| d.acknowledged));
}

// ---------------------------------------------------------------- TLS

#[tokio::test]
async fn works_over_tls_with_the_orgs_certificate() {
    let org = sfsim::Org::builder().tls(true).start().await.unwrap();
    assert!(org.instance_url().starts_with("https://"));
    let pem = std::fs::read(org.ca_cert().expect("CA written")).unwrap();
    let http = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let oauth = OAuthClient::with_http(
        http.clone(),
        app_of(&org, org.client_id()).client_secret(org.client_secret()),
    );
    let tokens = oauth
        .password(&org.username(), &Secret::new(org.password()))
        .await
        .unwrap();
    let conn = Connection::builder(tokens.into())
        .http(http)
        .allowed_hosts(allowed(&org))
        .build()
        .unwrap();
    let id = conn
        .create("Account", &json!({"Name": "Secure"}))
        .await
        .unwrap();
    let r: Record = conn
        .retrieve("Account", &id, Some(&["Name"]))
        .await
        .unwrap();
    assert_eq!(r["Name"], "Secure");

    // Without the org's CA the handshake fails: configuration, neither transient nor a
    // reconnect.
    let plain = Connection::builder(conn.tokens())
        .allowed_hosts(allowed(&org))
        .build()
        .unwrap();
    let e = plain
        .count("SELECT COUNT() FROM Account")
        .await
        .unwrap_err();
    assert!(matches!(&e, Error::Config(m) if m.contains("TLS")), "{e:?}");
    org.shutdown().await;
}
