//! Distributions: a survey sent to an audience (a mailing list, or chosen contacts) with a
//! template, now or at a time, with reminders and a thank-you after it. Creating one writes
//! the distribution and its start job in one transaction; the workers of
//! `distribution_sending` write the audience and send. A scheduled distribution can be edited
//! or deleted until it starts. Its statistics and recipient list are read here.

use crate::distribution_schedule::{parse_instant, rfc3339_in};
use crate::message_templates::TemplateDefinition;
use crate::{Actor, Error, FieldProblem, Result, Role, Sonde};
use distribution::Channel;
use serde::{Deserialize, Serialize};
use store::distributions::{DistributionRow, FollowUpRow};
use store::queue::NewJob;
use store::Store;

pub use crate::distribution_stats::{DistributionStats, FollowUpStats, RecipientPage};

/// The queue kind of a distribution's start: writing its audience, batch by batch.
pub const START_JOB: &str = "distribution_start";
/// The queue kind of a reminder's or thank-you's start.
pub const FOLLOW_UP_JOB: &str = "distribution_follow_up";
/// At most this many chosen contacts; a bigger audience is a mailing list.
pub const MAX_CONTACT_IDS: usize = 10_000;
/// At most this many reminders per distribution.
pub const MAX_REMINDERS: usize = 5;
/// A send time this close to now counts as now (the request took some time to arrive).
const PAST_GRACE_MS: i64 = 60_000;

/// The body of `POST /api/v1/surveys/{id}/distributions`.
#[derive(Debug, Clone, Default, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewDistribution {
    /// `email` (default), `sms` (a text with the personal link) or `sms_two_way` (the survey
    /// asked by text, one question per message: NPS, single-answer choice and text entry
    /// only; a survey with other questions is refused, naming each).
    pub channel: Option<Channel>,
    /// The audience: a mailing list...
    pub mailing_list_id: Option<String>,
    /// ...or chosen contacts (at most 10,000).
    pub contact_ids: Option<Vec<String>>,
    pub template_id: Option<String>,
    /// When to send: RFC 3339 (`2026-12-24T09:00:00+01:00`), or a local time
    /// (`2026-12-24T09:00`) read in `timeZone`. Absent: now.
    pub send_at: Option<String>,
    /// IANA time zone (`Europe/Paris`) the send time is chosen and shown in; default UTC.
    pub time_zone: Option<String>,
    /// After this (RFC 3339, or local in `timeZone`) the personal links start no response.
    pub link_expires_at: Option<String>,
    /// Sent to those who have not finished, each so many hours after the send. Editing: left
    /// out keeps them; `[]` or `null` removes them all.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<Vec<FollowUpInput>>)]
    pub reminders: Option<Option<Vec<FollowUpInput>>>,
    /// Sent to those who finished, so many hours after the send. Editing: left out keeps it;
    /// `null` removes it.
    #[serde(default, deserialize_with = "given")]
    #[schema(value_type = Option<FollowUpInput>)]
    pub thank_you: Option<Option<FollowUpInput>>,
}

/// A field that was given, `null` included (`Some(None)`), apart from one left out (`None`,
/// through `#[serde(default)]`): editing tells "remove it" from "keep it" so.
fn given<'de, D, T>(deserializer: D) -> std::result::Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Deserialize<'de>,
{
    Option::<T>::deserialize(deserializer).map(Some)
}

/// A reminder or thank-you as asked for.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FollowUpInput {
    /// Hours after the distribution's send (1 to 8,760).
    pub after_hours: u32,
    pub template_id: String,
}

/// What a stored distribution's audience is.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Audience {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailing_list_id: Option<String>,
    /// Sorted, each once: the audience is written in contact-id order.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub contact_ids: Option<Vec<String>>,
}

