//! The durable job queue on both backends: enqueue in a transaction with dedupe, claim under a
//! lease, backoff, permanent failure, expired-lease recovery, and concurrent claimers.

use crate::harness::{backends, fresh_db};
use store::queue::{job_id, NewJob};
use store::Store;

fn job(key: &str) -> NewJob {
    NewJob {
        id: job_id(),
        org_id: "ORG_x".into(),
        kind: "test".into(),
        payload: format!("{{\"key\":\"{key}\"}}"),
        dedupe_key: key.into(),
        run_after: 0,
    }
}

#[tokio::test]
async fn enqueue_commits_with_the_transaction_and_dedupes() {
    for backend in backends() {
        let db = fresh_db(backend).await;
        let s = &db.store;
        let mut tx = s.begin().await.unwrap();
        assert!(Store::enqueue_job(&mut tx, &job("a")).await.unwrap());
        assert!(
            !Store::enqueue_job(&mut tx, &job("a")).await.unwrap(),
            "{backend:?}"
        );
        tx.rollback().await.unwrap();
        assert_eq!(
            s.queue_counts("test").await.unwrap().queued,
            0,
            "{backend:?}"
        );

        let mut tx = s.begin().await.unwrap();
        assert!(Store::enqueue_job(&mut tx, &job("a")).await.unwrap());
        tx.commit().await.unwrap();
        let mut tx = s.begin().await.unwrap();
        assert!(!Store::enqueue_job(&mut tx, &job("a")).await.unwrap());
        tx.commit().await.unwrap();
        assert_eq!(
            s.queue_counts("test").await.unwrap().queued,
            1,
            "{backend:?}"
        );
    }
}

#[tokio::test]
async fn claim_complete_retry_fail_and_recover_expired_leases() {
    for backend in backends() {
        let db = fresh_db(backend).await;
        let s = &db.store;
        let mut tx = s.begin().await.unwrap();
        for k in ["a", "b", "c"] {
            Store::enqueue_job(&mut tx, &job(k)).await.unwrap();
        }
        tx.commit().await.unwrap();

        let got = s.claim_jobs("test", "w1", 2, 60_000).await.unwrap();
        assert_eq!(got.len(), 2, "{backend:?}");
        assert!(got.iter().all(|j| j.attempts == 1 && j.status == "running"));
        // Claimed jobs are not handed out again while leased.
        let rest = s.claim_jobs("test", "w2", 10, 60_000).await.unwrap();
        assert_eq!(rest.len(), 1);

        assert!(s.complete_job(&got[0].id, "w1").await.unwrap());
        // A stranger cannot finish someone else's lease.
        assert!(!s.complete_job(&got[1].id, "w2").await.unwrap());
        // Backoff: not claimable until due.
        let later = store::now_ms() + 60_000;
        assert!(s
            .retry_job(&got[1].id, "w1", later, "HTTP 503", true)
            .await
            .unwrap());
        assert!(s
            .claim_jobs("test", "w1", 10, 60_000)
            .await
            .unwrap()
            .is_empty());
        let j = s.job(&got[1].id).await.unwrap().unwrap();
        assert_eq!((j.status.as_str(), j.attempts), ("queued", 1));
        assert_eq!(j.last_error.as_deref(), Some("HTTP 503"));

        assert!(s
            .fail_job(&rest[0].id, "w2", "REQUIRED_FIELD_MISSING")
            .await
            .unwrap());
        let counts = s.queue_counts("test").await.unwrap();
        assert_eq!(
            (counts.done, counts.queued, counts.failed),
            (1, 1, 1),
            "{backend:?}"
        );
        assert!(s.requeue_failed_job("ORG_x", &rest[0].id).await.unwrap());

        // A worker that dies keeps its lease only until it expires.
        let mut tx = s.begin().await.unwrap();
        Store::enqueue_job(&mut tx, &job("d")).await.unwrap();
        tx.commit().await.unwrap();
        let crashed = s.claim_jobs("test", "dead", 10, 1).await.unwrap();
        assert!(crashed.iter().any(|j| j.dedupe_key == "d"));
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        let again = s.claim_jobs("test", "alive", 10, 60_000).await.unwrap();
        let d = again
            .iter()
            .find(|j| j.dedupe_key == "d")
            .expect("re-claimed");
        assert_eq!(d.attempts, 2);
        assert!(!s.complete_job(&d.id, "dead").await.unwrap());
        assert!(s.complete_job(&d.id, "alive").await.unwrap());

        // A restarted single node takes back its dead process's leases at once.
        let mut tx = s.begin().await.unwrap();
        Store::enqueue_job(&mut tx, &job("e")).await.unwrap();
        tx.commit().await.unwrap();
        let held = s
            .claim_jobs("test", "old-process", 10, 600_000)
            .await
            .unwrap();
        assert!(held.iter().any(|j| j.dedupe_key == "e"));
        assert!(s.release_all_leases("test").await.unwrap() >= 1);
        let back = s
            .claim_jobs("test", "new-process", 10, 60_000)
            .await
            .unwrap();
        let e = back.iter().find(|j| j.dedupe_key == "e").expect("released");
        assert_eq!(e.attempts, 1, "the dead claim is not counted");
    }
}

#[tokio::test]
async fn concurrent_claimers_never_share_a_job() {
    for backend in backends() {
        let db = fresh_db(backend).await;
        let s = db.store.clone();
        let mut tx = s.begin().await.unwrap();
        for i in 0..600 {
            Store::enqueue_job(&mut tx, &job(&format!("k{i}")))
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let mut handles = Vec::new();
        for w in 0..4 {
            let s = s.clone();
            handles.push(tokio::spawn(async move {
                let owner = format!("w{w}");
                let mut mine = Vec::new();
                loop {
                    let got = s.claim_jobs("test", &owner, 25, 60_000).await.unwrap();
                    if got.is_empty() {
                        break;
                    }
                    for j in got {
                        assert!(s.complete_job(&j.id, &owner).await.unwrap());
                        mine.push(j.id);
                    }
                }
                mine
            }));
        }
        let mut all = Vec::new();
        for h in handles {
            all.extend(h.await.unwrap());
        }
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!((n, all.len()), (600, 600), "{backend:?}");
        assert_eq!(s.queue_counts("test").await.unwrap().done, 600);
    }
}
