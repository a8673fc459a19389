//! Sending from Salesforce: the panel on a Contact or Lead (one record), on records selected in
//! a list view, or on a Campaign (its members, Contacts and Leads) sends a survey. The records
//! are read from the org in batched queries — a campaign's members with their Contact and Lead
//! fields in one query per 2,000, chosen records one query per 300 — with the fields that
//! exclude them; those left are saved as directory contacts in the chosen mailing list, carrying
//! `sfContactId`/`sfLeadId`/`sfAccountId`/`sfCampaignId` and the mapped fields as embedded
//! data, and become the audience of a distribution written in the same transaction, with what
//! became of each record counted for the Sent tab.

use super::{record_key, PanelPass};
use crate::directory::{OptOutSource, Upsert};
use crate::distribution_workers::{TestSend, TestSendQueued};
use crate::distributions::{Audience, Distribution, NewDistribution};
use crate::opt_out_sync::is_field_name;
use crate::{Actor, Error, FieldProblem, Result, Role, Sonde};
use directory::{ContactInput, EmailAddress, PhoneNumber};
use distribution::Channel;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use std::collections::{BTreeMap, HashSet};
use store::panel::PanelSendRow;
use store::Store;

/// Records selected in a list view that one panel takes (Salesforce lets a list view select
/// at most 200).
pub const MAX_SELECTED: usize = 200;

/// A Salesforce field copied into the invitation's embedded data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldMapping {
    /// `Contact` or `Lead`.
    pub object: String,
    /// The field's API name (`Title`, `Region__c`).
    pub field: String,
    /// The embedded data field it fills.
    pub name: String,
}

/// What the Send tab asks for.
#[derive(Debug, Clone, Default)]
pub struct PanelSend {
    pub survey_id: String,
    pub channel: Option<Channel>,
    pub template_id: String,
    /// The mailing list the records are saved in...
    pub mailing_list_id: Option<String>,
    /// ...or a new one of this name.
    pub new_list_name: Option<String>,
    /// The phone field texts go to (default `MobilePhone`).
    pub phone_field: Option<String>,
    pub mappings: Vec<FieldMapping>,
    /// Absent: now. RFC 3339 or local in `time_zone`.
    pub send_at: Option<String>,
    pub time_zone: Option<String>,
}

/// What became of the records a send was launched on.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SendCounts {
    /// Records the send was launched on (a campaign's members).
    pub selected: u32,
    /// Kept out by an exclusion field (email opt-out, do not call…), each counted once...
    pub excluded: u32,
    /// ...under the first field that excluded it.
    pub excluded_by: BTreeMap<String, u32>,
    /// No usable email address (an email send).
    pub missing_email: u32,
    /// No usable phone number in the chosen field (a text message send).
    pub missing_phone: u32,
    /// Another record of the send has the same address.
    pub duplicates: u32,
    /// Ids the org does not have (deleted since they were selected).
    pub not_found: u32,
    /// Saved in the mailing list and sent the survey.
    pub in_list: u32,
}

/// A distribution sent from the panel, as its Sent and Scheduled tabs show it.
#[derive(Debug, Clone)]
pub struct PanelSent {
    pub distribution: Distribution,
    pub survey_name: String,
    /// `record`, `selected` or `campaign`.
    pub launched_from: String,
    pub counts: SendCounts,
    pub created_at: i64,
}

/// A record's panel sends: those still to go, and those sent.
#[derive(Debug, Clone, Default)]
pub struct SentTab {
    pub scheduled: Vec<PanelSent>,
    pub sent: Vec<PanelSent>,
}

/// What a send is launched on.
pub(super) enum Launch {
    Records {
        object: &'static str,
        ids: Vec<String>,
    },
    Selected(Vec<String>),
    Campaign(String),
}

/// A Contact or Lead as the org answered it.
pub(super) struct Person {
    pub(super) object: &'static str,
    pub(super) fields: Map<String, Value>,
}

