//! A stage's distribution tasks: each waits out its delay (the run is put off, not its
//! attempts spent), renders its recipient and embedded data, has its recipient's Salesforce
//! opt-out read — from the notification's record when it carries the field, otherwise one
//! query per 200 recipients of an object — and writes its invitation (`triggered_sends`).

use super::{Item, Outcome};
use crate::opt_out_sync::OptOutSync;
use crate::triggered_sends::{
    DistributionTask, Invitation, Invited, SalesforceRecordRef, TriggeredBy,
};
use crate::workflows::Task;
use crate::{Actor, Sonde};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashMap};

/// Ids per opt-out query: an `IN` list of 200 ids stays far inside SOQL's length limit.
const OPT_OUT_QUERY_IDS: usize = 200;

/// A distribution task ready to write.
struct Ready {
    item: usize,
    task: usize,
    spec: DistributionTask,
    recipient: Map<String, Value>,
    embedded_data: BTreeMap<String, String>,
    salesforce_record: Option<SalesforceRecordRef>,
    /// The checkbox read, while sync is on for this send and the channel has one.
    opt_out_field: Option<String>,
    /// What Salesforce says: Some(true) opted out.
    opted_out: Option<bool>,
}

/// A checkbox as Salesforce sends it: JSON true, or "true" in an Outbound Message.
fn is_checked(v: &str) -> bool {
    v.eq_ignore_ascii_case("true") || v == "1"
}

/// Salesforce ids compare by their first 15 characters.
fn id15(id: &str) -> &str {
    id.get(..15).unwrap_or(id)
}

impl Sonde {
    pub(super) async fn run_distribution_tasks(
        &self,
        items: &mut [Item],
        members: Vec<(usize, usize)>,
    ) {
        let now = store::now_ms();
        let mut syncs: HashMap<String, Option<OptOutSync>> = HashMap::new();
        let mut ready = Vec::new();
        for (i, t) in members {
            let Task::Distribution(spec) = items[i].workflow.tasks[t].clone() else {
                continue;
            };
            let delay = match spec.delay_ms() {
                Ok(d) => d,
                Err(e) => {
                    fail(&mut items[i], t, &format!("delay: {e}"));
                    continue;
                }
            };
            let due = items[i].run.created_at + delay;
            if due > now {
                items[i].outcome = Some(Outcome::Defer(
                    due,
                    format!(
                        "task {}: sends {} after the event, at {}",
                        t + 1,
                        distribution::delay::describe(delay),
                        crate::responses::rfc3339(due)
                    ),
                ));
                continue;
            }
            let item = &items[i];
            let mut recipient = Map::new();
            for (name, text) in &spec.recipient {
                let v = item.render(text);
                if !v.trim().is_empty() {
                    recipient.insert(name.clone(), Value::String(v.trim().to_string()));
                }
            }
            let embedded_data: BTreeMap<String, String> = spec
                .embedded_data
                .iter()
                .map(|(k, text)| (k.clone(), item.render(text)))
                .collect();
            let salesforce_record = recipient
                .get("extRef")
                .and_then(Value::as_str)
                .and_then(SalesforceRecordRef::of_id);
            // Opt-outs are read only where Salesforce sent the event: that org holds them.
            let sync = match (&item.run.notification_id, &item.workflow.connection_id) {
                (Some(_), Some(_)) => {
                    let key = item.workflow.survey_id.clone();
                    if !syncs.contains_key(&key) {
                        let s = self
                            .opt_out_sync_for(&item.run.org_id, &key)
                            .await
                            .ok()
                            .filter(|s| s.enabled);
                        syncs.insert(key.clone(), s);
                    }
                    syncs[&key].clone()
                }
                _ => None,
            };
            let opt_out_field = sync
                .as_ref()
                .and_then(|s| s.field_for(spec.channel.is_sms()))
                .filter(|_| salesforce_record.is_some())
                .map(str::to_string);
            ready.push(Ready {
                item: i,
                task: t,
                spec,
                recipient,
                embedded_data,
                salesforce_record,
                opt_out_field,
                opted_out: None,
            });
        }
        self.read_salesforce_opt_outs(items, &mut ready).await;
        self.write_triggered_invitations(items, ready).await;
    }

