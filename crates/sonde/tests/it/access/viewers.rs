//! A viewer's refused writes leave nothing behind: no response recorded, no workflow run
//! queued to write to Salesforce, no failed run sent again.

use super::{at, World};
use crate::harness::backends;
use reqwest::Method;

const VIEWER: usize = 2;

#[tokio::test]
async fn a_viewer_records_no_response_and_retries_no_run() {
    for backend in backends() {
        let mut w = World::build(backend).await;
        let survey = w.values["survey"].clone();
        let workflow = w.values["workflow"].clone();
        let failed_run = w.values["failed_run"].clone();
        let responses = w
            .app
            .sonde
            .response_count(&w.editor, &survey)
            .await
            .unwrap();
        let runs = |w: &World| {
            let (sonde, editor, workflow) =
                (w.app.sonde.clone(), w.editor.clone(), workflow.clone());
            async move {
                let (runs, _) = sonde
                    .workflow_runs(&editor, &workflow, None, 1000)
                    .await
                    .unwrap();
                runs.into_iter()
                    .map(|r| (r.id, r.status))
                    .collect::<Vec<_>>()
            }
        };
        let before = runs(&w).await;

        let create = at("/api/v1/surveys/{survey}/responses").json(
            r#"{"answers": {answers}, "embeddedData": {"CaseId": "{case_id}"}, "finished": true}"#,
        );
        let retry_api = at("/api/v1/workflows/{workflow}/runs/{failed_run}/retry");
        let retry_ui = at("/workflows/{workflow}/runs/{failed_run}/retry").form(&[]);
        for call in [create, retry_api, retry_ui] {
            let answer = w.call(VIEWER, &Method::POST, &call).await;
            assert_eq!(
                answer.status, 403,
                "{backend:?} {}: {}",
                call.path, answer.body
            );
            assert!(answer.body.contains("editor role"), "{}", answer.body);
        }

        assert_eq!(
            w.app
                .sonde
                .response_count(&w.editor, &survey)
                .await
                .unwrap(),
            responses,
            "{backend:?}: no response recorded"
        );
        let after = runs(&w).await;
        assert_eq!(after, before, "{backend:?}: no run queued or retried");
        assert!(after.contains(&(failed_run, "failed".to_string())));
        w.shutdown().await;
    }
}