fn problem(field: &str, message: impl Into<String>) -> FieldProblem {
    FieldProblem {
        field: field.into(),
        message: message.into(),
    }
}

pub(super) fn person_object(id: &str) -> Option<&'static str> {
    match id.get(..3)? {
        "003" => Some("Contact"),
        "00Q" => Some("Lead"),
        _ => None,
    }
}

/// A field's value as embedded data holds it (text), None when empty.
fn text(v: Option<&Value>) -> Option<String> {
    match v? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Value::Bool(b) => Some(b.to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

fn is_true(v: Option<&Value>) -> bool {
    match v {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true") || s == "1",
        _ => false,
    }
}

impl PanelSend {
    fn phone_field(&self) -> &str {
        self.phone_field
            .as_deref()
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .unwrap_or("MobilePhone")
    }

    /// The fields read of each `object` record: identity, address, exclusions, mappings.
    pub(super) fn fields(&self, object: &str, exclusions: &super::Exclusions) -> Vec<String> {
        let mut fields: Vec<String> = ["Id", "FirstName", "LastName", "Email"]
            .iter()
            .map(|f| f.to_string())
            .collect();
        if object == "Contact" {
            fields.push("AccountId".into());
        }
        fields.push(self.phone_field().to_string());
        fields.extend(exclusions.fields(object).into_iter().map(|f| f.field));
        fields.extend(
            self.mappings
                .iter()
                .filter(|m| m.object == object)
                .map(|m| m.field.clone()),
        );
        let mut seen = HashSet::new();
        fields.retain(|f| seen.insert(f.to_ascii_lowercase()));
        fields
    }

    fn check(&self, problems: &mut Vec<FieldProblem>) {
        if !is_field_name(self.phone_field()) {
            problems.push(problem("phoneField", "not a field's API name"));
        }
        for (i, m) in self.mappings.iter().enumerate() {
            if !matches!(m.object.as_str(), "Contact" | "Lead") {
                problems.push(problem(&format!("mappings[{i}].object"), "Contact or Lead"));
            }
            if !is_field_name(&m.field) {
                problems.push(problem(
                    &format!("mappings[{i}].field"),
                    format!("{:?} is not a field's API name", m.field),
                ));
            }
            if m.name.trim().is_empty() || m.name.len() > 100 {
                problems.push(problem(
                    &format!("mappings[{i}].name"),
                    "name the embedded data field it fills",
                ));
            }
        }
        if self.mailing_list_id.is_none()
            && self
                .new_list_name
                .as_deref()
                .is_none_or(|n| n.trim().is_empty())
        {
            problems.push(problem(
                "mailingListId",
                "choose the mailing list the records are saved in, or name a new one",
            ));
        }
    }
}

fn launch_of(pass: &PanelPass) -> Result<Launch> {
    if !pass.record_ids.is_empty() {
        return Ok(Launch::Selected(pass.record_ids.clone()));
    }
    match (pass.record_type.as_deref(), pass.record_id.as_deref()) {
        (Some("Campaign"), Some(id)) => Ok(Launch::Campaign(id.to_string())),
        (Some(object @ ("Contact" | "Lead")), Some(id)) => Ok(Launch::Records {
            object: if object == "Contact" { "Contact" } else { "Lead" },
            ids: vec![id.to_string()],
        }),
        _ => Err(Error::invalid(
            "surveys are sent from a Contact, a Lead or a Campaign, or from records selected in a list view",
        )),
    }
}

impl Launch {
    pub(super) fn kind(&self) -> &'static str {
        match self {
            Launch::Records { .. } => "record",
            Launch::Selected(_) => "selected",
            Launch::Campaign(_) => "campaign",
        }
    }

    fn object(&self) -> &'static str {
        match self {
            Launch::Records { object, .. } => object,
            Launch::Selected(ids) => ids
                .first()
                .and_then(|id| person_object(id))
                .unwrap_or("Contact"),
            Launch::Campaign(_) => "Campaign",
        }
    }

    /// The keys its Sent tab is found under.
    fn record_keys(&self) -> Vec<String> {
        let ids: Vec<&str> = match self {
            Launch::Records { ids, .. } | Launch::Selected(ids) => {
                ids.iter().map(String::as_str).collect()
            }
            Launch::Campaign(id) => vec![id.as_str()],
        };
        let mut keys: Vec<String> = ids
            .into_iter()
            .filter_map(record_key)
            .map(str::to_string)
            .collect();
        keys.sort();
        keys.dedup();
        keys
    }
}

