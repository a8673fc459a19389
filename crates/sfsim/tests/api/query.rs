//! SOQL over REST: filters, relationships, child subqueries, ordering, paging with queryMore,
//! aggregates, date literals on the org clock, queryAll and error positions.

use crate::*;
use serde_json::json;

fn names(a: &Answer, key: &str) -> Vec<String> {
    a.json["records"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r[key].as_str().unwrap_or("").to_string())
        .collect()
}

#[tokio::test]
async fn filters_ordering_and_limits() {
    let t = demo().await;
    let a = t.query("SELECT Name FROM Account WHERE Industry IN ('Retail', 'Banking') AND Name LIKE '%E%' ORDER BY Name DESC LIMIT 2 OFFSET 1").await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(
        names(&a, "Name"),
        vec!["Maple & Finch Bakery", "Granite Peak Insurance"]
    );
    let opted = t
        .query("SELECT Id FROM Contact WHERE HasOptedOutOfEmail = true")
        .await;
    let not = t
        .query("SELECT Id FROM Contact WHERE NOT (HasOptedOutOfEmail = true)")
        .await;
    let all = t.query("SELECT COUNT() FROM Contact").await;
    assert_eq!(
        opted.json["totalSize"].as_u64().unwrap() + not.json["totalSize"].as_u64().unwrap(),
        all.json["totalSize"].as_u64().unwrap()
    );
    let nulls = t
        .query("SELECT MobilePhone FROM Contact ORDER BY MobilePhone NULLS LAST")
        .await;
    let recs = nulls.json["records"].as_array().unwrap();
    assert!(
        recs.first().unwrap()["MobilePhone"].is_string()
            && recs.last().unwrap()["MobilePhone"].is_null()
    );
}

#[tokio::test]
async fn relationships_render_nested_and_children_as_subresults() {
    let t = demo().await;
    let a = t.query("SELECT Name, Account.Name, Account.Owner.Alias, (SELECT Subject FROM Cases ORDER BY Subject) FROM Contact WHERE Account.Name = 'Northwind Outfitters' ORDER BY Name").await;
    let r = &a.json["records"][0];
    assert_eq!(r["Account"]["Name"], "Northwind Outfitters");
    assert_eq!(r["Account"]["attributes"]["type"], "Account");
    assert_eq!(r["Account"]["Owner"]["Alias"], "aadmin");
    let with_cases = a.json["records"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| !r["Cases"].is_null())
        .expect("a contact with cases");
    assert_eq!(with_cases["Cases"]["done"], true);
    assert!(with_cases["Cases"]["records"][0]["Subject"].is_string());
    let orphan = t.create("Contact", json!({"LastName": "Orphan"})).await;
    let o = t
        .query(&format!(
            "SELECT Account.Name FROM Contact WHERE Id = '{}'",
            &orphan[..15]
        ))
        .await;
    assert_eq!(o.json["records"][0]["Account"], Value::Null);
    let semi = t.query("SELECT Name FROM Account WHERE Id IN (SELECT AccountId FROM Contact WHERE DoNotCall = true)").await;
    assert!(semi.json["totalSize"].as_u64().unwrap() > 0);
}

#[tokio::test]
async fn aggregates_group_by_and_having() {
    let t = demo().await;
    let a = t.query("SELECT Status, COUNT(Id) n, MAX(Priority) FROM Case GROUP BY Status HAVING COUNT(Id) > 1 ORDER BY Status").await;
    assert_eq!(a.status, 200, "{}", a.text);
    let rows = a.json["records"].as_array().unwrap();
    assert!(rows
        .iter()
        .all(|r| r["attributes"]["type"] == "AggregateResult"
            && r["n"].as_i64().unwrap() > 1
            && r["expr0"].is_string()));
    let total: i64 = rows.iter().map(|r| r["n"].as_i64().unwrap()).sum();
    // 20 support cases and 50 feedback cases.
    assert_eq!(total, 70);
    let sum = t
        .query("SELECT SUM(NPS_Score__c) total, AVG(NPS_Score__c) avg FROM Survey_Response__c")
        .await;
    assert!(sum.json["records"][0]["total"].as_f64().unwrap() > 0.0);
    let count = t
        .query("SELECT COUNT() FROM Account WHERE Industry = 'Retail'")
        .await;
    assert_eq!(
        count.json,
        json!({"totalSize": 2, "done": true, "records": []})
    );
    let bad = t
        .query("SELECT Status, Priority FROM Case GROUP BY Status")
        .await;
    assert_eq!(error_code(&bad), "MALFORMED_QUERY");
}

