//! The directory: contacts, mailing lists, unique personal links, and opt-outs (by a user, an
//! import or a workflow, or by the contact through a signed opt-out link), each change recorded.
//! CSV import is in `contact_import`.

use crate::{Actor, Error, FieldProblem, Result, Role, Sonde};
use directory::ContactInput;
use std::collections::BTreeMap;
use store::directory::{ContactRow, MailingListRow, SubscriptionChange};
use store::Store;

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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
    /// Rows refused; `errors` may list only the first of them.
    pub refused: usize,
    pub errors: Vec<RowProblem>,
    /// Well-formed language codes no language has (a typo such as `ZZ`): imported as given,
    /// and reported so they can be corrected.
    pub unknown_languages: Vec<UnknownLanguage>,
}

/// A language code of an import that no language has, and the lines that gave it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, utoipa::ToSchema)]
pub struct UnknownLanguage {
    pub code: String,
    /// Every contact imported with it.
    pub contacts: usize,
    /// The first of their lines (at most [`UNKNOWN_LANGUAGE_LINES`]).
    pub lines: Vec<usize>,
}

/// How many lines an import report names per unknown language (all are counted).
pub const UNKNOWN_LANGUAGE_LINES: usize = 10;

#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
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

/// Where a change of a contact's opt-out came from; recorded with the change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OptOutSource {
    /// An API call (or the admin UI) by a signed-in user.
    Api,
    /// A CSV import; the detail names the line.
    Import,
    /// A directory task of a workflow run, acting for the workflow's owner.
    Workflow,
    /// The contact themself, through their signed opt-out link.
    OptOutLink,
    /// A contact saved again after an unsubscribed contact with its email or external
    /// reference was deleted: that opt-out is kept (`suppressions`).
    DeletedContact,
    /// The contact's Salesforce record says it opted out (`HasOptedOutOfEmail`), read
    /// before a triggered send.
    Salesforce,
}

impl OptOutSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Api => "api",
            Self::Import => "import",
            Self::Workflow => "workflow",
            Self::OptOutLink => "opt_out_link",
            Self::DeletedContact => "deleted_contact",
            Self::Salesforce => "salesforce",
        }
    }
}

/// One recorded change of a contact's opt-out.
#[derive(Debug, Clone, serde::Serialize, utoipa::ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct OptOutEvent {
    /// `unsubscribe` or `resubscribe`.
    pub action: String,
    /// `api`, `import`, `workflow`, `opt_out_link`, `deleted_contact` (the opt-out of a
    /// deleted contact with this email or external reference, kept) or `salesforce` (the
    /// contact's Salesforce record said so before a triggered send).
    pub source: String,
    /// The user who acted; none when the contact used their opt-out link.
    pub actor_id: Option<String>,
    /// Where: `line 12` of an import, `run RN_…` of a workflow.
    pub detail: Option<String>,
    /// When, RFC 3339.
    pub at: String,
}

/// What saving a contact writes besides the contact: a mailing list, and an opt-out asked
/// for by the input (an `unsubscribed: true`, an unsubscribe task). No upsert ever clears an
/// opt-out; only [`Sonde::set_unsubscribed`] with `false` (a resubscribe) does.
pub(crate) struct Upsert<'a> {
    pub actor: &'a Actor,
    pub list_id: Option<&'a str>,
    pub unsubscribe: bool,
    pub source: OptOutSource,
    pub detail: Option<String>,
}

impl Upsert<'_> {
    /// Writes one contact inside the caller's transaction, unsubscribing it if asked; returns
    /// its id and whether it was created.
    pub(crate) async fn write(
        &self,
        tx: &mut store::Transaction<'_, store::Any>,
        input: &ContactInput,
    ) -> Result<(String, bool)> {
        let (id, created) = self
            .write_all(tx, std::slice::from_ref(input))
            .await?
            .remove(0);
        if self.unsubscribe || input.unsubscribed {
            self.unsubscribe(tx, &id, self.detail.clone()).await?;
        }
        Ok((id, created))
    }

    /// Writes contacts (and their list membership) in order, leaving opt-outs to the caller.
    pub(crate) async fn write_all(
        &self,
        tx: &mut store::Transaction<'_, store::Any>,
        inputs: &[ContactInput],
    ) -> Result<Vec<(String, bool)>> {
        let rows = inputs
            .iter()
            .map(|input| row_of(&self.actor.org_id, input))
            .collect::<Result<Vec<_>>>()?;
        let written = Store::upsert_contacts(tx, &rows).await?;
        crate::suppressions::apply(tx, &self.actor.org_id, &written, inputs).await?;
        if let Some(list) = self.list_id {
            let ids: Vec<String> = written.iter().map(|(id, _)| id.clone()).collect();
            Store::add_to_mailing_list(tx, list, &ids).await?;
        }
        Ok(written)
    }

    /// Records an opt-out from this upsert's source (nothing when already unsubscribed).
    pub(crate) async fn unsubscribe(
        &self,
        tx: &mut store::Transaction<'_, store::Any>,
        contact_id: &str,
        detail: Option<String>,
    ) -> Result<()> {
        Store::change_subscription(
            tx,
            &SubscriptionChange {
                org_id: &self.actor.org_id,
                contact_id,
                unsubscribed: true,
                source: self.source.as_str(),
                actor_id: Some(&self.actor.user_id),
                detail,
            },
        )
        .await?;
        Ok(())
    }
}