impl Sonde {
    /// Decides each record: excluded, without the channel's address, a duplicate, or a
    /// contact for the list.
    fn recipients(
        people: &[Person],
        launch: &Launch,
        asked: &PanelSend,
        channel: Channel,
        exclusions: &super::Exclusions,
        counts: &mut SendCounts,
    ) -> Vec<ContactInput> {
        let mut out = Vec::new();
        let mut addresses = HashSet::new();
        for p in people {
            let f = &p.fields;
            if let Some(excluded) = exclusions
                .fields(p.object)
                .into_iter()
                .find(|x| is_true(f.get(&x.field)))
            {
                counts.excluded += 1;
                *counts.excluded_by.entry(excluded.label).or_default() += 1;
                continue;
            }
            let email = text(f.get("Email")).and_then(|e| EmailAddress::parse(&e).ok());
            let phone =
                text(f.get(asked.phone_field())).and_then(|p| PhoneNumber::parse(&p, None).ok());
            let address = if channel.is_sms() {
                match &phone {
                    Some(p) => p.as_ref().to_string(),
                    None => {
                        counts.missing_phone += 1;
                        continue;
                    }
                }
            } else {
                match &email {
                    Some(e) => e.as_ref().to_ascii_lowercase(),
                    None => {
                        counts.missing_email += 1;
                        continue;
                    }
                }
            };
            if !addresses.insert(address) {
                counts.duplicates += 1;
                continue;
            }
            let id = text(f.get("Id")).unwrap_or_default();
            let mut embedded = BTreeMap::new();
            let id_field = if p.object == "Lead" {
                "sfLeadId"
            } else {
                "sfContactId"
            };
            embedded.insert(id_field.to_string(), id.clone());
            if let Some(account) = text(f.get("AccountId")) {
                embedded.insert("sfAccountId".to_string(), account);
            }
            if let Launch::Campaign(c) = launch {
                embedded.insert("sfCampaignId".to_string(), c.clone());
            }
            for m in asked.mappings.iter().filter(|m| m.object == p.object) {
                if let Some(v) = text(f.get(&m.field)) {
                    embedded.insert(m.name.trim().to_string(), v);
                }
            }
            out.push(ContactInput {
                first_name: text(f.get("FirstName")),
                last_name: text(f.get("LastName")),
                email,
                phone,
                external_ref: Some(id),
                embedded_data: embedded,
                ..Default::default()
            });
        }
        counts.in_list = out.len() as u32;
        out
    }

    /// Reads and decides the launch's records as the Send tab asks.
    async fn panel_recipients(
        &self,
        actor: &Actor,
        pass: &PanelPass,
        asked: &PanelSend,
        channel: Channel,
    ) -> Result<(String, Launch, Vec<ContactInput>, SendCounts)> {
        let launch = launch_of(pass)?;
        let exclusions = self.panel_settings(actor, pass).await?.exclusions;
        let (connection_id, conn) = self.panel_connection(actor, pass).await?;
        let (people, wanted) = self.read_people(&conn, &launch, asked, &exclusions).await?;
        let mut counts = SendCounts {
            selected: wanted,
            not_found: wanted.saturating_sub(people.len() as u32),
            ..Default::default()
        };
        let recipients =
            Self::recipients(&people, &launch, asked, channel, &exclusions, &mut counts);
        Ok((connection_id, launch, recipients, counts))
    }

