//! A slow Salesforce never lets a second worker take a batch still being worked: the worker
//! renews its runs' leases while it waits, so on PostgreSQL a second node claiming meanwhile
//! gets nothing and every record is written once.

use crate::harness::{backends, TestApp};
use crate::workflows::{
    assert_delivered, configure, create_workflow, fixture, link, mapping, start_org, submit,
};
use engine::Role;
use std::time::Duration;

#[tokio::test]
async fn a_batch_slower_than_its_lease_is_never_taken_by_a_second_worker() {
    for backend in backends() {
        let org = start_org().await;
        let app = TestApp::spawn(backend).await;
        configure(&app, &org);
        // A lease far shorter than Salesforce's answer: renewed while the call is under way.
        let mut settings = app.sonde.salesforce_settings();
        settings.run_lease_ms = 400;
        app.sonde.configure_salesforce(settings);
        let (_, token) = app.org_user(Role::Editor).await;
        let survey = app.sample_survey(&token).await;
        let conn = link(&app, &token, &org).await;
        let fx = fixture(&org).await;
        let label = format!("slow-{backend:?}");
        create_workflow(
            &app,
            &token,
            &survey,
            &mapping(&conn, &fx.nps_record_type, &label),
        )
        .await;
        let expected = submit(&app, &token, &survey, &fx, 30).await;
        org.set_faults(sfsim::Faults {
            latency_ms: 2_000,
            endpoints: vec!["collections.upsert".into()],
            ..Default::default()
        });
        let first = {
            let sonde = app.sonde.clone();
            tokio::spawn(async move { sonde.try_execute_workflows("slow-worker", 100).await })
        };
        // Well past several leases, while the first worker still waits on Salesforce.
        let mut taken = 0;
        for _ in 0..6 {
            tokio::time::sleep(Duration::from_millis(250)).await;
            taken += app
                .sonde
                .try_execute_workflows("second-worker", 100)
                .await
                .unwrap()
                .claimed;
        }
        assert_eq!(taken, 0, "the second worker took runs still being worked");
        let done = first.await.unwrap().unwrap();
        assert_eq!((done.claimed, done.succeeded), (30, 30), "{done:?}");
        org.set_faults(sfsim::Faults::default());
        assert_eq!(org.calls_to("collections.upsert"), 1, "{:?}", org.calls());
        assert_delivered(&org, &label, &fx.nps_record_type, &expected).await;
        org.shutdown().await;
    }
}