    /// Each ready task's opt-out: from its notification's record when that is the
    /// recipient's own record and carries the field, else read in batched queries.
    async fn read_salesforce_opt_outs(&self, items: &mut [Item], ready: &mut [Ready]) {
        // (connection, object, field) → positions in `ready` still to ask about.
        let mut to_ask: BTreeMap<(String, String, String), Vec<usize>> = BTreeMap::new();
        for (k, r) in ready.iter_mut().enumerate() {
            let (Some(field), Some(record)) = (&r.opt_out_field, &r.salesforce_record) else {
                continue;
            };
            let item = &items[r.item];
            let carried = item
                .record
                .get("Id")
                .filter(|id| id15(id) == id15(&record.id))
                .and_then(|_| {
                    item.record
                        .iter()
                        .find(|(name, _)| name.eq_ignore_ascii_case(field))
                })
                .map(|(_, v)| is_checked(v));
            match carried {
                Some(v) => r.opted_out = Some(v),
                None => {
                    let connection = item.workflow.connection_id.clone().unwrap_or_default();
                    to_ask
                        .entry((connection, record.object.clone(), field.clone()))
                        .or_default()
                        .push(k);
                }
            }
        }
        for ((connection, object, field), positions) in to_ask {
            let conn = match self.usable_connection(&connection).await {
                Ok(c) => c,
                Err(outcome) => {
                    // Not knowing an opt-out is not a reason to send: the runs wait or fail.
                    for &k in &positions {
                        items[ready[k].item].outcome = Some(outcome.clone());
                    }
                    continue;
                }
            };
            for chunk in positions.chunks(OPT_OUT_QUERY_IDS) {
                let ids: Vec<String> = chunk
                    .iter()
                    .filter_map(|&k| ready[k].salesforce_record.as_ref())
                    .map(|r| format!("'{}'", r.id))
                    .collect();
                let soql = format!(
                    "SELECT Id, {field} FROM {object} WHERE Id IN ({})",
                    ids.join(", ")
                );
                let rows: Vec<Value> =
                    match futures::TryStreamExt::try_collect(conn.query::<Value>(&soql)).await {
                        Ok(rows) => rows,
                        Err(e) => {
                            let text = format!("reading {field} of {object} records: {e}");
                            let outcome = if e.is_retryable() || e.is_rate_limited() {
                                Outcome::Retry(text)
                            } else {
                                Outcome::Failed(text)
                            };
                            for &k in chunk {
                                items[ready[k].item].outcome = Some(outcome.clone());
                            }
                            continue;
                        }
                    };
                let found: HashMap<String, bool> = rows
                    .iter()
                    .filter_map(|row| {
                        let id = row.get("Id")?.as_str()?;
                        let v = row.get(&field).map(|v| match v {
                            Value::Bool(b) => *b,
                            Value::String(s) => is_checked(s),
                            _ => false,
                        })?;
                        Some((id15(id).to_string(), v))
                    })
                    .collect();
                for &k in chunk {
                    let id = ready[k]
                        .salesforce_record
                        .as_ref()
                        .map(|r| id15(&r.id).to_string())
                        .unwrap_or_default();
                    // A record the org no longer has opts nobody out.
                    ready[k].opted_out = Some(found.get(&id).copied().unwrap_or(false));
                }
            }
        }
    }

