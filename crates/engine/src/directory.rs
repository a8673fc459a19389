//! The directory: contacts, mailing lists, CSV import with a per-row report, unique personal
//! links, and unsubscribing (by an admin, or by the contact through a signed opt-out link).

use crate::{Actor, Error, FieldProblem, Result, Role, Sonde};
use directory::ContactInput;
use std::collections::BTreeMap;
use store::directory::{ContactRow, MailingListRow};
use store::Store;

#[derive(Debug, Clone, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Contact {
    pub id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: Option<String>,
    pub ext_ref: Option<String>,
    pub embedded_data: BTreeMap<String, String>,
    pub unsubscribed: bool,
}

impl Contact {
    fn from_row(row: ContactRow) -> Self {
        Self {
            embedded_data: serde_json::from_str(&row.embedded_data).unwrap_or_default(),
            id: row.id,
            first_name: row.first_name,
            last_name: row.last_name,
            email: row.email,
            phone: row.phone,
            language: row.language,
            ext_ref: row.ext_ref,
            unsubscribed: row.unsubscribed,
        }
    }
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct MailingList {
    pub id: String,
    pub name: String,
    pub members: i64,
}

impl From<MailingListRow> for MailingList {
    fn from(r: MailingListRow) -> Self {
        Self {
            id: r.id,
            name: r.name,
            members: r.members,
        }
    }
}

/// What a CSV import did, row by row.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct ImportReport {
    pub created: usize,
    pub updated: usize,
    pub errors: Vec<RowProblem>,
}

#[derive(Debug, Clone, serde::Serialize)]
pub struct RowProblem {
    pub line: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub column: Option<String>,
    pub message: String,
}

fn row_of(org_id: &str, input: &ContactInput) -> Result<ContactRow> {
    Ok(ContactRow {
        id: String::new(),
        org_id: org_id.into(),
        first_name: input.first_name.clone().unwrap_or_default(),
        last_name: input.last_name.clone().unwrap_or_default(),
        email: input.email.as_ref().map(|e| e.as_str().to_string()),
        phone: input.phone.as_ref().map(|p| p.as_str().to_string()),
        language: input.language.as_ref().map(|l| l.as_str().to_string()),
        ext_ref: input.external_ref.clone(),
        embedded_data: serde_json::to_string(&input.embedded_data)?,
        unsubscribed: input.unsubscribed,
    })
}

impl Sonde {
    /// Adds a contact, or updates the one with the same email or external reference.
    pub async fn save_contact(
        &self,
        actor: &Actor,
        body: &serde_json::Value,
        list_id: Option<&str>,
    ) -> Result<(Contact, bool)> {
        actor.require(Role::Editor)?;
        let input = ContactInput::from_json_value(body).map_err(|errors| {
            Error::invalid_fields(
                "the contact has invalid fields",
                errors
                    .into_iter()
                    .map(|e| FieldProblem {
                        field: e.field,
                        message: e.message,
                    })
                    .collect(),
            )
        })?;
        if let Some(list) = list_id {
            self.mailing_list(actor, list).await?;
        }
        let row = row_of(&actor.org_id, &input)?;
        let mut tx = self.store.begin().await?;
        let (id, created) = Store::upsert_contact(&mut tx, &row).await?;
        if let Some(list) = list_id {
            Store::add_to_mailing_list(&mut tx, list, &id).await?;
        }
        tx.commit().await?;
        Ok((self.contact(actor, &id).await?, created))
    }

    pub async fn contact(&self, actor: &Actor, id: &str) -> Result<Contact> {
        self.store
            .contact(&actor.org_id, id)
            .await?
            .map(Contact::from_row)
            .ok_or(Error::NotFound("contact"))
    }

    pub async fn contacts(
        &self,
        actor: &Actor,
        list_id: Option<&str>,
        offset: usize,
        limit: usize,
    ) -> Result<Vec<Contact>> {
        if let Some(list) = list_id {
            self.mailing_list(actor, list).await?;
        }
        Ok(self
            .store
            .contacts(
                &actor.org_id,
                list_id,
                offset as i64,
                limit.clamp(1, 1000) as i64,
            )
            .await?
            .into_iter()
            .map(Contact::from_row)
            .collect())
    }

