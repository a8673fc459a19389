//! Deliveries whose cause went away: a purged survey's runs (waiting, and one a worker holds)
//! and a deleted response's. None of them fails a worker's pass or holds up the others.

use super::Org;
use crate::harness::backends;
use engine::delivery::WORKFLOW_JOB;

#[tokio::test]
async fn runs_of_a_purged_survey_do_not_wedge_the_queue() {
    for backend in backends() {
        let o = Org::new(backend).await;
        let store = &o.app.sonde.store;
        let doomed = &o.survey;
        let kept = o.app.sample_survey(&o.owner.1).await;
        let (doomed_workflow, _) = o.list_workflow(doomed).await;
        let (kept_workflow, _) = o.list_workflow(&kept).await;

        // A worker holds one run of each survey; another of the doomed one waits.
        o.respond(doomed).await;
        o.respond(&kept).await;
        let held = o
            .app
            .sonde
            .claim_workflow_runs("worker-a", 10)
            .await
            .unwrap();
        assert_eq!(held.len(), 2);
        o.respond(doomed).await;

        let archive = format!("/api/v1/surveys/{doomed}/archive");
        assert_eq!(o.call(&o.owner.1, "POST", &archive, None).await.0, 200);
        let (status, purged) = o
            .call(
                &o.owner.1,
                "DELETE",
                &format!("/api/v1/surveys/{doomed}"),
                None,
            )
            .await;
        assert_eq!(status, 200, "{backend:?}: {purged}");
        let counts = store.queue_counts(WORKFLOW_JOB).await.unwrap();
        assert_eq!(
            (counts.queued, counts.running),
            (0, 2),
            "the waiting run is cancelled; the held ones are left to their worker"
        );

        // The worker finishes its batch: the purged survey's job fails, the other delivers.
        let orphan = held
            .iter()
            .find(|j| j.payload.contains(&doomed_workflow))
            .unwrap()
            .id
            .clone();
        let report = o
            .app
            .sonde
            .execute_workflow_runs("worker-a", held)
            .await
            .unwrap();
        assert_eq!((report.claimed, report.succeeded), (2, 1), "{report:?}");
        let job = store.job(&orphan).await.unwrap().unwrap();
        assert_eq!(job.status, "failed", "{job:?}");
        // And the queue goes on: a new response is delivered.
        o.respond(&kept).await;
        let report = o.app.sonde.drain_workflows().await.unwrap();
        assert_eq!((report.succeeded, report.failed), (1, 0), "{report:?}");
        let counts = store.queue_counts(WORKFLOW_JOB).await.unwrap();
        assert_eq!((counts.queued, counts.running), (0, 0), "{counts:?}");
        let (_, runs) = o
            .call(
                &o.owner.1,
                "GET",
                &format!("/api/v1/workflows/{kept_workflow}/runs"),
                None,
            )
            .await;
        assert!(
            runs["runs"]
                .as_array()
                .unwrap()
                .iter()
                .all(|r| r["status"] == "succeeded"),
            "{runs}"
        );
    }
}

#[tokio::test]
async fn a_deleted_responses_runs_stop_and_the_queue_goes_on() {
    for backend in backends() {
        let o = Org::new(backend).await;
        let s = &o.survey;
        let (workflow, _) = o.list_workflow(s).await;
        let held_response = o.respond(s).await;
        let held = o
            .app
            .sonde
            .claim_workflow_runs("worker-b", 10)
            .await
            .unwrap();
        let waiting_response = o.respond(s).await;
        let other = o.respond(s).await;

        for r in [&held_response, &waiting_response] {
            let path = format!("/api/v1/surveys/{s}/responses/{r}");
            assert_eq!(
                o.call(&o.owner.1, "DELETE", &path, None).await.0,
                204,
                "{backend:?}"
            );
        }
        // The waiting run is failed at once, saying why; its event counts it.
        let (_, runs) = o
            .call(
                &o.owner.1,
                "GET",
                &format!("/api/v1/workflows/{workflow}/runs"),
                None,
            )
            .await;
        let run_of = |response: &str| {
            runs["runs"]
                .as_array()
                .unwrap()
                .iter()
                .find(|r| r["responseId"] == response)
                .cloned()
                .unwrap_or_else(|| panic!("a run for {response}: {runs}"))
        };
        let stopped = run_of(&waiting_response);
        assert_eq!(stopped["status"], "failed", "{stopped}");
        assert!(
            stopped["error"].as_str().unwrap().contains("deleted"),
            "{stopped}"
        );
        let events = o.events(&format!("subjectId={waiting_response}")).await;
        assert_eq!(super::only(&events, "delete")["detail"]["runsCancelled"], 1);

        // The held one's worker finds its response gone; the other response is delivered.
        let report = o
            .app
            .sonde
            .execute_workflow_runs("worker-b", held)
            .await
            .unwrap();
        assert_eq!(report.failed, 1, "{report:?}");
        let report = o.app.sonde.drain_workflows().await.unwrap();
        assert_eq!((report.claimed, report.succeeded), (1, 1), "{report:?}");
        let (_, runs) = o
            .call(
                &o.owner.1,
                "GET",
                &format!("/api/v1/workflows/{workflow}/runs"),
                None,
            )
            .await;
        let delivered = runs["runs"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["responseId"] == other.as_str())
            .cloned();
        assert_eq!(delivered.unwrap()["status"], "succeeded");
        let counts = o.app.sonde.store.queue_counts(WORKFLOW_JOB).await.unwrap();
        assert_eq!((counts.queued, counts.running), (0, 0), "{counts:?}");
    }
}