    /// The pass's invitations, written together (`invite_all`); each task's outcome then.
    async fn write_triggered_invitations(&self, items: &mut [Item], ready: Vec<Ready>) {
        // Workflow owners, looked up once per pass: runs of one workflow share theirs.
        let mut owners: HashMap<(String, String), Result<Actor, String>> = HashMap::new();
        for r in &ready {
            let item = &items[r.item];
            let key = (item.run.org_id.clone(), item.workflow.owner_id.clone());
            if let std::collections::hash_map::Entry::Vacant(slot) = owners.entry(key) {
                let (org, owner) = slot.key();
                let found = self.owner_actor(org, owner).await;
                slot.insert(found.map_err(|e| e.to_string()));
            }
        }
        let mut writing = Vec::new();
        let mut invitations = Vec::new();
        for r in ready {
            let item = &mut items[r.item];
            if item.outcome.is_some() {
                continue;
            }
            let t = r.task;
            item.tasks[t].attempts += 1;
            let contact =
                match directory::ContactInput::from_json_value(&Value::Object(r.recipient)) {
                    Ok(c) => c,
                    Err(errors) => {
                        let words: Vec<String> = errors
                            .iter()
                            .map(|e| format!("recipient.{}: {}", e.field, e.message))
                            .collect();
                        fail(item, t, &words.join("; "));
                        continue;
                    }
                };
            let key = (item.run.org_id.clone(), item.workflow.owner_id.clone());
            let actor = match &owners[&key] {
                Ok(a) => a,
                Err(e) => {
                    fail(item, t, e);
                    continue;
                }
            };
            invitations.push(Invitation {
                actor,
                survey_id: item.workflow.survey_id.clone(),
                channel: r.spec.channel,
                template_id: r.spec.template_id.clone(),
                contact,
                triggered: TriggeredBy {
                    workflow_id: item.workflow.id.clone(),
                    run_id: item.run.id.clone(),
                    task: t,
                    notification_id: item.run.notification_id.clone(),
                    connection_id: item.workflow.connection_id.clone(),
                    salesforce_record: r.salesforce_record,
                    embedded_data: r.embedded_data,
                    record: item.record.clone(),
                },
                salesforce_opt_out: match (r.opted_out, r.opt_out_field) {
                    (Some(true), Some(field)) => Some(field),
                    _ => None,
                },
            });
            writing.push((r.item, t));
        }
        if invitations.is_empty() {
            return;
        }
        let answers = self.invite_all(invitations).await;
        for ((i, t), answer) in writing.into_iter().zip(answers) {
            task_outcome(&mut items[i], t, answer);
        }
    }
}

/// What became of a task's invitation, on its item.
fn task_outcome(item: &mut Item, t: usize, answer: crate::Result<Invited>) {
    match answer {
        Ok(invited) => {
            item.tasks[t].record_id = Some(invited.distribution_id);
            item.tasks[t].error = None;
            match invited.excluded {
                None => item.tasks[t].status = "succeeded".into(),
                Some((_, words)) => {
                    // Excluded: what follows (a write-back saying it was sent) is not done.
                    item.tasks[t].status = "skipped".into();
                    item.tasks[t].error = Some(words.clone());
                    for later in item.tasks.iter_mut().skip(t + 1) {
                        if later.status == "pending" {
                            later.status = "skipped".into();
                        }
                    }
                    item.outcome = Some(Outcome::Excluded(format!(
                        "task {}: excluded: {words}",
                        t + 1
                    )));
                }
            }
        }
        Err(e) if e.is_transient() => {
            item.tasks[t].error = Some(e.to_string());
            item.outcome = Some(Outcome::Retry(format!("task {}: {e}", t + 1)));
        }
        Err(e) => fail(item, t, &e.to_string()),
    }
}

fn fail(item: &mut Item, t: usize, words: &str) {
    item.tasks[t].status = "failed".into();
    item.tasks[t].error = Some(words.to_string());
    item.outcome = Some(Outcome::Failed(format!("task {}: {words}", t + 1)));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checkboxes_read_as_salesforce_writes_them() {
        assert!(is_checked("true"));
        assert!(is_checked("TRUE"));
        assert!(!is_checked("false"));
        assert!(!is_checked(""));
    }

    #[test]
    fn ids_compare_by_fifteen_characters() {
        assert_eq!(id15("0035g00000ABCDEAAA"), id15("0035g00000ABCDE"));
    }
}