    /// Sends (or schedules) the survey to the pass's records. Refused, with each problem
    /// named, before anything is read from the org when the form is wrong; refused after the
    /// read when nobody is left to send to.
    pub async fn send_from_panel(
        &self,
        actor: &Actor,
        pass: &PanelPass,
        asked: PanelSend,
    ) -> Result<PanelSent> {
        actor.require(Role::Editor)?;
        let channel = asked.channel.unwrap_or(Channel::Email);
        let mut problems = Vec::new();
        asked.check(&mut problems);
        if let Some(list) = &asked.mailing_list_id {
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
        }
        let input = NewDistribution {
            channel: Some(channel),
            template_id: Some(asked.template_id.clone()),
            send_at: asked.send_at.clone(),
            time_zone: asked.time_zone.clone(),
            ..Default::default()
        };
        let mut plan = match self
            .plan_for_audience(actor, &asked.survey_id, &input)
            .await
        {
            Ok(plan) if problems.is_empty() => plan,
            Ok(_) => {
                return Err(Error::invalid_fields(
                    "the send has invalid fields",
                    problems,
                ))
            }
            Err(Error::Invalid {
                problems: mut fields,
                ..
            }) => {
                fields.extend(problems);
                return Err(Error::invalid_fields("the send has invalid fields", fields));
            }
            Err(e) => return Err(e),
        };
        let (connection_id, launch, recipients, counts) =
            self.panel_recipients(actor, pass, &asked, channel).await?;
        if recipients.is_empty() {
            return Err(Error::invalid(format!(
                "nobody to send to: of {} records, {} excluded, {} without {}, {} duplicates, {} not found",
                counts.selected,
                counts.excluded,
                counts.missing_email + counts.missing_phone,
                if channel.is_sms() { "a phone number" } else { "an email address" },
                counts.duplicates,
                counts.not_found,
            )));
        }
        if recipients.len() > crate::distributions::MAX_CONTACT_IDS {
            return Err(Error::invalid(format!(
                "{} recipients: a send from Salesforce reaches at most {}",
                recipients.len(),
                crate::distributions::MAX_CONTACT_IDS
            )));
        }
        let mut tx = self.store.begin().await?;
        let list_id = match &asked.mailing_list_id {
            Some(id) => id.clone(),
            None => {
                let name = asked.new_list_name.as_deref().unwrap_or("").trim();
                Store::create_mailing_list_in(&mut tx, &actor.org_id, name)
                    .await?
                    .id
            }
        };
        let written = Upsert {
            actor,
            list_id: Some(&list_id),
            unsubscribe: false,
            source: OptOutSource::Salesforce,
            detail: Some("sent from the Salesforce panel".into()),
        }
        .write_all(&mut tx, &recipients)
        .await?;
        let mut ids: Vec<String> = written.into_iter().map(|(id, _)| id).collect();
        ids.sort();
        ids.dedup();
        plan.audience = Audience {
            mailing_list_id: None,
            contact_ids: Some(ids),
        };
        let row = plan.new_row(actor, &asked.survey_id)?;
        plan.insert(&mut tx, &row).await?;
        let now = store::now_ms();
        Store::insert_panel_send(
            &mut tx,
            &PanelSendRow {
                distribution_id: row.id.clone(),
                org_id: actor.org_id.clone(),
                sf_org_id: pass.sf_org_id.clone(),
                connection_id,
                launched_from: launch.kind().into(),
                object: launch.object().into(),
                counts: serde_json::to_string(&counts)?,
                created_by: actor.user_id.clone(),
                created_at: now,
            },
            &launch.record_keys(),
        )
        .await?;
        tx.commit().await?;
        let survey_name = self.survey(actor, &asked.survey_id).await?.name;
        Ok(PanelSent {
            distribution: self.distribution(actor, &row.id).await?,
            survey_name,
            launched_from: launch.kind().into(),
            counts,
            created_at: now,
        })
    }