#[tokio::test]
async fn date_literals_follow_the_org_clock() {
    // A long session: moving the clock three days ahead would expire a normal one.
    let t = start(
        Org::builder()
            .seed(Seed::Demo)
            .session_lifetime(std::time::Duration::from_secs(30 * 86_400)),
    )
    .await;
    assert_eq!(
        t.query("SELECT COUNT() FROM Account WHERE CreatedDate = TODAY")
            .await
            .json["totalSize"],
        12
    );
    t.org.advance(std::time::Duration::from_secs(3 * 86_400));
    assert_eq!(
        t.query("SELECT COUNT() FROM Account WHERE CreatedDate = TODAY")
            .await
            .json["totalSize"],
        0
    );
    assert_eq!(
        t.query("SELECT COUNT() FROM Account WHERE CreatedDate = LAST_N_DAYS:3")
            .await
            .json["totalSize"],
        12
    );
    assert_eq!(
        t.query("SELECT COUNT() FROM Account WHERE CreatedDate < LAST_N_DAYS:2")
            .await
            .json["totalSize"],
        12
    );
    let id = t.create("Account", json!({"Name": "Future"})).await;
    let rec = t.get(&format!("sobjects/Account/{id}")).await;
    let created = rec.json["CreatedDate"].as_str().unwrap().to_string();
    assert!(
        created.ends_with("+0000") && created.len() == 28,
        "{created}"
    );
    let exact = t
        .query(&format!(
            "SELECT Name FROM Account WHERE CreatedDate >= {}",
            &created[..19].to_string().replace("+0000", "")
        ))
        .await;
    assert_eq!(
        exact.status, 400,
        "a datetime literal needs a zone: {}",
        exact.text
    );
    let exact = t
        .query(&format!(
            "SELECT Name FROM Account WHERE CreatedDate >= {}Z",
            &created[..19]
        ))
        .await;
    assert_eq!(names(&exact, "Name"), vec!["Future"]);
}

#[tokio::test]
async fn paging_with_batch_size_and_query_more() {
    let t = start(Org::builder()).await;
    for chunk in 0..3 {
        let records: Vec<Value> = (0..200).map(|i| json!({"attributes": {"type": "Lead"}, "LastName": format!("P{:04}", chunk * 200 + i), "Company": "Paging"})).collect();
        t.post("composite/sobjects", json!({"records": records}))
            .await;
    }
    let first = t
        .http
        .get(t.url("query"))
        .query(&[("q", "SELECT LastName FROM Lead ORDER BY LastName")])
        .bearer_auth(&t.token)
        .header("Sforce-Query-Options", "batchSize=250")
        .send()
        .await
        .unwrap();
    let first: Value = first.json().await.unwrap();
    assert_eq!(
        (
            first["totalSize"].as_u64(),
            first["done"].as_bool(),
            first["records"].as_array().unwrap().len()
        ),
        (Some(600), Some(false), 250)
    );
    let mut next = first["nextRecordsUrl"].as_str().unwrap().to_string();
    let mut seen = 250;
    loop {
        let page = t.get(&next).await;
        seen += page.json["records"].as_array().unwrap().len();
        match page.json["nextRecordsUrl"].as_str() {
            Some(n) => next = n.to_string(),
            None => {
                assert_eq!(page.json["done"], true);
                assert_eq!(
                    page.json["records"].as_array().unwrap().last().unwrap()["LastName"],
                    "P0599"
                );
                break;
            }
        }
    }
    assert_eq!(seen, 600);
    assert_eq!(t.org.calls_to("queryMore"), 2);
    assert_eq!(
        error_code(&t.get("query/01gBOGUS-2000").await),
        "INVALID_QUERY_LOCATOR"
    );
}

#[tokio::test]
async fn errors_carry_the_position_and_query_all_sees_deleted() {
    let t = demo().await;
    let bad = t.query("SELECT Id,\n  Nope__c FROM Account").await;
    assert_eq!(error_code(&bad), "INVALID_FIELD");
    assert!(
        bad.json[0]["message"]
            .as_str()
            .unwrap()
            .contains("ERROR at Row:2:Column:3"),
        "{}",
        bad.text
    );
    let rel = t
        .query("SELECT Id FROM Contact WHERE Acount.Name = 'x'")
        .await;
    assert_eq!(error_code(&rel), "INVALID_FIELD");
    assert!(
        rel.json[0]["message"]
            .as_str()
            .unwrap()
            .contains("ERROR at Row:1:Column:30"),
        "{}",
        rel.text
    );
    let malformed = t.query("SELECT FROM Account").await;
    assert_eq!(error_code(&malformed), "MALFORMED_QUERY");
    assert!(malformed.json[0]["message"]
        .as_str()
        .unwrap()
        .contains("ERROR at Row:1:Column:"));
    let no_type = t.query("SELECT Id FROM Nothing__c").await;
    assert_eq!(error_code(&no_type), "INVALID_TYPE");
    let id = t
        .create("Lead", json!({"LastName": "Gone", "Company": "X"}))
        .await;
    t.delete(&format!("sobjects/Lead/{id}")).await;
    assert_eq!(
        t.query("SELECT COUNT() FROM Lead WHERE LastName = 'Gone'")
            .await
            .json["totalSize"],
        0
    );
    let all = t
        .get("queryAll?q=SELECT+Id,IsDeleted+FROM+Lead+WHERE+LastName='Gone'")
        .await;
    assert_eq!(all.json["records"][0]["IsDeleted"], true);
}
