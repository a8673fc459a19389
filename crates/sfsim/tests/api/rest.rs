//! REST records, upsert, collections, composite, validation errors, roll-ups, record types,
//! field-level security and the API allocation.

use crate::*;
use serde_json::json;

#[tokio::test]
async fn versions_limits_header_and_unknown_paths() {
    let t = demo().await;
    let v = t
        .http
        .get(t.url("/services/data/"))
        .send()
        .await
        .unwrap()
        .json::<Value>()
        .await
        .unwrap();
    assert!(v.as_array().unwrap().iter().any(|x| x["version"] == "59.0"));
    let a = t.get("limits").await;
    let header = a.headers["sforce-limit-info"].to_str().unwrap().to_string();
    assert!(header.starts_with("api-usage=1/"), "{header}");
    assert!(a.json["DailyApiRequests"]["Max"].as_u64().unwrap() > 0);
    let unauth = t.call_as("nope", Method::GET, "limits", None).await;
    assert_eq!(unauth.status, 401);
    assert_eq!(
        unauth.json,
        json!([{"message": "Session expired or invalid", "errorCode": "INVALID_SESSION_ID"}])
    );
    assert!(unauth.headers.contains_key("sforce-limit-info"));
    assert_eq!(t.get("sobjects/NoSuchThing__c/describe").await.status, 404);
    assert_eq!(t.get("/services/data/v999.0/limits").await.status, 404);
    assert_eq!(t.org.calls_to("limits"), 1);
}