    /// A test of the send: the invitation, filled with the first record's data, goes to the
    /// actor's own address (email) — the record is saved as a contact for it, in no list.
    pub async fn panel_test_send(
        &self,
        actor: &Actor,
        pass: &PanelPass,
        asked: PanelSend,
    ) -> Result<TestSendQueued> {
        actor.require(Role::Editor)?;
        let channel = asked.channel.unwrap_or(Channel::Email);
        let (_, _, recipients, _) = self.panel_recipients(actor, pass, &asked, channel).await?;
        let first = recipients
            .into_iter()
            .next()
            .ok_or_else(|| Error::invalid("none of these records can be sent the survey"))?;
        let mut tx = self.store.begin().await?;
        let (contact_id, _) = Upsert {
            actor,
            list_id: None,
            unsubscribe: false,
            source: OptOutSource::Salesforce,
            detail: None,
        }
        .write(&mut tx, &first)
        .await?;
        tx.commit().await?;
        self.queue_test_send(
            actor,
            TestSend {
                template_id: asked.template_id,
                survey_id: asked.survey_id,
                contact_id,
                to: actor.email.clone(),
            },
        )
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn person(object: &'static str, v: Value) -> Person {
        let Value::Object(fields) = v else { panic!() };
        Person { object, fields }
    }

    #[test]
    fn each_record_is_excluded_missing_a_duplicate_or_in_the_list() {
        let exclusions = super::super::Exclusions {
            contact_do_not_call: true,
            ..Default::default()
        };
        let people = vec![
            person(
                "Contact",
                json!({"Id": "003000000000001AAA", "Email": "a@example.com", "AccountId": "001000000000001AAA", "DoNotCall": false, "HasOptedOutOfEmail": false, "Title": "CTO"}),
            ),
            person(
                "Contact",
                json!({"Id": "003000000000002AAA", "Email": "b@example.com", "DoNotCall": true}),
            ),
            person(
                "Contact",
                json!({"Id": "003000000000003AAA", "Email": "c@example.com", "HasOptedOutOfEmail": true, "DoNotCall": true}),
            ),
            person(
                "Contact",
                json!({"Id": "003000000000004AAA", "Email": null}),
            ),
            person(
                "Lead",
                json!({"Id": "00Q000000000005AAA", "Email": "A@example.com", "DoNotCall": true}),
            ),
            person(
                "Lead",
                json!({"Id": "00Q000000000006AAA", "Email": "f@example.com"}),
            ),
        ];
        let asked = PanelSend {
            mappings: vec![FieldMapping {
                object: "Contact".into(),
                field: "Title".into(),
                name: "title".into(),
            }],
            ..Default::default()
        };
        let launch = Launch::Campaign("701000000000001".into());
        let mut counts = SendCounts::default();
        let listed = Sonde::recipients(
            &people,
            &launch,
            &asked,
            Channel::Email,
            &exclusions,
            &mut counts,
        );
        assert_eq!(counts.excluded, 2);
        assert_eq!(counts.excluded_by["do not call"], 1);
        assert_eq!(counts.excluded_by["email opt-out"], 1);
        assert_eq!(counts.missing_email, 1);
        // Lead DoNotCall is not chosen for leads: a duplicate of a@ instead.
        assert_eq!(counts.duplicates, 1);
        assert_eq!(counts.in_list, 2);
        let first = &listed[0].embedded_data;
        assert_eq!(first["sfContactId"], "003000000000001AAA");
        assert_eq!(first["sfAccountId"], "001000000000001AAA");
        assert_eq!(first["sfCampaignId"], "701000000000001");
        assert_eq!(first["title"], "CTO");
        assert_eq!(listed[1].embedded_data["sfLeadId"], "00Q000000000006AAA");
        assert!(!listed[1].embedded_data.contains_key("title"));
        let fields = asked.fields("Contact", &exclusions);
        assert_eq!(
            fields,
            [
                "Id",
                "FirstName",
                "LastName",
                "Email",
                "AccountId",
                "MobilePhone",
                "HasOptedOutOfEmail",
                "DoNotCall",
                "Title"
            ]
        );
    }
}