    /// Imports a CSV file. Good rows are saved even when others are refused; each refused
    /// row is reported with its line number (and column where known).
    pub async fn import_contacts_csv(
        &self,
        actor: &Actor,
        bytes: &[u8],
        list_id: Option<&str>,
    ) -> Result<ImportReport> {
        actor.require(Role::Editor)?;
        if let Some(list) = list_id {
            self.mailing_list(actor, list).await?;
        }
        let parsed = directory::import_csv(bytes, None);
        let mut report = ImportReport {
            errors: parsed
                .errors
                .into_iter()
                .map(|e| RowProblem {
                    line: e.line,
                    column: e.column,
                    message: e.message,
                })
                .collect(),
            ..Default::default()
        };
        // One transaction per chunk keeps a large import quick without holding SQLite's
        // write lock for the whole file.
        for chunk in parsed.contacts.chunks(500) {
            let mut tx = self.store.begin().await?;
            for (_, input) in chunk {
                let row = row_of(&actor.org_id, input)?;
                let (id, created) = Store::upsert_contact(&mut tx, &row).await?;
                if let Some(list) = list_id {
                    Store::add_to_mailing_list(&mut tx, list, &id).await?;
                }
                if created {
                    report.created += 1;
                } else {
                    report.updated += 1;
                }
            }
            tx.commit().await?;
        }
        report.errors.sort_by_key(|e| e.line);
        Ok(report)
    }

    pub async fn create_mailing_list(&self, actor: &Actor, name: &str) -> Result<MailingList> {
        actor.require(Role::Editor)?;
        let name = name.trim();
        if name.is_empty() {
            return Err(Error::invalid_fields(
                "a mailing list needs a name",
                vec![FieldProblem {
                    field: "name".into(),
                    message: "must not be empty".into(),
                }],
            ));
        }
        Ok(self
            .store
            .create_mailing_list(&actor.org_id, name)
            .await?
            .into())
    }

    pub async fn mailing_lists(&self, actor: &Actor) -> Result<Vec<MailingList>> {
        Ok(self
            .store
            .mailing_lists(&actor.org_id)
            .await?
            .into_iter()
            .map(MailingList::from)
            .collect())
    }

    pub async fn mailing_list(&self, actor: &Actor, id: &str) -> Result<MailingList> {
        self.store
            .mailing_list(&actor.org_id, id)
            .await?
            .map(MailingList::from)
            .ok_or(Error::NotFound("mailing list"))
    }

    pub async fn set_unsubscribed(
        &self,
        actor: &Actor,
        contact_id: &str,
        value: bool,
    ) -> Result<Contact> {
        actor.require(Role::Editor)?;
        if !self
            .store
            .set_unsubscribed(&actor.org_id, contact_id, value)
            .await?
        {
            return Err(Error::NotFound("contact"));
        }
        self.contact(actor, contact_id).await
    }

    /// The `${l://OptOutURL}` of a contact: a signed token, so nobody can unsubscribe
    /// someone else by editing the link.
    pub fn opt_out_link(&self, org_id: &str, contact_id: &str) -> Result<String> {
        Ok(format!(
            "{}/optout/{}",
            self.public_url(),
            self.opt_out_signer()?.token(contact_id, org_id)
        ))
    }

    fn opt_out_signer(&self) -> Result<&::directory::OptOutSigner> {
        self.optout.as_deref().ok_or_else(|| {
            Error::Internal(
                "opt-out links need the instance key: set SONDE_SECRET_KEY (base64 of 32 bytes, the same on every node)"
                    .into(),
            )
        })
    }

    /// Who an opt-out link belongs to, if its signature holds.
    pub async fn opt_out_target(&self, token: &str) -> Result<(String, String)> {
        let claim = self
            .opt_out_signer()?
            .verify(token)
            .map_err(|_| Error::Forbidden("this opt-out link is not valid".into()))?;
        self.store
            .contact(&claim.organization_id, &claim.contact_id)
            .await?
            .ok_or(Error::NotFound("contact"))?;
        Ok((claim.organization_id, claim.contact_id))
    }

    /// Unsubscribes the contact an opt-out link names.
    pub async fn opt_out(&self, token: &str) -> Result<()> {
        let (org_id, contact_id) = self.opt_out_target(token).await?;
        self.store
            .set_unsubscribed(&org_id, &contact_id, true)
            .await?;
        tracing::info!(%contact_id, "contact unsubscribed through opt-out link");
        Ok(())
    }

    /// A unique personal link tying one contact to one survey.
    pub async fn personal_link(
        &self,
        actor: &Actor,
        survey_id: &str,
        contact_id: &str,
    ) -> Result<String> {
        actor.require(Role::Editor)?;
        let survey = self.survey(actor, survey_id).await?;
        self.contact(actor, contact_id).await?;
        let link = self
            .store
            .create_personal_link(&actor.org_id, &survey.id, contact_id)
            .await?;
        Ok(format!(
            "{}/s/{}?l={}",
            self.public_url(),
            survey.id,
            link.token
        ))
    }
}
