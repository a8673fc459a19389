//! The panel's Sent and Scheduled tabs: the distributions launched on a record (or campaign,
//! or selection) with what became of its records, and a scheduled one moved or deleted until
//! it starts.

use super::sends::{PanelSent, SentTab};
use super::{record_key, PanelPass};
use crate::distributions::{Distribution, NewDistribution};
use crate::{Actor, Error, Result, Sonde};
use std::collections::HashSet;

/// Panel sends a record's Sent and Scheduled tabs list at most.
const LISTED_SENDS: i64 = 100;

impl Sonde {
    /// The panel sends launched on the pass's record (or campaign), scheduled and sent.
    pub async fn panel_sends(&self, actor: &Actor, pass: &PanelPass) -> Result<SentTab> {
        let mut tab = SentTab::default();
        let keys = match (&pass.record_id, pass.record_ids.is_empty()) {
            (Some(k), _) => vec![k.clone()],
            (None, false) => pass
                .record_ids
                .iter()
                .filter_map(|id| record_key(id))
                .map(str::to_string)
                .collect(),
            (None, true) => Vec::new(),
        };
        let mut seen = HashSet::new();
        for key in keys {
            for row in self
                .store
                .panel_sends_on(&actor.org_id, &key, LISTED_SENDS)
                .await?
            {
                if !seen.insert(row.distribution_id.clone()) {
                    continue;
                }
                // One read of the distribution: its view and whether it is due.
                let stored = match self.distribution_row(actor, &row.distribution_id).await {
                    Ok(d) => d,
                    // A survey not shared with this user: its sends are not theirs to see.
                    Err(Error::NotFound(_)) => continue,
                    Err(e) => return Err(e),
                };
                // Due now, it is as good as sent: its start job is on its way.
                let due = stored.send_at <= store::now_ms();
                let distribution = self.distribution_view(stored).await?;
                let survey_name = self.survey(actor, &distribution.survey_id).await?.name;
                let sent = PanelSent {
                    counts: serde_json::from_str(&row.counts).unwrap_or_default(),
                    survey_name,
                    launched_from: row.launched_from,
                    created_at: row.created_at,
                    distribution,
                };
                if sent.distribution.status == "scheduled" && !due {
                    tab.scheduled.push(sent);
                } else {
                    tab.sent.push(sent);
                }
            }
        }
        Ok(tab)
    }

    /// A panel send of the pass's record, for its Scheduled tab's edit and delete.
    async fn panel_send_of(&self, actor: &Actor, pass: &PanelPass, id: &str) -> Result<()> {
        let tab = self.panel_sends(actor, pass).await?;
        if tab
            .scheduled
            .iter()
            .chain(&tab.sent)
            .any(|s| s.distribution.id == id)
        {
            Ok(())
        } else {
            Err(Error::NotFound("distribution"))
        }
    }

    /// Moves a scheduled panel send (its send time, in its time zone).
    pub async fn reschedule_panel_send(
        &self,
        actor: &Actor,
        pass: &PanelPass,
        id: &str,
        send_at: String,
        time_zone: Option<String>,
    ) -> Result<Distribution> {
        self.panel_send_of(actor, pass, id).await?;
        self.update_distribution(
            actor,
            id,
            NewDistribution {
                send_at: Some(send_at),
                time_zone,
                ..Default::default()
            },
        )
        .await
    }

    /// Deletes a scheduled panel send.
    pub async fn delete_panel_send(&self, actor: &Actor, pass: &PanelPass, id: &str) -> Result<()> {
        self.panel_send_of(actor, pass, id).await?;
        self.delete_distribution(actor, id).await?;
        self.store.forget_panel_send(&actor.org_id, id).await?;
        Ok(())
    }
}
