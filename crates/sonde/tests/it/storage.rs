//! The storage suite: the same behaviours checked on every configured backend.

use crate::harness::{backends, fresh_db, Backend, TestApp};
use engine::responses::NewResponse;
use engine::{Config, Role, Sonde};
use store::responses::{ResponseRow, ResponseStatus};
use store::Store;

async fn sonde_on(backend: Backend) -> (Sonde, crate::harness::TestDb) {
    let db = fresh_db(backend).await;
    let sonde = Sonde::new(
        db.store.clone(),
        Config {
            public_url: "http://sonde.test".into(),
        },
    )
    .await
    .unwrap();
    (sonde, db)
}

#[tokio::test]
async fn users_tokens_and_sessions() {
    for backend in backends() {
        let (sonde, _db) = sonde_on(backend).await;
        let admin = sonde
            .add_user(None, "Admin@Example.com", Role::Admin, "long enough pw")
            .await
            .unwrap();
        // The first user of an empty install lands in a new default organization.
        assert!(sonde
            .store
            .organization(&admin.org_id)
            .await
            .unwrap()
            .is_some());
        let dup = sonde
            .add_user(None, "admin@example.com", Role::Viewer, "long enough pw")
            .await;
        assert!(
            matches!(dup, Err(engine::Error::Conflict(_))),
            "{backend:?}: {dup:?}"
        );
        let token = sonde
            .create_api_token("admin@example.com", "t")
            .await
            .unwrap();
        assert_eq!(sonde.authenticate_api_token(&token).await.unwrap(), admin);
        assert!(sonde.authenticate_api_token("sonde_wrong").await.is_err());
        let (_, session) = sonde
            .sign_in("admin@example.com", "long enough pw", [127, 0, 0, 1].into())
            .await
            .unwrap();
        let (who, csrf) = sonde.web_session(&session.cookie).await.unwrap();
        assert_eq!(who.user_id, admin.user_id);
        assert_eq!(csrf, session.csrf_token);
        assert!(sonde
            .sign_in("admin@example.com", "wrong password", [127, 0, 0, 1].into())
            .await
            .is_err());
        sonde.sign_out(&session.cookie).await.unwrap();
        assert!(sonde.web_session(&session.cookie).await.is_err());
        // Short passwords are refused with the field named.
        match sonde
            .add_user(None, "x@example.com", Role::Viewer, "short")
            .await
        {
            Err(engine::Error::Invalid { problems, .. }) => {
                assert_eq!(problems[0].field, "password")
            }
            other => panic!("{backend:?}: {other:?}"),
        }
    }
}

#[tokio::test]
async fn tenants_never_see_each_other() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (alice, _) = app.org_user(Role::Admin).await;
        let (mallory, _) = app.org_user(Role::Admin).await;
        let def = serde_json::to_string(&survey::sample::sample_definition()).unwrap();
        let s = app.sonde.create_survey(&alice, &def).await.unwrap().survey;
        assert!(matches!(
            app.sonde.survey(&mallory, &s.id).await,
            Err(engine::Error::NotFound(_))
        ));
        assert!(app.sonde.surveys(&mallory).await.unwrap().is_empty());
        let (contact, _) = app
            .sonde
            .save_contact(&alice, &serde_json::json!({"email": "c@example.com"}), None)
            .await
            .unwrap();
        assert!(app.sonde.contact(&mallory, &contact.id).await.is_err());
        assert!(app
            .sonde
            .contacts(&mallory, None, 0, 100)
            .await
            .unwrap()
            .is_empty());
        assert!(app
            .sonde
            .set_unsubscribed(&mallory, &contact.id, true)
            .await
            .is_err());
        assert!(
            !app.sonde
                .contact(&alice, &contact.id)
                .await
                .unwrap()
                .unsubscribed
        );
        // Within one organization, an editor sees only what they own or was shared with them.
        let (bob, _) = app.user_in(&alice.org_id, Role::Editor).await;
        assert!(app.sonde.survey(&bob, &s.id).await.is_err());
        app.sonde
            .share_survey(&alice, &s.id, &bob.email)
            .await
            .unwrap();
        assert_eq!(app.sonde.survey(&bob, &s.id).await.unwrap().id, s.id);
        // Sharing across organizations is not possible.
        assert!(app
            .sonde
            .share_survey(&alice, &s.id, &mallory.email)
            .await
            .is_err());
    }
}