#[tokio::test]
async fn create_retrieve_update_delete_with_15_and_18_char_ids() {
    let t = demo().await;
    let id = t
        .create("Account", json!({"Name": "Acme", "NumberOfEmployees": 5}))
        .await;
    assert_eq!(id.len(), 18);
    assert!(id.starts_with("001"));
    let got = t.get(&format!("sobjects/Account/{}", &id[..15])).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json["Id"], id);
    assert_eq!(got.json["NumberOfEmployees"], 5);
    assert_eq!(
        got.json["attributes"]["url"],
        format!("/services/data/v59.0/sobjects/Account/{id}")
    );
    let some = t.get(&format!("sobjects/Account/{id}?fields=Name")).await;
    assert_eq!(
        some.json.as_object().unwrap().len(),
        3,
        "attributes, Id and Name: {}",
        some.text
    );
    assert_eq!(
        t.patch(&format!("sobjects/Account/{id}"), json!({"Name": "Acme 2"}))
            .await
            .status,
        204
    );
    assert_eq!(
        t.get(&format!("sobjects/Account/{id}")).await.json["Name"],
        "Acme 2"
    );
    assert_eq!(
        t.delete(&format!("sobjects/Account/{id}")).await.status,
        204
    );
    let gone = t.get(&format!("sobjects/Account/{id}")).await;
    assert_eq!(
        (gone.status.as_u16(), error_code(&gone)),
        (404, "NOT_FOUND".into())
    );
    let contact_id = t.create("Contact", json!({"LastName": "X"})).await;
    assert_eq!(
        t.get(&format!("sobjects/Account/{contact_id}"))
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn validation_errors_match_a_real_org() {
    let t = demo().await;
    let cases = [
        (
            json!({"FirstName": "x"}),
            "REQUIRED_FIELD_MISSING",
            Some("LastName"),
        ),
        (
            json!({"LastName": "x", "Bogus__c": 1}),
            "INVALID_FIELD",
            None,
        ),
        (
            json!({"LastName": "x", "Name": "y"}),
            "INVALID_FIELD_FOR_INSERT_UPDATE",
            Some("Name"),
        ),
        (
            json!({"LastName": "x".repeat(81)}),
            "STRING_TOO_LONG",
            Some("LastName"),
        ),
        (
            json!({"LastName": "x", "Email": "not-an-email"}),
            "INVALID_EMAIL_ADDRESS",
            Some("Email"),
        ),
        (
            json!({"LastName": "x", "Birthdate": "yesterday"}),
            "JSON_PARSER_ERROR",
            None,
        ),
        (
            json!({"LastName": "x", "AccountId": "003000000000000AAA"}),
            "FIELD_INTEGRITY_EXCEPTION",
            Some("AccountId"),
        ),
        (
            json!({"LastName": "x", "AccountId": "001000000000000AAA"}),
            "INVALID_CROSS_REFERENCE_KEY",
            Some("AccountId"),
        ),
    ];
    for (body, code, field) in cases {
        let a = t.post("sobjects/Contact", body.clone()).await;
        assert_eq!(a.status, 400, "{body}");
        assert_eq!(error_code(&a), code, "{body}: {}", a.text);
        if let Some(f) = field {
            assert_eq!(a.json[0]["fields"], json!([f]), "{body}");
        }
    }
    let raw = t
        .http
        .post(t.url("sobjects/Account"))
        .bearer_auth(&t.token)
        .body("{oops")
        .send()
        .await
        .unwrap();
    assert_eq!(raw.status(), 400);
    let body: Value = raw.json().await.unwrap();
    assert_eq!(body[0]["errorCode"], "JSON_PARSER_ERROR");
    let dup = t
        .post(
            "sobjects/Survey_Response__c",
            json!({"Account__c": first_account(&t).await, "Response_Id__c": "R_000007340000000"}),
        )
        .await;
    assert_eq!(error_code(&dup), "DUPLICATE_VALUE", "{}", dup.text);
}

async fn first_account(t: &TestOrg) -> String {
    t.query("SELECT Id FROM Account ORDER BY Name LIMIT 1")
        .await
        .json["records"][0]["Id"]
        .as_str()
        .unwrap()
        .to_string()
}

#[tokio::test]
async fn upsert_answers_201_200_300_404() {
    let t = demo().await;
    let acct = first_account(&t).await;
    let path = "sobjects/Survey_Response__c/Response_Id__c/R_NEW_1";
    let a = t
        .patch(path, json!({"Account__c": acct, "NPS_Score__c": 9}))
        .await;
    assert_eq!(
        (a.status.as_u16(), &a.json["created"]),
        (201, &json!(true)),
        "{}",
        a.text
    );
    let b = t.patch(path, json!({"NPS_Score__c": 10})).await;
    assert_eq!(
        (b.status.as_u16(), &b.json["created"]),
        (200, &json!(false)),
        "{}",
        b.text
    );
    assert_eq!(a.json["id"], b.json["id"]);
    let old = t
        .patch(
            "/services/data/v40.0/sobjects/Survey_Response__c/Response_Id__c/R_NEW_1",
            json!({"NPS_Score__c": 8}),
        )
        .await;
    assert_eq!(old.status, 204, "old versions answer 204 on update");
    let got = t
        .get("sobjects/Survey_Response__c/Response_Id__c/R_NEW_1")
        .await;
    assert_eq!(got.json["NPS_Score__c"].as_f64(), Some(8.0));
    let no_ext = t.patch("sobjects/Account/Name/Acme", json!({})).await;
    assert_eq!(
        (no_ext.status.as_u16(), error_code(&no_ext)),
        (404, "NOT_FOUND".into())
    );
    let only = t
        .patch(
            "sobjects/Survey_Response__c/Response_Id__c/R_NONE?updateOnly=true",
            json!({"Account__c": acct}),
        )
        .await;
    assert_eq!(only.status, 404);
    // A non-unique external id can match several records.
    let meta = sfsim::MetadataFile::parse(
        "objects:\n  - name: Item__c\n    fields:\n      - {name: Sku__c, type: text, externalId: true}\n  - name: Line__c\n    fields:\n      - {name: Item__c, type: lookup, referenceTo: Item__c}\n",
    )
    .unwrap();
    let t2 = start(Org::builder().metadata(meta)).await;
    t2.create("Item__c", json!({"Sku__c": "A"})).await;
    t2.create("Item__c", json!({"Sku__c": "a"})).await;
    let multi = t2
        .patch("sobjects/Item__c/Sku__c/A", json!({"Name": "x"}))
        .await;
    assert_eq!(multi.status, 300, "external ids match case-insensitively");
    assert_eq!(multi.json.as_array().unwrap().len(), 2);
    let single = t2.create("Item__c", json!({"Sku__c": "B"})).await;
    let line = t2
        .create("Line__c", json!({"Item__r": {"Sku__c": "b"}}))
        .await;
    assert_eq!(
        t2.get(&format!("sobjects/Line__c/{line}")).await.json["Item__c"],
        single.as_str()
    );
    let ambiguous = t2
        .post("sobjects/Line__c", json!({"Item__r": {"Sku__c": "A"}}))
        .await;
    assert_eq!(error_code(&ambiguous), "INVALID_FIELD");
}

#[tokio::test]
async fn collections_all_or_none_and_limits() {
    let t = demo().await;
    let records: Vec<Value> = (0..200).map(|i| json!({"attributes": {"type": "Lead"}, "LastName": format!("L{i}"), "Company": "C"})).collect();
    let ok = t
        .post(
            "composite/sobjects",
            json!({"allOrNone": true, "records": records}),
        )
        .await;
    assert_eq!(ok.json.as_array().unwrap().len(), 200);
    // 200 records with 30 KB of text each: a 6 MB body a real org accepts.
    let big: Vec<Value> = (0..200).map(|i| json!({"attributes": {"type": "Lead"}, "LastName": format!("B{i}"), "Company": "C", "Description": "x".repeat(30_000)})).collect();
    let big = t.post("composite/sobjects", json!({"records": big})).await;
    assert_eq!(big.status, 200, "{}", &big.text[..big.text.len().min(300)]);
    let too_many: Vec<Value> = (0..201)
        .map(|_| json!({"attributes": {"type": "Lead"}, "LastName": "x", "Company": "C"}))
        .collect();
    let refused = t
        .post("composite/sobjects", json!({"records": too_many}))
        .await;
    assert_eq!(refused.status, 400);
    let before = t.query("SELECT COUNT() FROM Lead").await.json["totalSize"].clone();
    let mixed = json!({"allOrNone": true, "records": [
        {"attributes": {"type": "Lead"}, "LastName": "Good", "Company": "C"},
        {"attributes": {"type": "Lead"}, "LastName": "No company"},
    ]});
    let rolled = t.post("composite/sobjects", mixed).await;
    assert_eq!(
        rolled.json[0]["errors"][0]["statusCode"],
        "ALL_OR_NONE_OPERATION_ROLLED_BACK"
    );
    assert_eq!(
        rolled.json[1]["errors"][0]["statusCode"],
        "REQUIRED_FIELD_MISSING"
    );
    assert!(
        rolled.json[1]["errors"][0].get("errorCode").is_none(),
        "collections say statusCode"
    );
    assert_eq!(
        t.query("SELECT COUNT() FROM Lead").await.json["totalSize"],
        before
    );
    let ids: Vec<String> = ok
        .json
        .as_array()
        .unwrap()
        .iter()
        .take(3)
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect();
    let upd = t.patch("composite/sobjects", json!({"records": ids.iter().map(|id| json!({"attributes": {"type": "Lead"}, "id": id, "DoNotCall": true})).collect::<Vec<_>>()})).await;
    assert!(
        upd.json
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["success"] == true),
        "{}",
        upd.text
    );
    let got = t
        .get(&format!(
            "composite/sobjects/Lead?ids={}&fields=DoNotCall",
            ids.join(",")
        ))
        .await;
    assert!(got
        .json
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["DoNotCall"] == true));
    let del = t
        .delete(&format!("composite/sobjects?ids={}", ids.join(",")))
        .await;
    assert!(del
        .json
        .as_array()
        .unwrap()
        .iter()
        .all(|r| r["success"] == true));
    // A parent named by its external id instead of its record id.
    let via_ext = t.post("sobjects/Survey_Response__c", json!({"Account__c": first_account(&t).await, "Contact__r": {"Id": "003000000000000AAA"}})).await;
    assert_eq!(error_code(&via_ext), "INVALID_FIELD", "{}", via_ext.text);
    let ups = t.patch("composite/sobjects/Survey_Response__c/Response_Id__c", json!({"records": [
        {"attributes": {"type": "Survey_Response__c"}, "Response_Id__c": "R_COL_1", "Account__c": first_account(&t).await},
    ]})).await;
    assert_eq!(ups.json[0]["created"], true, "{}", ups.text);
}