/// A distribution as the API answers it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Distribution {
    pub id: String,
    pub survey_id: String,
    pub owner_id: String,
    pub channel: Channel,
    pub template_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mailing_list_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact_ids: Option<Vec<String>>,
    /// `scheduled` (may still be edited or deleted), `sending`, or `sent` (every message has
    /// an outcome).
    pub status: String,
    /// RFC 3339 UTC, and the same instant in `timeZone`.
    pub send_at: String,
    pub send_at_local: String,
    pub time_zone: String,
    pub link_expires_at: Option<String>,
    pub reminders: Vec<FollowUp>,
    pub thank_you: Option<FollowUp>,
    pub stats: DistributionStats,
    pub created_at: String,
    pub updated_at: String,
    pub started_at: Option<String>,
    /// When the whole audience had been written and its messages queued.
    pub audience_written_at: Option<String>,
    /// Why messages are not leaving, when they are not (no SMTP server or SMS gateway
    /// configured).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notice: Option<String>,
}

/// A reminder or thank-you of a distribution.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct FollowUp {
    pub after_hours: u32,
    pub template_id: String,
    /// When it goes (once the distribution has started).
    pub due_at: Option<String>,
    /// `waiting`, `sending` (its recipients being written), `sent`.
    pub status: String,
    pub stats: FollowUpStats,
}

/// What a distribution will do, checked: everything its rows and jobs are made from.
pub(crate) struct Plan {
    channel: Channel,
    template_id: String,
    pub(crate) audience: Audience,
    send_at: i64,
    time_zone: String,
    link_expires_at: Option<i64>,
    follow_ups: Vec<FollowUpRow>,
}

impl Plan {
    /// The distribution as it is first stored: scheduled for its send time.
    pub(crate) fn new_row(&self, actor: &Actor, survey_id: &str) -> Result<DistributionRow> {
        let now = store::now_ms();
        Ok(DistributionRow {
            id: store::ids::distribution(),
            org_id: actor.org_id.clone(),
            survey_id: survey_id.to_string(),
            owner_id: actor.user_id.clone(),
            channel: self.channel.as_str().into(),
            template_id: self.template_id.clone(),
            audience: serde_json::to_string(&self.audience)?,
            mailing_list_id: self.audience.mailing_list_id.clone(),
            status: "scheduled".into(),
            send_at: self.send_at,
            time_zone: self.time_zone.clone(),
            link_expires_at: self.link_expires_at,
            expanded_through: None,
            created_at: now,
            updated_at: now,
            started_at: None,
            finished_at: None,
            triggered_by: None,
        })
    }

    /// Writes the distribution, its follow-ups and its start job (to run at the send time)
    /// in the caller's transaction.
    pub(crate) async fn insert(
        &self,
        tx: &mut store::Transaction<'_, store::Any>,
        row: &DistributionRow,
    ) -> Result<()> {
        Store::insert_distribution(tx, row).await?;
        Store::replace_follow_ups(tx, &row.id, &self.follow_ups).await?;
        Store::enqueue_job(
            tx,
            &NewJob {
                id: store::queue::job_id(),
                org_id: row.org_id.clone(),
                kind: START_JOB.into(),
                payload: serde_json::json!({ "distributionId": row.id }).to_string(),
                dedupe_key: start_key(&row.id),
                run_after: row.send_at,
            },
        )
        .await?;
        Ok(())
    }
}

fn problem(field: impl Into<String>, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        message: message.into(),
    }
}

pub(crate) fn start_key(distribution_id: &str) -> String {
    format!("dist:{distribution_id}:start")
}

pub(crate) fn follow_up_key(distribution_id: &str, step: i64) -> String {
    format!("dist:{distribution_id}:step:{step}")
}

impl Sonde {
    /// Creates a distribution of a survey the actor can see (editors and admins); its start
    /// job is queued in the same transaction, to run at the send time.
    pub async fn create_distribution(
        &self,
        actor: &Actor,
        survey_id: &str,
        input: NewDistribution,
    ) -> Result<Distribution> {
        actor.require(Role::Editor)?;
        let survey = self.survey(actor, survey_id).await?;
        survey.refuse_unless_open("send it")?;
        let plan = self.plan(actor, &survey.id, &input, None).await?;
        let row = plan.new_row(actor, &survey.id)?;
        let mut tx = self.store.begin().await?;
        plan.insert(&mut tx, &row).await?;
        tx.commit().await?;
        self.distribution(actor, &row.id).await
    }

