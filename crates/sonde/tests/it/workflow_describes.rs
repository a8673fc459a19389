//! The workflow editor reads a linked org's objects and fields once per connection: opened
//! again it costs no Salesforce API call; "Refresh objects and fields" makes the next opening
//! read them again.

use crate::harness::{backends, TestApp};
use crate::workflows::{configure, create_workflow, fixture, link, mapping, start_org};
use engine::Role;

fn describe_calls(org: &sfsim::RunningOrg) -> u64 {
    org.calls_to("describeGlobal") + org.calls_to("sobject.describe")
}

#[tokio::test]
async fn the_workflow_editor_costs_no_api_call_once_its_objects_are_read() {
    for backend in backends() {
        let org = start_org().await;
        let app = TestApp::spawn(backend).await;
        configure(&app, &org);
        let (me, token) = app.org_user(Role::Editor).await;
        let survey = app.sample_survey(&token).await;
        let conn = link(&app, &token, &org).await;
        let fx = fixture(&org).await;
        let wf = create_workflow(
            &app,
            &token,
            &survey,
            &mapping(&conn, &fx.nps_record_type, "describes"),
        )
        .await;
        let editor = format!("/workflows/{}", wf["id"].as_str().unwrap());
        let web = app.sign_in(&me.email).await;
        let open = || async {
            let before = org.calls().values().sum::<u64>();
            let (status, page) = app.web_get(&web, &editor).await;
            assert_eq!(status, 200);
            assert!(
                page.contains("NPS_Score__c"),
                "the object's fields are offered"
            );
            org.calls().values().sum::<u64>() - before
        };
        let first = open().await;
        let again = open().await;
        let third = open().await;
        eprintln!("workflow editor loads: Salesforce API calls {first}, {again}, {third}");
        assert!(first >= 1, "the first load reads the org");
        assert_eq!((again, third), (0, 0), "{:?}", org.calls());

        // Refreshed (on the Salesforce page): the next load reads them again, once.
        let described = describe_calls(&org);
        let (status, _) = app
            .web_post(&web, &format!("/salesforce/{conn}/refresh-metadata"), &[])
            .await;
        assert_eq!(status, 303);
        assert!(open().await >= 1);
        assert!(describe_calls(&org) > described);
        assert_eq!(open().await, 0);
        org.shutdown().await;
    }
}
