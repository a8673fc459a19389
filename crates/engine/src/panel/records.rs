//! What the panel reads from the Salesforce org, through the organization's link to it: the
//! records a send is launched on (batched: a campaign's members with their Contact and Lead
//! fields in one query per 2,000, chosen records one query per 300), an Account's contacts
//! (kept a few minutes), and the fields the Send tab's picker offers.

use super::sends::{person_object, Launch, PanelSend, Person};
use super::{record_key, PanelPass};
use crate::{Actor, Error, Result, Sonde};
use futures::TryStreamExt;
use serde_json::Value;

/// Ids per `WHERE Id IN (…)` query: its URL stays well under Salesforce's 16,384 characters.
const IDS_PER_QUERY: usize = 300;
/// How long an Account's contacts, once read, are used before they are read again.
pub const ACCOUNT_CONTACTS_FOR_MS: i64 = 5 * 60 * 1000;
/// Accounts whose contacts a process keeps at most.
const ACCOUNTS_CACHED: usize = 10_000;

impl Sonde {
    /// The link the panel reads the org through: the actor's own, else the organization's
    /// oldest usable one.
    pub(crate) async fn panel_connection(
        &self,
        actor: &Actor,
        pass: &PanelPass,
    ) -> Result<(String, salesforce::Connection)> {
        let links = self
            .store
            .connections_to_org(&actor.org_id, &pass.sf_org_id)
            .await?;
        let row = links
            .iter()
            .find(|c| c.user_id == actor.user_id)
            .or_else(|| links.first())
            .ok_or_else(|| Error::invalid("this Salesforce org is no longer linked to Sonde"))?;
        Ok((row.id.clone(), self.live_connection(&row.id).await?))
    }

    /// An Account's contacts (15-character keys), read in one query per 2,000 and kept for
    /// [`ACCOUNT_CONTACTS_FOR_MS`]: a contact added since shows on the Account's page after
    /// that at the latest.
    pub(crate) async fn account_contacts(
        &self,
        actor: &Actor,
        pass: &PanelPass,
        account: &str,
    ) -> Result<std::sync::Arc<Vec<String>>> {
        let (connection_id, conn) = self.panel_connection(actor, pass).await?;
        let key = (connection_id, account.to_string());
        let now = store::now_ms();
        if let Some((at, ids)) = self.cached_account_contacts(&key) {
            if now - at < ACCOUNT_CONTACTS_FOR_MS {
                return Ok(ids);
            }
        }
        let soql = format!("SELECT Id FROM Contact WHERE AccountId = '{account}'");
        let rows: Vec<Value> = conn
            .query::<Value>(&soql)
            .try_collect()
            .await
            .map_err(|e| Error::invalid(format!("reading the Account's contacts: {e}")))?;
        let ids: std::sync::Arc<Vec<String>> = std::sync::Arc::new(
            rows.iter()
                .filter_map(|r| r.get("Id")?.as_str().and_then(record_key))
                .map(str::to_string)
                .collect(),
        );
        let mut cache = self
            .salesforce
            .account_contacts
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        if cache.len() >= ACCOUNTS_CACHED {
            cache.retain(|_, (at, _)| now - *at < ACCOUNT_CONTACTS_FOR_MS);
            if cache.len() >= ACCOUNTS_CACHED {
                cache.clear();
            }
        }
        cache.insert(key, (now, ids.clone()));
        Ok(ids)
    }

    /// Forgets the Accounts' contacts read through these links (they were disconnected).
    pub(crate) fn forget_account_contacts(&self, links: &[&str]) {
        self.salesforce
            .account_contacts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|(link, _), _| !links.contains(&link.as_str()));
    }

    fn cached_account_contacts(
        &self,
        key: &(String, String),
    ) -> Option<crate::connections::AccountContacts> {
        self.salesforce
            .account_contacts
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(key)
            .cloned()
    }

    /// The fields of `object` the Send tab's embedded-data picker offers (from the org's
    /// describe, cached per link): API name and label.
    pub async fn panel_fields(
        &self,
        actor: &Actor,
        pass: &PanelPass,
        object: &str,
    ) -> Result<Vec<(String, String)>> {
        let (_, conn) = self.panel_connection(actor, pass).await?;
        let describe = conn
            .describe(object)
            .await
            .map_err(|e| Error::invalid(format!("describing {object}: {e}")))?;
        let mut fields: Vec<(String, String)> = describe
            .fields
            .iter()
            .map(|f| (f.name.clone(), f.label.clone()))
            .collect();
        fields.sort_by(|a, b| a.1.cmp(&b.1));
        Ok(fields)
    }

    /// Reads the launch's Contacts and Leads from the org, batched.
    pub(super) async fn read_people(
        &self,
        conn: &salesforce::Connection,
        launch: &Launch,
        asked: &PanelSend,
        exclusions: &super::Exclusions,
    ) -> Result<(Vec<Person>, u32)> {
        let failed = |e: salesforce::Error| Error::invalid(format!("reading the records: {e}"));
        let mut people = Vec::new();
        match launch {
            Launch::Campaign(id) => {
                // One query: each member with its Contact's or Lead's fields.
                let mut columns = vec!["Id".to_string()];
                for object in ["Contact", "Lead"] {
                    columns.extend(
                        asked
                            .fields(object, exclusions)
                            .into_iter()
                            .map(|f| format!("{object}.{f}")),
                    );
                }
                let soql = format!(
                    "SELECT {} FROM CampaignMember WHERE CampaignId = '{id}'",
                    columns.join(", ")
                );
                let rows: Vec<Value> = conn
                    .query::<Value>(&soql)
                    .try_collect()
                    .await
                    .map_err(failed)?;
                for row in rows {
                    for object in ["Contact", "Lead"] {
                        if let Some(Value::Object(fields)) = row.get(object) {
                            people.push(Person {
                                object,
                                fields: fields.clone(),
                            });
                            break;
                        }
                    }
                }
                let selected = people.len() as u32;
                Ok((people, selected))
            }
            Launch::Records { ids, .. } | Launch::Selected(ids) => {
                let mut wanted = 0u32;
                for object in ["Contact", "Lead"] {
                    let ids: Vec<&String> = ids
                        .iter()
                        .filter(|id| person_object(id) == Some(object))
                        .collect();
                    wanted += ids.len() as u32;
                    let fields = asked.fields(object, exclusions).join(", ");
                    for chunk in ids.chunks(IDS_PER_QUERY) {
                        let list: Vec<String> = chunk.iter().map(|id| format!("'{id}'")).collect();
                        let soql = format!(
                            "SELECT {fields} FROM {object} WHERE Id IN ({})",
                            list.join(", ")
                        );
                        let rows: Vec<Value> = conn
                            .query::<Value>(&soql)
                            .try_collect()
                            .await
                            .map_err(failed)?;
                        people.extend(rows.into_iter().filter_map(|r| match r {
                            Value::Object(fields) => Some(Person { object, fields }),
                            _ => None,
                        }));
                    }
                }
                Ok((people, wanted))
            }
        }
    }
}