    /// Checks a distribution whose audience the caller writes itself (the Salesforce panel's
    /// records, saved as contacts in the same transaction as the distribution).
    pub(crate) async fn plan_for_audience(
        &self,
        actor: &Actor,
        survey_id: &str,
        input: &NewDistribution,
    ) -> Result<Plan> {
        actor.require(Role::Editor)?;
        self.survey(actor, survey_id)
            .await?
            .refuse_unless_open("send it")?;
        self.plan_with(actor, survey_id, input, None, false).await
    }

    /// Changes a distribution that has not started: what is given replaces what it had
    /// (`mailingListId` or `contactIds` replaces the audience; `thankYou: null` and
    /// `reminders: []` remove them). 409 once it has started.
    pub async fn update_distribution(
        &self,
        actor: &Actor,
        id: &str,
        changes: NewDistribution,
    ) -> Result<Distribution> {
        actor.require(Role::Editor)?;
        let current = self.distribution_row(actor, id).await?;
        if current.status != "scheduled" {
            return Err(started(&current.status));
        }
        if changes
            .channel
            .is_some_and(|c| c.as_str() != current.channel)
        {
            return Err(Error::invalid_fields(
                "a distribution's channel cannot change",
                vec![problem(
                    "channel",
                    "delete this distribution and create one on the other channel",
                )],
            ));
        }
        let follow_ups = self.store.follow_ups(id).await?;
        let plan = self
            .plan(
                actor,
                &current.survey_id,
                &changes,
                Some((&current, &follow_ups)),
            )
            .await?;
        let row = DistributionRow {
            template_id: plan.template_id,
            audience: serde_json::to_string(&plan.audience)?,
            mailing_list_id: plan.audience.mailing_list_id.clone(),
            send_at: plan.send_at,
            time_zone: plan.time_zone,
            link_expires_at: plan.link_expires_at,
            ..current
        };
        let mut tx = self.store.begin().await?;
        if !Store::update_scheduled_distribution(&mut tx, &row).await? {
            return Err(started("sending"));
        }
        Store::replace_follow_ups(&mut tx, id, &plan.follow_ups).await?;
        // A start job a worker holds right now finds the new time in the row and waits.
        Store::reschedule_queued_job(&mut tx, &start_key(id), row.send_at).await?;
        tx.commit().await?;
        self.distribution(actor, id).await
    }

