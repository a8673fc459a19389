//! Inbound jobs on a schedule: a job whose `schedule` (a cron expression, seconds first) has
//! come due since its last run gets a run queued, once however many nodes look — the queue's
//! dedupe key names the job and the moment it was due.

use super::job_of;
use crate::{Result, Sonde};
use std::str::FromStr;

/// How often the scheduler looks.
const LOOK_EVERY: std::time::Duration = std::time::Duration::from_secs(30);

impl Sonde {
    /// Queues a run of every scheduled job due at `now` (epoch ms) that has none queued or
    /// running; how many were queued.
    pub async fn fire_due_discover_schedules(&self, now: i64) -> Result<usize> {
        let mut fired = 0;
        for row in self.store.scheduled_discover_jobs().await? {
            let job = job_of(&row)?;
            let Some(cron) = job.settings.schedule.as_deref() else {
                continue;
            };
            let Ok(schedule) = cron::Schedule::from_str(cron) else {
                tracing::warn!(job = %row.id, "an inbound job's schedule no longer reads");
                continue;
            };
            let runs = self.store.discover_runs_of_job(&row.id).await?;
            if runs
                .iter()
                .any(|r| r.status == "queued" || r.status == "running")
            {
                continue;
            }
            let last = runs.first().map_or(row.created_at, |r| r.created_at);
            let Some(since) = chrono::DateTime::from_timestamp_millis(last) else {
                continue;
            };
            let Some(due) = schedule.after(&since).next() else {
                continue;
            };
            let due = due.timestamp_millis();
            if due > now {
                continue;
            }
            let key = format!("discover_schedule:{}:{due}", row.id);
            if self
                .queue_discover_run(&row.org_id, &row.id, Some(&key))
                .await?
                .is_some()
            {
                fired += 1;
            }
        }
        Ok(fired)
    }

    /// The server's scheduler for inbound jobs.
    pub fn spawn_discover_scheduler(&self) -> tokio::task::JoinHandle<()> {
        let sonde = self.clone();
        tokio::spawn(async move {
            loop {
                if let Err(e) = sonde.fire_due_discover_schedules(store::now_ms()).await {
                    tracing::warn!(error = %e, "inbound scheduler pass failed");
                }
                if let Err(e) = sonde.queue_credential_reminders(store::now_ms()).await {
                    tracing::warn!(error = %e, "inbound credential reminder pass failed");
                }
                tokio::time::sleep(LOOK_EVERY).await;
            }
        })
    }
}