#[tokio::test]
async fn responses_page_in_order_and_abandoned_ones_close_once() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (admin, _) = app.org_user(Role::Admin).await;
        let def = serde_json::to_string(&survey::sample::sample_definition()).unwrap();
        let s = app.sonde.create_survey(&admin, &def).await.unwrap().survey;
        let mut ids = Vec::new();
        for _ in 0..7 {
            let r = app
                .sonde
                .create_response(
                    &admin,
                    &s.id,
                    NewResponse {
                        finished: false,
                        ..Default::default()
                    },
                )
                .await
                .unwrap();
            ids.push(r.id);
        }
        let mut seen = Vec::new();
        let mut after = None;
        loop {
            let (_, page, next) = app
                .sonde
                .responses(&admin, &s.id, None, after.as_deref(), 3)
                .await
                .unwrap();
            seen.extend(page.into_iter().map(|r| r.id));
            match next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        let mut expected = ids.clone();
        expected.sort();
        let mut got = seen.clone();
        got.sort();
        assert_eq!(
            got, expected,
            "{backend:?}: paging lost or repeated responses"
        );

        // An in-progress response past its window closes exactly once.
        let now = store::now_ms();
        let row = ResponseRow {
            id: store::ids::response(),
            org_id: admin.org_id.clone(),
            survey_id: s.id.clone(),
            survey_version: s.version,
            contact_id: None,
            status: ResponseStatus::InProgress,
            data: "{}".into(),
            cursor: None,
            progress: 30,
            channel: "anonymous".into(),
            started_at: now,
            updated_at: now,
            ended_at: None,
            recorded_at: None,
            expires_at: Some(now + 1000),
        };
        let mut tx = app.sonde.store.begin().await.unwrap();
        Store::insert_response(&mut tx, &row).await.unwrap();
        tx.commit().await.unwrap();
        assert!(app
            .sonde
            .store
            .close_expired_responses(now)
            .await
            .unwrap()
            .is_empty());
        let closed = app
            .sonde
            .store
            .close_expired_responses(now + 2000)
            .await
            .unwrap();
        assert_eq!(closed.len(), 1);
        assert_eq!(closed[0].status, ResponseStatus::Incomplete);
        assert!(app
            .sonde
            .store
            .close_expired_responses(now + 3000)
            .await
            .unwrap()
            .is_empty());
        let (_, incomplete, _) = app
            .sonde
            .responses(&admin, &s.id, Some(ResponseStatus::Incomplete), None, 100)
            .await
            .unwrap();
        assert_eq!(incomplete.len(), 8);
    }
}

#[tokio::test]
async fn directory_upserts_by_email_and_instance_secrets_are_stable() {
    for backend in backends() {
        let app = TestApp::spawn(backend).await;
        let (admin, _) = app.org_user(Role::Admin).await;
        let list = app
            .sonde
            .create_mailing_list(&admin, "Customers")
            .await
            .unwrap();
        let (a, created) = app
            .sonde
            .save_contact(
                &admin,
                &serde_json::json!({"firstName": "Ada", "email": "ada@example.com", "phone": "+44 20 7946 0958"}),
                Some(&list.id),
            )
            .await
            .unwrap();
        assert!(created);
        assert_eq!(a.phone.as_deref(), Some("+442079460958"));
        let (b, created) = app
            .sonde
            .save_contact(
                &admin,
                &serde_json::json!({"firstName": "Ada", "lastName": "Lovelace", "email": "ADA@example.com"}),
                Some(&list.id),
            )
            .await
            .unwrap();
        assert!(!created);
        assert_eq!(a.id, b.id);
        assert_eq!(b.last_name, "Lovelace");
        assert_eq!(
            app.sonde
                .mailing_list(&admin, &list.id)
                .await
                .unwrap()
                .members,
            1
        );
        let k1 = app.sonde.instance_secret("k").await.unwrap();
        let k2 = app.sonde.instance_secret("k").await.unwrap();
        assert_eq!(k1, k2);
        assert!(k1.len() >= 32);
    }
}
