//! The admin UI over HTTP as a browser would use it: sign in, CSRF, survey import and
//! detail page, exports, directory import report and mailing lists, error pages.

use crate::harness::{csrf_of, qsf_dir, Backend, TestApp, PASSWORD};
use engine::Role;

async fn sign_in(app: &TestApp) -> String {
    let (admin, _) = app.org_user(Role::Admin).await;
    let r = app.sign_in_web(&app.client, &admin.email, PASSWORD).await;
    assert_eq!(r.status(), 303, "sign-in redirects");
    let page = app
        .client
        .get(app.url("/surveys"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains(&admin.email));
    csrf_of(&page)
}

#[tokio::test]
async fn sign_in_is_required_and_wrong_passwords_are_refused() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let r = app.client.get(app.url("/surveys")).send().await.unwrap();
    assert_eq!(r.status(), 303);
    assert_eq!(r.headers()["location"], "/login");
    let r = app
        .sign_in_web(&app.client, "nobody@example.com", "whatever")
        .await;
    assert_eq!(r.status(), 401);
    assert!(r.text().await.unwrap().contains("do not match"));
    let r = app
        .client
        .get(app.url("/no/such/page"))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert!(r.text().await.unwrap().contains("Not found"));
}

#[tokio::test]
async fn import_view_export_and_directory_through_the_ui() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let csrf = sign_in(&app).await;
    let qsf = std::fs::read(qsf_dir().join("ctesta01__QualtricsTools__Sample_Survey.qsf")).unwrap();

    // A form without the session's CSRF token is refused and imports nothing.
    let form = reqwest::multipart::Form::new().text("csrf", "forged").part(
        "file",
        reqwest::multipart::Part::bytes(qsf.clone()).file_name("s.qsf"),
    );
    let r = app
        .client
        .post(app.url("/surveys/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 403);

    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(qsf).file_name("s.qsf"),
        );
    let r = app
        .client
        .post(app.url("/surveys/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let page = r.text().await.unwrap();
    assert!(page.contains("warning"), "import warnings are shown");
    assert!(page.contains("/s/SV_"), "the anonymous link is shown");
    assert!(page.contains("Copy link"));
    let marker = "/s/SV_";
    let start = page.find(marker).unwrap() + 3;
    let id: String = page[start..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
        .collect();
    let csv = app
        .client
        .get(app.url(&format!("/surveys/{id}/export.csv")))
        .send()
        .await
        .unwrap();
    assert_eq!(csv.status(), 200);
    assert!(csv.text().await.unwrap().starts_with("StartDate,EndDate"));

    // A malformed file gets a page saying what and where.
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .part(
            "file",
            reqwest::multipart::Part::bytes(b"{\"SurveyEntry\": [".to_vec()).file_name("bad.qsf"),
        );
    let r = app
        .client
        .post(app.url("/surveys/import"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 400);
    assert!(r.text().await.unwrap().contains("line 1"));

    // Mailing list, then a CSV import into it with one bad row reported by line.
    let r = app
        .client
        .post(app.url("/lists"))
        .form(&[("csrf", csrf.as_str()), ("name", "Customers")])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let list_path = r.headers()["location"].to_str().unwrap().to_string();
    let list_id = list_path.trim_start_matches("/lists/").to_string();
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf.clone())
        .text("list_id", list_id)
        .part(
            "file",
            reqwest::multipart::Part::bytes(
                b"Email,FirstName\nada@example.com,Ada\nbroken,Bob\n".to_vec(),
            )
            .file_name("c.csv"),
        );
    let page = app
        .client
        .post(app.url("/contacts/import"))
        .multipart(form)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(page.contains("1 created"), "{page}");
    assert!(page.contains("Line 3"), "{page}");
    let list_page = app
        .client
        .get(app.url(&list_path))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(list_page.contains("ada@example.com"));

    // Signing out ends the session.
    let r = app
        .client
        .post(app.url("/logout"))
        .form(&[("csrf", csrf.as_str())])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 303);
    let r = app.client.get(app.url("/surveys")).send().await.unwrap();
    assert_eq!(r.status(), 303);
}