#[tokio::test]
async fn composite_references_and_rollback() {
    let t = demo().await;
    let body = json!({"allOrNone": true, "compositeRequest": [
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Account", "referenceId": "a", "body": {"Name": "Comp"}},
        {"method": "POST", "url": "/services/data/v59.0/sobjects/Contact", "referenceId": "c", "body": {"AccountId": "@{a.id}"}},
    ]});
    let a = t.post("composite", body).await;
    let rs = a.json["compositeResponse"].as_array().unwrap();
    assert_eq!(rs[0]["body"][0]["errorCode"], "PROCESSING_HALTED");
    assert_eq!(rs[1]["body"][0]["errorCode"], "REQUIRED_FIELD_MISSING");
    assert_eq!(
        t.query("SELECT COUNT() FROM Account WHERE Name = 'Comp'")
            .await
            .json["totalSize"],
        0
    );
    let many: Vec<Value> = (0..26).map(|i| json!({"method": "GET", "url": "/services/data/v59.0/limits", "referenceId": format!("r{i}")})).collect();
    assert_eq!(
        t.post("composite", json!({"compositeRequest": many}))
            .await
            .status,
        400
    );
}

#[tokio::test]
async fn master_detail_roll_ups_and_record_types() {
    let t = demo().await;
    let acct = t.create("Account", json!({"Name": "Rollup Co"})).await;
    assert_eq!(rollup_count(&t, &acct).await, 0);
    let r1 = t
        .create(
            "Survey_Response__c",
            json!({"Account__c": acct, "NPS_Score__c": 7}),
        )
        .await;
    t.create(
        "Survey_Response__c",
        json!({"Account__c": acct, "NPS_Score__c": 9}),
    )
    .await;
    assert_eq!(rollup_count(&t, &acct).await, 2);
    assert_eq!(
        t.get(&format!("sobjects/Account/{acct}")).await.json["NPS_Score_Total__c"],
        16.0
    );
    let rec = t
        .get(&format!("sobjects/Survey_Response__c/{r1}"))
        .await
        .json;
    assert!(rec["Name"].as_str().unwrap().len() >= 8, "auto-number name");
    let nps = t.query("SELECT Id FROM RecordType WHERE SobjectType = 'Survey_Response__c' AND DeveloperName = 'NPS'").await;
    assert_eq!(
        rec["RecordTypeId"], nps.json["records"][0]["Id"],
        "default record type"
    );
    let bad_rt = t
        .post(
            "sobjects/Survey_Response__c",
            json!({"Account__c": acct, "RecordTypeId": "012000000000000AAA"}),
        )
        .await;
    assert_eq!(error_code(&bad_rt), "INVALID_CROSS_REFERENCE_KEY");
    let no_master = t
        .post("sobjects/Survey_Response__c", json!({"NPS_Score__c": 1}))
        .await;
    assert_eq!(error_code(&no_master), "REQUIRED_FIELD_MISSING");
    assert!(
        rec.get("OwnerId").is_none(),
        "master-detail children have no owner"
    );
    t.delete(&format!("sobjects/Survey_Response__c/{r1}")).await;
    assert_eq!(rollup_count(&t, &acct).await, 1);
    let sum = t
        .patch(
            &format!("sobjects/Account/{acct}"),
            json!({"Survey_Response_Count__c": 5}),
        )
        .await;
    assert_eq!(error_code(&sum), "INVALID_FIELD_FOR_INSERT_UPDATE");
    t.delete(&format!("sobjects/Account/{acct}")).await;
    let left = t
        .query(&format!(
            "SELECT COUNT() FROM Survey_Response__c WHERE Account__c = '{acct}'"
        ))
        .await;
    assert_eq!(
        left.json["totalSize"], 0,
        "deleting the master deletes the details"
    );
}