    /// Deletes a distribution that has not started (and its start job); 409 once it has.
    pub async fn delete_distribution(&self, actor: &Actor, id: &str) -> Result<()> {
        actor.require(Role::Editor)?;
        let current = self.distribution_row(actor, id).await?;
        let mut tx = self.store.begin().await?;
        if !Store::delete_scheduled_distribution(&mut tx, &actor.org_id, id).await? {
            return Err(started(&current.status));
        }
        Store::delete_queued_job(&mut tx, &start_key(id)).await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn distribution(&self, actor: &Actor, id: &str) -> Result<Distribution> {
        let row = self.distribution_row(actor, id).await?;
        self.distribution_view(row).await
    }

    /// A survey's distributions, newest first; those a workflow made for one Salesforce event
    /// are listed with its notifications instead.
    pub async fn survey_distributions(
        &self,
        actor: &Actor,
        survey_id: &str,
    ) -> Result<Vec<Distribution>> {
        let survey = self.survey(actor, survey_id).await?;
        let mut out = Vec::new();
        for row in self
            .store
            .distributions_of_survey(&actor.org_id, &survey.id)
            .await?
        {
            out.push(self.distribution_view(row).await?);
        }
        Ok(out)
    }

    /// A distribution of a survey the actor can see.
    pub(crate) async fn distribution_row(
        &self,
        actor: &Actor,
        id: &str,
    ) -> Result<DistributionRow> {
        let row = self
            .store
            .distribution(&actor.org_id, id)
            .await?
            .ok_or(Error::NotFound("distribution"))?;
        // Hidden alike when its survey is not shared with the actor.
        match self.survey(actor, &row.survey_id).await {
            Ok(_) => Ok(row),
            Err(Error::NotFound(_)) => Err(Error::NotFound("distribution")),
            Err(e) => Err(e),
        }
    }

    pub(crate) async fn distribution_view(&self, row: DistributionRow) -> Result<Distribution> {
        let audience: Audience = serde_json::from_str(&row.audience)?;
        let counts = self.store.recipient_counts(&row.org_id, &row.id).await?;
        let stats = self.distribution_stats(&row, &counts).await?;
        let mut reminders = Vec::new();
        let mut thank_you = None;
        for f in self.store.follow_ups(&row.id).await? {
            let view = FollowUp {
                after_hours: u32::try_from(f.after_minutes / 60).unwrap_or(u32::MAX),
                template_id: f.template_id.clone(),
                due_at: row
                    .started_at
                    .map(|at| crate::responses::rfc3339(at + f.after_minutes * 60_000)),
                status: f.status.clone(),
                stats: FollowUpStats::of(f.step, &counts),
            };
            if f.kind == "thank_you" {
                thank_you = Some(view);
            } else {
                reminders.push(view);
            }
        }
        let status = match row.status.as_str() {
            "sent" if stats.queued > 0 => "sending",
            other => other,
        };
        // Messages still queued (the audience written or not) wait for their transport.
        let notice = if channel_named(&row.channel).is_sms() {
            (status != "sent" && self.sms().is_none()).then(|| {
                "no SMS gateway is configured (SONDE_TWILIO_ACCOUNT_SID): this distribution waits until one is"
                    .to_string()
            })
        } else {
            (status != "sent" && self.mailer().is_none()).then(|| {
                "no SMTP server is configured (SONDE_SMTP_URL): this distribution waits until one is"
                    .to_string()
            })
        };
        let rfc = crate::responses::rfc3339;
        Ok(Distribution {
            channel: channel_named(&row.channel),
            status: status.into(),
            send_at: rfc(row.send_at),
            send_at_local: rfc3339_in(row.send_at, &row.time_zone),
            link_expires_at: row.link_expires_at.map(rfc),
            created_at: rfc(row.created_at),
            updated_at: rfc(row.updated_at),
            started_at: row.started_at.map(rfc),
            audience_written_at: row.finished_at.map(rfc),
            mailing_list_id: audience.mailing_list_id,
            contact_ids: audience.contact_ids,
            reminders,
            thank_you,
            stats,
            notice,
            id: row.id,
            survey_id: row.survey_id,
            owner_id: row.owner_id,
            template_id: row.template_id,
            time_zone: row.time_zone,
        })
    }

    /// Checks a distribution as asked (on top of `current` when editing one), naming every
    /// problem's field.
    async fn plan(
        &self,
        actor: &Actor,
        survey_id: &str,
        input: &NewDistribution,
        current: Option<(&DistributionRow, &[FollowUpRow])>,
    ) -> Result<Plan> {
        self.plan_with(actor, survey_id, input, current, true).await
    }

    /// [`Self::plan`], the audience checked only when `check_audience`.
    async fn plan_with(
        &self,
        actor: &Actor,
        survey_id: &str,
        input: &NewDistribution,
        current: Option<(&DistributionRow, &[FollowUpRow])>,
        check_audience: bool,
    ) -> Result<Plan> {
        let mut problems = Vec::new();
        let channel = match (input.channel, current) {
            (Some(c), _) => c,
            (None, Some((row, _))) => channel_named(&row.channel),
            (None, None) => Channel::Email,
        };
        if channel == Channel::SmsTwoWay {
            // Only questions a reply can answer: each other one is named.
            let survey = self.survey(actor, survey_id).await?;
            if let Err(refused) = distribution::two_way::check_survey(&survey.definition) {
                problems.extend(refused.into_iter().map(|e| problem(e.field, e.message)));
            }
        }
        let audience = if check_audience {
            self.audience(actor, input, current.map(|c| c.0), &mut problems)
                .await?
        } else {
            Audience::default()
        };
        let template_id = match (&input.template_id, current) {
            (Some(id), _) => id.clone(),
            (None, Some((row, _))) => row.template_id.clone(),
            (None, None) => {
                problems.push(problem("templateId", "is required"));
                String::new()
            }
        };
        if !template_id.is_empty() {
            self.check_template(actor, &template_id, channel, "templateId", &mut problems)
                .await?;
        }
        let time_zone = input
            .time_zone
            .clone()
            .or_else(|| current.map(|c| c.0.time_zone.clone()))
            .unwrap_or_else(|| "UTC".into());
        let zone = match time_zone.parse::<chrono_tz::Tz>() {
            Ok(z) => Some(z),
            Err(_) => {
                problems.push(problem(
                    "timeZone",
                    format!("{time_zone:?} is not an IANA time zone (such as Europe/Paris or UTC)"),
                ));
                None
            }
        };
        let now = store::now_ms();
        let mut send_at = current.map_or(now, |c| c.0.send_at);
        if let (Some(text), Some(zone)) = (&input.send_at, zone) {
            match parse_instant(text, zone) {
                Err(e) => problems.push(problem("sendAt", e)),
                Ok(at) if at < now - PAST_GRACE_MS => problems.push(problem(
                    "sendAt",
                    format!(
                        "{} is in the past; leave sendAt out to send now",
                        crate::responses::rfc3339(at)
                    ),
                )),
                Ok(at) => send_at = at.max(now),
            }
        }
        let mut link_expires_at = current.and_then(|c| c.0.link_expires_at);
        if let (Some(text), Some(zone)) = (&input.link_expires_at, zone) {
            match parse_instant(text, zone) {
                Err(e) => problems.push(problem("linkExpiresAt", e)),
                Ok(at) => link_expires_at = Some(at),
            }
        }
        if link_expires_at.is_some_and(|at| at <= send_at) {
            problems.push(problem(
                "linkExpiresAt",
                "must be after the send time: the links would never open",
            ));
        }
        let follow_ups = self
            .follow_up_rows(actor, input, current, channel, &mut problems)
            .await?;
        if !problems.is_empty() {
            return Err(Error::invalid_fields(
                "the distribution has invalid fields",
                problems,
            ));
        }
        Ok(Plan {
            channel,
            template_id,
            audience,
            send_at,
            time_zone,
            link_expires_at,
            follow_ups,
        })
    }

    async fn audience(
        &self,
        actor: &Actor,
        input: &NewDistribution,
        current: Option<&DistributionRow>,
        problems: &mut Vec<FieldProblem>,
    ) -> Result<Audience> {
        match (&input.mailing_list_id, &input.contact_ids) {
            (Some(_), Some(_)) => {
                problems.push(problem(
                    "mailingListId",
                    "give mailingListId or contactIds, not both",
                ));
                Ok(Audience::default())
            }
            (None, None) => match current {
                Some(row) => Ok(serde_json::from_str(&row.audience)?),
                None => {
                    problems.push(problem(
                        "mailingListId",
                        "the audience is required: give mailingListId or contactIds",
                    ));
                    Ok(Audience::default())
                }
            },
            (Some(list), None) => {
                if self
                    .store
                    .mailing_list(&actor.org_id, list)
                    .await?
                    .is_none()
                {
                    problems.push(problem(
                        "mailingListId",
                        "no mailing list of your organization has this id",
                    ));
                }
                Ok(Audience {
                    mailing_list_id: Some(list.clone()),
                    contact_ids: None,
                })
            }
            (None, Some(ids)) => {
                if ids.is_empty() {
                    problems.push(problem("contactIds", "is empty"));
                } else if ids.len() > MAX_CONTACT_IDS {
                    problems.push(problem(
                        "contactIds",
                        format!("holds {} contacts; at most {MAX_CONTACT_IDS}: put more in a mailing list", ids.len()),
                    ));
                } else {
                    let mut tx = self.store.begin().await?;
                    let found = Store::audience_contacts(&mut tx, &actor.org_id, ids).await?;
                    tx.rollback().await?;
                    let known: std::collections::HashSet<&str> =
                        found.iter().map(|m| m.contact.id.as_str()).collect();
                    for (i, id) in ids.iter().enumerate() {
                        if !known.contains(id.as_str()) {
                            problems.push(problem(
                                format!("contactIds[{i}]"),
                                format!("no contact of your organization has the id {id:?}"),
                            ));
                        }
                    }
                }
                let mut sorted = ids.clone();
                sorted.sort();
                sorted.dedup();
                Ok(Audience {
                    mailing_list_id: None,
                    contact_ids: Some(sorted),
                })
            }
        }
    }

    pub(crate) async fn check_template(
        &self,
        actor: &Actor,
        id: &str,
        channel: Channel,
        field: &str,
        problems: &mut Vec<FieldProblem>,
    ) -> Result<()> {
        match self.store.template(&actor.org_id, id).await? {
            None => problems.push(problem(
                field,
                "no template of your organization has this id",
            )),
            Some(t) => {
                let definition: TemplateDefinition = serde_json::from_str(&t.definition)?;
                if !definition.serves(channel) {
                    problems.push(problem(
                        field,
                        format!(
                            "is an {} template; a {} distribution needs an {} template",
                            definition.channel(),
                            channel.as_str(),
                            if channel.is_sms() { "sms" } else { "email" }
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    /// The follow-ups as asked (or as they were, when editing and not given; given as `null`,
    /// none).
    async fn follow_up_rows(
        &self,
        actor: &Actor,
        input: &NewDistribution,
        current: Option<(&DistributionRow, &[FollowUpRow])>,
        channel: Channel,
        problems: &mut Vec<FieldProblem>,
    ) -> Result<Vec<FollowUpRow>> {
        let kept = |kind: &str| -> Vec<FollowUpInput> {
            current
                .map(|(_, f)| f)
                .unwrap_or_default()
                .iter()
                .filter(|f| f.kind == kind)
                .map(|f| FollowUpInput {
                    after_hours: u32::try_from(f.after_minutes / 60).unwrap_or(u32::MAX),
                    template_id: f.template_id.clone(),
                })
                .collect()
        };
        let reminders = match &input.reminders {
            Some(given) => given.clone().unwrap_or_default(),
            None => kept("reminder"),
        };
        let thank_you = match &input.thank_you {
            Some(given) => given.clone(),
            None => kept("thank_you").into_iter().next(),
        };
        if reminders.len() > MAX_REMINDERS {
            problems.push(problem(
                "reminders",
                format!("at most {MAX_REMINDERS} reminders"),
            ));
        }
        let mut rows = Vec::new();
        let named = reminders
            .iter()
            .enumerate()
            .map(|(i, r)| (format!("reminders[{i}]"), "reminder", r))
            .chain(
                thank_you
                    .iter()
                    .map(|t| ("thankYou".to_string(), "thank_you", t)),
            );
        for (field, kind, f) in named {
            if !(1..=8_760).contains(&f.after_hours) {
                problems.push(problem(
                    format!("{field}.afterHours"),
                    "must be from 1 to 8760 (a year)",
                ));
            }
            self.check_template(
                actor,
                &f.template_id,
                channel,
                &format!("{field}.templateId"),
                problems,
            )
            .await?;
            rows.push(FollowUpRow {
                distribution_id: String::new(),
                step: rows.len() as i64 + 1,
                kind: kind.into(),
                after_minutes: i64::from(f.after_hours) * 60,
                template_id: f.template_id.clone(),
                status: "waiting".into(),
                expanded_through: None,
            });
        }
        Ok(rows)
    }
}

fn started(status: &str) -> Error {
    Error::Conflict(format!(
        "this distribution is {status}: only a scheduled distribution can be changed or deleted"
    ))
}

/// The channel a stored name stands for (rows hold only names this crate wrote).
pub(crate) fn channel_named(name: &str) -> Channel {
    match name {
        "sms" => Channel::Sms,
        "sms_two_way" => Channel::SmsTwoWay,
        _ => Channel::Email,
    }
}