impl Sonde {
    /// Adds a contact, or updates the one with the same email or external reference.
    pub async fn save_contact(
        &self,
        actor: &Actor,
        body: &serde_json::Value,
        list_id: Option<&str>,
    ) -> Result<(Contact, bool)> {
        self.upsert_contact(
            body,
            &Upsert {
                actor,
                list_id,
                unsubscribe: false,
                source: OptOutSource::Api,
                detail: None,
            },
        )
        .await
    }

    pub(crate) async fn upsert_contact(
        &self,
        body: &serde_json::Value,
        upsert: &Upsert<'_>,
    ) -> Result<(Contact, bool)> {
        let actor = upsert.actor;
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
        if let Some(list) = upsert.list_id {
            self.mailing_list(actor, list).await?;
        }
        let mut tx = self.store.begin().await?;
        let (id, created) = upsert.write(&mut tx, &input).await?;
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

    /// Unsubscribes (`true`) or resubscribes (`false`) a contact on a user's request, and
    /// records it. Resubscribing is the only way an opt-out is cleared.
    pub async fn set_unsubscribed(
        &self,
        actor: &Actor,
        contact_id: &str,
        value: bool,
    ) -> Result<Contact> {
        actor.require(Role::Editor)?;
        self.contact(actor, contact_id).await?;
        self.change_subscription(SubscriptionChange {
            org_id: &actor.org_id,
            contact_id,
            unsubscribed: value,
            source: OptOutSource::Api.as_str(),
            actor_id: Some(&actor.user_id),
            detail: None,
        })
        .await?;
        self.contact(actor, contact_id).await
    }

    async fn change_subscription(&self, change: SubscriptionChange<'_>) -> Result<bool> {
        let mut tx = self.store.begin().await?;
        let changed = Store::change_subscription(&mut tx, &change).await?;
        tx.commit().await?;
        Ok(changed)
    }

    /// Every change of a contact's opt-out, oldest first.
    pub async fn opt_out_events(
        &self,
        actor: &Actor,
        contact_id: &str,
    ) -> Result<Vec<OptOutEvent>> {
        self.contact(actor, contact_id).await?;
        Ok(self
            .store
            .opt_out_events(&actor.org_id, contact_id)
            .await?
            .into_iter()
            .map(|e| OptOutEvent {
                action: e.action,
                source: e.source,
                actor_id: e.actor_id,
                detail: e.detail,
                at: crate::responses::rfc3339(e.created_at),
            })
            .collect())
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

    /// The opt-out link of an invitation: it names the distribution too, so following it
    /// can reach the Salesforce record a triggered invitation came from.
    pub fn invitation_opt_out_link(
        &self,
        org_id: &str,
        contact_id: &str,
        distribution_id: &str,
    ) -> Result<String> {
        Ok(format!(
            "{}/optout/{}",
            self.public_url(),
            self.opt_out_signer()?
                .token_for_distribution(contact_id, org_id, distribution_id)
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
        let claim = self.opt_out_claim(token).await?;
        Ok((claim.organization_id, claim.contact_id))
    }

    async fn opt_out_claim(&self, token: &str) -> Result<::directory::OptOutClaim> {
        let claim = self
            .opt_out_signer()?
            .verify(token)
            .map_err(|_| Error::Forbidden("this opt-out link is not valid".into()))?;
        self.store
            .contact(&claim.organization_id, &claim.contact_id)
            .await?
            .ok_or(Error::NotFound("contact"))?;
        Ok(claim)
    }

    /// Unsubscribes the contact an opt-out link names; `one_click` when a mail program asked
    /// (RFC 8058's `List-Unsubscribe=One-Click`), which the recorded change says. When the
    /// invitation came from a Salesforce record and opt-out sync is on, the record's opt-out
    /// checkbox is queued to be set in the same transaction.
    pub async fn opt_out(&self, token: &str, one_click: bool) -> Result<()> {
        let claim = self.opt_out_claim(token).await?;
        let write_back = match &claim.distribution_id {
            Some(d) => {
                self.salesforce_opt_out_write(&claim.organization_id, d, false)
                    .await?
            }
            None => None,
        };
        let mut tx = self.store.begin().await?;
        Store::change_subscription(
            &mut tx,
            &SubscriptionChange {
                org_id: &claim.organization_id,
                contact_id: &claim.contact_id,
                unsubscribed: true,
                source: OptOutSource::OptOutLink.as_str(),
                actor_id: None,
                detail: one_click.then(|| "one-click unsubscribe (RFC 8058)".to_string()),
            },
        )
        .await?;
        if let Some(w) = &write_back {
            crate::delivery::fire_opt_out(&mut tx, w).await?;
        }
        tx.commit().await?;
        tracing::info!(contact_id = %claim.contact_id, "contact unsubscribed through opt-out link");
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
        survey.refuse_if_archived("send personal links")?;
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