#[tokio::test]
async fn field_level_security_hides_and_locks_fields() {
    let t = demo().await;
    let token = t.org.session_for("integration@sfsim.example").unwrap();
    let d = t
        .call_as(&token, Method::GET, "sobjects/Contact/describe", None)
        .await;
    let fields: Vec<&str> = d.json["fields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(!fields.contains(&"MobilePhone") && fields.contains(&"Email"));
    let q = t
        .call_as(
            &token,
            Method::GET,
            "query?q=SELECT+MobilePhone+FROM+Contact",
            None,
        )
        .await;
    assert_eq!(error_code(&q), "INVALID_FIELD");
    let w = t
        .call_as(
            &token,
            Method::POST,
            "sobjects/Contact",
            Some(json!({"LastName": "x", "HasOptedOutOfEmail": true})),
        )
        .await;
    assert_eq!(error_code(&w), "INVALID_FIELD_FOR_INSERT_UPDATE");
}

#[tokio::test]
async fn daily_allocation_is_enforced_and_counted() {
    let t = start(Org::builder().daily_api_limit(3)).await;
    for _ in 0..3 {
        assert_eq!(t.get("limits").await.status, 200);
    }
    let over = t.get("limits").await;
    assert_eq!(
        (over.status.as_u16(), error_code(&over)),
        (403, "REQUEST_LIMIT_EXCEEDED".into())
    );
    assert_eq!(over.headers["sforce-limit-info"], "api-usage=3/3");
    assert!(!over.headers.contains_key("retry-after"));
    t.org.set_daily_api_limit(10);
    assert_eq!(t.get("limits").await.status, 200);
    t.org.exhaust_api_limit(true);
    assert_eq!(t.get("limits").await.status, 403);
    t.org.exhaust_api_limit(false);
    assert_eq!(t.org.api_usage(), (4, 10));
}

async fn rollup_count(t: &TestOrg, acct: &str) -> Value {
    t.get(&format!("sobjects/Account/{acct}")).await.json["Survey_Response_Count__c"].clone()
}
