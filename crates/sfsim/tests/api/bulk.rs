//! Bulk API 2.0 query jobs: states, 412 before completion, CSV pages by Sforce-Locator.

use crate::*;
use serde_json::json;

async fn complete(t: &TestOrg, id: &str) {
    for _ in 0..100 {
        if t.get(&format!("jobs/query/{id}")).await.json["state"] == "JobComplete" {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    panic!("job never completed");
}

#[tokio::test]
async fn query_job_results_page_by_locator() {
    let t = start(Org::builder()).await;
    for chunk in 0..5 {
        let records: Vec<Value> = (0..200).map(|i| json!({"attributes": {"type": "Account"}, "Name": format!("Bulk \"{}\", Inc", chunk * 200 + i)})).collect();
        t.post("composite/sobjects", json!({"records": records}))
            .await;
    }
    let job = t.post("jobs/query", json!({"operation": "query", "query": "SELECT Id, Name, Owner.Alias FROM Account ORDER BY Name"})).await;
    assert_eq!(job.status, 200, "{}", job.text);
    assert_eq!(job.json["state"], "UploadComplete");
    let id = job.json["id"].as_str().unwrap().to_string();
    assert!(id.starts_with("750"));
    let early = t.get(&format!("jobs/query/{id}/results")).await;
    assert_eq!(
        (early.status.as_u16(), error_code(&early)),
        (412, "JOB_NOT_COMPLETE".into()),
        "results before completion"
    );
    complete(&t, &id).await;
    let mut locator: Option<String> = None;
    let mut rows = 0;
    let mut pages = 0;
    loop {
        let path = match &locator {
            Some(l) => format!("jobs/query/{id}/results?maxRecords=400&locator={l}"),
            None => format!("jobs/query/{id}/results?maxRecords=400"),
        };
        let page = t.get(&path).await;
        assert_eq!(page.status, 200);
        let n: usize = page.headers["sforce-numberofrecords"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        let mut reader = csv::Reader::from_reader(page.text.as_bytes());
        assert_eq!(
            reader.headers().unwrap().iter().collect::<Vec<_>>(),
            vec!["Id", "Name", "Owner.Alias"]
        );
        let recs: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
        assert_eq!(recs.len(), n);
        if rows == 0 {
            assert_eq!(
                &recs[0][1], "Bulk \"0\", Inc",
                "quotes survive CSV escaping"
            );
            assert_eq!(&recs[0][2], "aadmin");
        }
        rows += n;
        pages += 1;
        let next = page.headers["sforce-locator"].to_str().unwrap().to_string();
        if next == "null" {
            break;
        }
        locator = Some(next);
    }
    assert_eq!((rows, pages), (1000, 3));
    assert_eq!(
        t.get(&format!("/services/data/v58.0/jobs/query/{id}/results"))
            .await
            .status,
        409
    );
    assert_eq!(t.delete(&format!("jobs/query/{id}")).await.status, 204);
    assert_eq!(t.get(&format!("jobs/query/{id}")).await.status, 404);
    let bad = t
        .post(
            "jobs/query",
            json!({"operation": "query", "query": "SELECT Nope FROM Account"}),
        )
        .await;
    assert_eq!(error_code(&bad), "INVALID_FIELD");
}
