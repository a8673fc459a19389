//! The contact directory: contacts, mailing lists and unique personal links.

use crate::{conflict_or, get_bool, ids, now_ms, Result, Store, StoreError};
use sqlx::any::AnyRow;
use sqlx::{Any, Row, Transaction};
use std::collections::HashMap;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ContactRow {
    pub id: String,
    pub org_id: String,
    pub first_name: String,
    pub last_name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub language: Option<String>,
    pub ext_ref: Option<String>,
    /// JSON object of string values.
    pub embedded_data: String,
    pub unsubscribed: bool,
}

pub(crate) fn contact_from(row: &AnyRow) -> Result<ContactRow> {
    Ok(ContactRow {
        id: row.try_get("id")?,
        org_id: row.try_get("org_id")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        email: row.try_get("email")?,
        phone: row.try_get("phone")?,
        language: row.try_get("language")?,
        ext_ref: row.try_get("ext_ref")?,
        embedded_data: row.try_get("embedded_data")?,
        unsubscribed: get_bool(row, "unsubscribed")?,
    })
}

/// A contact's columns, the table named `c`.
pub(crate) const CONTACT_COLUMNS: &str = COLUMNS;
const COLUMNS: &str =
    "c.id, c.org_id, c.first_name, c.last_name, c.email, c.phone, c.language, c.ext_ref, c.embedded_data, c.unsubscribed";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MailingListRow {
    pub id: String,
    pub org_id: String,
    pub name: String,
    pub members: i64,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PersonalLink {
    pub token: String,
    pub org_id: String,
    pub survey_id: String,
    pub contact_id: String,
    pub response_id: Option<String>,
    /// The distribution the link was sent in, and on which channel (`email`, `sms`).
    pub distribution_id: Option<String>,
    pub channel: Option<String>,
    /// After this the link opens no new response.
    pub expires_at: Option<i64>,
}

/// How a contact with an email is found: the address lower-cased (the local part as well, as
/// mail systems treat it in practice and as the CSV import's duplicate check does).
pub fn email_key(email: &str) -> String {
    email.to_lowercase()
}

/// Contacts per multi-row upsert statement (12 parameters each, well within both engines'
/// limits).
const MULTI_ROW: usize = 100;

/// One change of a contact's opt-out, as recorded in `opt_out_events`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubscriptionChange<'a> {
    pub org_id: &'a str,
    pub contact_id: &'a str,
    pub unsubscribed: bool,
    /// api | import | workflow | opt_out_link
    pub source: &'a str,
    pub actor_id: Option<&'a str>,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OptOutEventRow {
    pub id: String,
    pub contact_id: String,
    /// unsubscribe | resubscribe
    pub action: String,
    pub source: String,
    pub actor_id: Option<String>,
    pub detail: Option<String>,
    pub created_at: i64,
}

impl Store {
    /// Inserts, or updates the contact with the same email (or, failing that, external
    /// reference) in the organization: a directory keeps one record per person. Returns the id
    /// and whether it was created.
    ///
    /// Every statement here writes, so on SQLite the transaction holds the write lock from its
    /// first statement (no read snapshot to go stale), and the unique `(org_id, email_key)`
    /// index settles two upserts of one email on either engine. `unsubscribed` is never
    /// written here: an opt-out changes only through [`Store::change_subscription`].
    pub async fn upsert_contact(
        tx: &mut Transaction<'_, Any>,
        c: &ContactRow,
    ) -> Result<(String, bool)> {
        let key = c.email.as_deref().map(email_key);
        let now = now_ms();
        if let Some(ext_ref) = &c.ext_ref {
            if key.is_none() && tx.backend_name() == "PostgreSQL" {
                // No unique key to settle two first-time upserts of one external reference:
                // take them in turn. (SQLite's single writer already does.)
                sqlx::query("SELECT pg_advisory_xact_lock(hashtextextended($1, 0))")
                    .bind(format!("contact-ref:{}:{ext_ref}", c.org_id))
                    .execute(&mut **tx)
                    .await?;
            }
            // The contact with this email, else the oldest with this external reference.
            let updated = sqlx::query(
                "UPDATE contacts SET first_name = $1, last_name = $2, email = COALESCE($3, email), \
                 email_key = COALESCE($4, email_key), phone = COALESCE($5, phone), \
                 language = COALESCE($6, language), ext_ref = $7, embedded_data = $8, updated_at = $9 \
                 WHERE id = COALESCE(\
                   (SELECT id FROM contacts WHERE org_id = $10 AND email_key = $11), \
                   (SELECT id FROM contacts WHERE org_id = $12 AND ext_ref = $13 ORDER BY created_at, id LIMIT 1)) \
                 RETURNING id",
            )
            .bind(&c.first_name)
            .bind(&c.last_name)
            .bind(&c.email)
            .bind(&key)
            .bind(&c.phone)
            .bind(&c.language)
            .bind(ext_ref)
            .bind(&c.embedded_data)
            .bind(now)
            .bind(&c.org_id)
            .bind(&key)
            .bind(&c.org_id)
            .bind(ext_ref)
            .fetch_optional(&mut **tx)
            .await
            .map_err(|e| conflict_or(e, format!("a contact with email {}", c.email.as_deref().unwrap_or(""))))?;
            if let Some(row) = updated {
                return Ok((row.try_get("id")?, false));
            }
        }
        let mut got = Self::insert_on_email(tx, &[c]).await?;
        Ok(got.remove(0))
    }

    /// [`Store::upsert_contact`] for many contacts (an import's batch), in order, in far fewer
    /// statements: runs of contacts without an external reference go as multi-row upserts.
    pub async fn upsert_contacts(
        tx: &mut Transaction<'_, Any>,
        contacts: &[ContactRow],
    ) -> Result<Vec<(String, bool)>> {
        let mut out = Vec::with_capacity(contacts.len());
        let mut run: Vec<&ContactRow> = Vec::new();
        let mut run_keys = std::collections::HashSet::new();
        for c in contacts {
            let key = c.email.as_deref().map(email_key);
            // One statement may not upsert one key twice (PostgreSQL refuses it), and a contact
            // matched by reference must be written in its place in the order.
            let repeated = key.as_ref().is_some_and(|k| run_keys.contains(k));
            if c.ext_ref.is_some() || repeated || run.len() == MULTI_ROW {
                out.extend(Self::insert_on_email(tx, &run).await?);
                run.clear();
                run_keys.clear();
            }
            if c.ext_ref.is_some() {
                out.push(Self::upsert_contact(tx, c).await?);
            } else {
                run_keys.extend(key);
                run.push(c);
            }
        }
        out.extend(Self::insert_on_email(tx, &run).await?);
        Ok(out)
    }

    /// Inserts contacts, each updating instead the contact that has its email: one
    /// `INSERT ... ON CONFLICT (org_id, email_key) DO UPDATE`. Returns each one's id and
    /// whether it was created, in order. No two may share an email.
    async fn insert_on_email(
        tx: &mut Transaction<'_, Any>,
        contacts: &[&ContactRow],
    ) -> Result<Vec<(String, bool)>> {
        if contacts.is_empty() {
            return Ok(Vec::new());
        }
        const COLUMNS: usize = 12;
        let values: Vec<String> = (0..contacts.len())
            .map(|i| {
                let p: Vec<String> = (1..=COLUMNS)
                    .map(|n| format!("${}", i * COLUMNS + n))
                    .collect();
                format!(
                    "({}, 0, {})",
                    p[..COLUMNS - 2].join(", "),
                    p[COLUMNS - 2..].join(", ")
                )
            })
            .collect();
        let sql = format!(
            "INSERT INTO contacts (id, org_id, first_name, last_name, email, email_key, phone, language, \
             ext_ref, embedded_data, unsubscribed, created_at, updated_at) VALUES {} \
             ON CONFLICT (org_id, email_key) DO UPDATE SET first_name = excluded.first_name, \
             last_name = excluded.last_name, email = excluded.email, \
             phone = COALESCE(excluded.phone, contacts.phone), \
             language = COALESCE(excluded.language, contacts.language), \
             ext_ref = COALESCE(excluded.ext_ref, contacts.ext_ref), \
             embedded_data = excluded.embedded_data, updated_at = excluded.updated_at \
             RETURNING id, email_key",
            values.join(", ")
        );
        let now = now_ms();
        let fresh: Vec<String> = contacts.iter().map(|_| ids::contact()).collect();
        let keys: Vec<Option<String>> = contacts
            .iter()
            .map(|c| c.email.as_deref().map(email_key))
            .collect();
        let mut query = sqlx::query(&sql);
        for ((c, id), key) in contacts.iter().zip(&fresh).zip(&keys) {
            query = query
                .bind(id)
                .bind(&c.org_id)
                .bind(&c.first_name)
                .bind(&c.last_name)
                .bind(&c.email)
                .bind(key)
                .bind(&c.phone)
                .bind(&c.language)
                .bind(&c.ext_ref)
                .bind(&c.embedded_data)
                .bind(now)
                .bind(now);
        }
        let rows = query.fetch_all(&mut **tx).await?;
        // RETURNING does not promise the order of VALUES: a new id is ours, an existing
        // contact is known by its key.
        let by_id: HashMap<&str, usize> = fresh
            .iter()
            .enumerate()
            .map(|(i, id)| (id.as_str(), i))
            .collect();
        let by_key: HashMap<&str, usize> = keys
            .iter()
            .enumerate()
            .filter_map(|(i, k)| k.as_deref().map(|k| (k, i)))
            .collect();
        let mut out: Vec<Option<(String, bool)>> = vec![None; contacts.len()];
        for row in rows {
            let id: String = row.try_get("id")?;
            let key: Option<String> = row.try_get("email_key")?;
            let (i, created) = match by_id.get(id.as_str()) {
                Some(&i) => (i, true),
                None => match key.as_deref().and_then(|k| by_key.get(k)) {
                    Some(&i) => (i, false),
                    None => {
                        return Err(StoreError::Corrupt(format!(
                            "upsert returned unknown contact {id}"
                        )))
                    }
                },
            };
            out[i] = Some((id, created));
        }
        out.into_iter()
            .map(|r| {
                r.ok_or_else(|| {
                    StoreError::Corrupt("upsert returned fewer contacts than sent".into())
                })
            })
            .collect()
    }

    /// Unsubscribes or resubscribes a contact and records who did it, when and how. Changes
    /// nothing (and records nothing) when the contact is already in that state; returns whether
    /// it changed.
    pub async fn change_subscription(
        tx: &mut Transaction<'_, Any>,
        change: &SubscriptionChange<'_>,
    ) -> Result<bool> {
        let now = now_ms();
        let value = i64::from(change.unsubscribed);
        let done = sqlx::query(
            "UPDATE contacts SET unsubscribed = $1, updated_at = $2 \
             WHERE id = $3 AND org_id = $4 AND unsubscribed <> $5",
        )
        .bind(value)
        .bind(now)
        .bind(change.contact_id)
        .bind(change.org_id)
        .bind(value)
        .execute(&mut **tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        sqlx::query(
            "INSERT INTO opt_out_events (id, org_id, contact_id, action, source, actor_id, detail, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(ids::opt_out_event())
        .bind(change.org_id)
        .bind(change.contact_id)
        .bind(if change.unsubscribed { "unsubscribe" } else { "resubscribe" })
        .bind(change.source)
        .bind(change.actor_id)
        .bind(&change.detail)
        .bind(now)
        .execute(&mut **tx)
        .await?;
        Ok(true)
    }

    /// A contact's opt-out history, oldest first.
    pub async fn opt_out_events(
        &self,
        org_id: &str,
        contact_id: &str,
    ) -> Result<Vec<OptOutEventRow>> {
        let rows = sqlx::query(
            "SELECT id, contact_id, action, source, actor_id, detail, created_at FROM opt_out_events \
             WHERE org_id = $1 AND contact_id = $2 ORDER BY created_at, id",
        )
        .bind(org_id)
        .bind(contact_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(OptOutEventRow {
                    id: r.try_get("id")?,
                    contact_id: r.try_get("contact_id")?,
                    action: r.try_get("action")?,
                    source: r.try_get("source")?,
                    actor_id: r.try_get("actor_id")?,
                    detail: r.try_get("detail")?,
                    created_at: r.try_get("created_at")?,
                })
            })
            .collect()
    }

    pub async fn contact(&self, org_id: &str, id: &str) -> Result<Option<ContactRow>> {
        let row = sqlx::query(&format!(
            "SELECT {COLUMNS} FROM contacts c WHERE c.id = $1 AND c.org_id = $2"
        ))
        .bind(id)
        .bind(org_id)
        .fetch_optional(self.pool())
        .await?;
        row.as_ref().map(contact_from).transpose()
    }

    pub async fn contacts(
        &self,
        org_id: &str,
        list_id: Option<&str>,
        offset: i64,
        limit: i64,
    ) -> Result<Vec<ContactRow>> {
        let rows = match list_id {
            Some(list) => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM contacts c JOIN mailing_list_members m ON m.contact_id = c.id \
                     WHERE c.org_id = $1 AND m.list_id = $2 ORDER BY c.last_name, c.first_name, c.id LIMIT $3 OFFSET $4"
                ))
                .bind(org_id)
                .bind(list)
                .bind(limit)
                .bind(offset)
                .fetch_all(self.pool())
                .await?
            }
            None => {
                sqlx::query(&format!(
                    "SELECT {COLUMNS} FROM contacts c WHERE c.org_id = $1 \
                     ORDER BY c.last_name, c.first_name, c.id LIMIT $2 OFFSET $3"
                ))
                .bind(org_id)
                .bind(limit)
                .bind(offset)
                .fetch_all(self.pool())
                .await?
            }
        };
        rows.iter().map(contact_from).collect()
    }

    pub async fn create_mailing_list(&self, org_id: &str, name: &str) -> Result<MailingListRow> {
        let id = ids::mailing_list();
        sqlx::query(
            "INSERT INTO mailing_lists (id, org_id, name, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(org_id)
        .bind(name)
        .bind(now_ms())
        .execute(self.pool())
        .await
        .map_err(|e| conflict_or(e, format!("mailing list {name}")))?;
        Ok(MailingListRow {
            id,
            org_id: org_id.into(),
            name: name.into(),
            members: 0,
        })
    }

    /// [`Store::create_mailing_list`] in the caller's transaction.
    pub async fn create_mailing_list_in(
        tx: &mut Transaction<'_, Any>,
        org_id: &str,
        name: &str,
    ) -> Result<MailingListRow> {
        let id = ids::mailing_list();
        sqlx::query(
            "INSERT INTO mailing_lists (id, org_id, name, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(&id)
        .bind(org_id)
        .bind(name)
        .bind(now_ms())
        .execute(&mut **tx)
        .await
        .map_err(|e| conflict_or(e, format!("mailing list {name}")))?;
        Ok(MailingListRow {
            id,
            org_id: org_id.into(),
            name: name.into(),
            members: 0,
        })
    }

    pub async fn mailing_lists(&self, org_id: &str) -> Result<Vec<MailingListRow>> {
        let rows = sqlx::query(
            "SELECT l.id, l.org_id, l.name, (SELECT COUNT(*) FROM mailing_list_members m WHERE m.list_id = l.id) AS members \
             FROM mailing_lists l WHERE l.org_id = $1 ORDER BY l.name, l.id",
        )
        .bind(org_id)
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| {
                Ok(MailingListRow {
                    id: r.try_get("id")?,
                    org_id: r.try_get("org_id")?,
                    name: r.try_get("name")?,
                    members: r.try_get("members")?,
                })
            })
            .collect()
    }

    pub async fn mailing_list(&self, org_id: &str, id: &str) -> Result<Option<MailingListRow>> {
        Ok(self
            .mailing_lists(org_id)
            .await?
            .into_iter()
            .find(|l| l.id == id))
    }

    /// Adds contacts within the caller's transaction; adding a member twice is harmless.
    pub async fn add_to_mailing_list(
        tx: &mut Transaction<'_, Any>,
        list_id: &str,
        contact_ids: &[String],
    ) -> Result<()> {
        for chunk in contact_ids.chunks(MULTI_ROW) {
            let values: Vec<String> = (0..chunk.len())
                .map(|i| format!("(${}, ${})", 2 * i + 1, 2 * i + 2))
                .collect();
            let sql = format!(
                "INSERT INTO mailing_list_members (list_id, contact_id) VALUES {} \
                 ON CONFLICT (list_id, contact_id) DO NOTHING",
                values.join(", ")
            );
            let mut query = sqlx::query(&sql);
            for id in chunk {
                query = query.bind(list_id).bind(id);
            }
            query.execute(&mut **tx).await?;
        }
        Ok(())
    }

    pub async fn create_personal_link(
        &self,
        org_id: &str,
        survey_id: &str,
        contact_id: &str,
    ) -> Result<PersonalLink> {
        let token = ids::random_token(24);
        sqlx::query(
            "INSERT INTO personal_links (token, org_id, survey_id, contact_id, created_at) VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&token)
        .bind(org_id)
        .bind(survey_id)
        .bind(contact_id)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(PersonalLink {
            token,
            org_id: org_id.into(),
            survey_id: survey_id.into(),
            contact_id: contact_id.into(),
            response_id: None,
            distribution_id: None,
            channel: None,
            expires_at: None,
        })
    }

    pub async fn personal_link(&self, token: &str) -> Result<Option<PersonalLink>> {
        let row = sqlx::query(
            "SELECT token, org_id, survey_id, contact_id, response_id, distribution_id, channel, \
             expires_at FROM personal_links WHERE token = $1",
        )
        .bind(token)
        .fetch_optional(self.pool())
        .await?;
        row.map(|r| {
            Ok(PersonalLink {
                token: r.try_get("token")?,
                org_id: r.try_get("org_id")?,
                survey_id: r.try_get("survey_id")?,
                contact_id: r.try_get("contact_id")?,
                response_id: r.try_get("response_id")?,
                distribution_id: r.try_get("distribution_id")?,
                channel: r.try_get("channel")?,
                expires_at: r.try_get("expires_at")?,
            })
        })
        .transpose()
    }

    /// Ties the link to its one response; a second response through the same link is refused
    /// by the `response_id IS NULL` guard.
    pub async fn claim_personal_link(
        tx: &mut Transaction<'_, Any>,
        token: &str,
        response_id: &str,
    ) -> Result<bool> {
        let done = sqlx::query(
            "UPDATE personal_links SET response_id = $1 WHERE token = $2 AND response_id IS NULL",
        )
        .bind(response_id)
        .bind(token)
        .execute(&mut **tx)
        .await?;
        Ok(done.rows_affected() == 1)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The migration that makes emails unique meets directories that races already gave
    /// duplicates: it must keep every contact and key the one the old lookup chose.
    #[tokio::test]
    async fn the_email_key_migration_keeps_duplicates_and_keys_the_oldest() {
        let dir = std::env::temp_dir().join(format!("sonde-store-{}", ids::random_token(10)));
        let mut stores = vec![Store::open_data_dir(&dir).await.unwrap()];
        if let Ok(url) = std::env::var("SONDE_TEST_POSTGRES_URL") {
            stores.push(Store::connect_fresh_schema(&url, "t").await.unwrap().0);
        }
        for store in stores {
            crate::migrate_before(&store, &dir, "20261201000002").await;
            let org = store.create_organization("Dupes").await.unwrap();
            for (id, email, created_at) in [
                ("CID_b", "ADA@example.com", 2),
                ("CID_a", "ada@example.com", 1),
                ("CID_c", "Ada@example.com", 3),
                ("CID_d", "grace@example.com", 4),
            ] {
                sqlx::query(
                    "INSERT INTO contacts (id, org_id, first_name, last_name, email, embedded_data, \
                     unsubscribed, created_at, updated_at) VALUES ($1, $2, '', '', $3, '{}', 0, $4, $5)",
                )
                .bind(id)
                .bind(&org.id)
                .bind(email)
                .bind(created_at)
                .bind(created_at)
                .execute(store.pool())
                .await
                .unwrap();
            }
            store.migrate().await.unwrap();
            let rows = sqlx::query("SELECT id, email_key FROM contacts ORDER BY id")
                .fetch_all(store.pool())
                .await
                .unwrap();
            let keys: Vec<(String, Option<String>)> = rows
                .iter()
                .map(|r| (r.get("id"), r.get("email_key")))
                .collect();
            let key = |s: &str| Some(s.to_string());
            assert_eq!(
                keys,
                [
                    ("CID_a".into(), key("ada@example.com")),
                    ("CID_b".into(), None),
                    ("CID_c".into(), None),
                    ("CID_d".into(), key("grace@example.com")),
                ]
            );
            let mut tx = store.begin().await.unwrap();
            let (id, created) = Store::upsert_contact(
                &mut tx,
                &ContactRow {
                    org_id: org.id.clone(),
                    email: Some("adA@example.com".into()),
                    embedded_data: "{}".into(),
                    ..Default::default()
                },
            )
            .await
            .unwrap();
            tx.commit().await.unwrap();
            assert_eq!((id.as_str(), created), ("CID_a", false));
            store.close().await;
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    /// A batch mixes new and known emails, a repeated email and contacts matched by external
    /// reference; each comes back in order with the contact it wrote.
    #[tokio::test]
    async fn a_batch_upsert_answers_in_order_whatever_the_mix() {
        let dir = std::env::temp_dir().join(format!("sonde-store-{}", ids::random_token(10)));
        let mut stores = vec![Store::open_data_dir(&dir).await.unwrap()];
        if let Ok(url) = std::env::var("SONDE_TEST_POSTGRES_URL") {
            stores.push(Store::connect_fresh_schema(&url, "t").await.unwrap().0);
        }
        for store in stores {
            store.migrate().await.unwrap();
            let org = store.create_organization("Batch").await.unwrap();
            let contact = |email: Option<&str>, ext_ref: Option<&str>, last: &str| ContactRow {
                org_id: org.id.clone(),
                email: email.map(str::to_string),
                ext_ref: ext_ref.map(str::to_string),
                last_name: last.into(),
                embedded_data: "{}".into(),
                ..Default::default()
            };
            let mut tx = store.begin().await.unwrap();
            let known =
                Store::upsert_contacts(&mut tx, &[contact(Some("known@example.com"), None, "0")])
                    .await
                    .unwrap();
            let mut batch = vec![
                contact(Some("new1@example.com"), None, "1"),
                contact(Some("KNOWN@example.com"), None, "2"),
                contact(None, Some("R1"), "3"),
                contact(Some("new1@example.com"), None, "4"),
                contact(Some("ref@example.com"), Some("R1"), "5"),
            ];
            batch.extend(
                (0..250).map(|i| contact(Some(&format!("bulk{i}@example.com")), None, "6")),
            );
            let got = Store::upsert_contacts(&mut tx, &batch).await.unwrap();
            tx.commit().await.unwrap();
            assert_eq!(got.len(), 255);
            let created: Vec<bool> = got.iter().take(5).map(|(_, c)| *c).collect();
            assert_eq!(created, [true, false, true, false, false]);
            assert_eq!(got[1].0, known[0].0);
            assert_eq!(got[3].0, got[0].0);
            // The reference matched the contact made from it, which now has the email.
            assert_eq!(got[4].0, got[2].0);
            assert!(got[5..].iter().all(|(_, c)| *c));
            let r1 = store.contact(&org.id, &got[2].0).await.unwrap().unwrap();
            assert_eq!(r1.email.as_deref(), Some("ref@example.com"));
            assert_eq!(r1.last_name, "5");
            let n: i64 = sqlx::query("SELECT COUNT(*) AS n FROM contacts")
                .fetch_one(store.pool())
                .await
                .unwrap()
                .get("n");
            assert_eq!(n, 1 + 2 + 250);
            store.close().await;
        }
        let _ = std::fs::remove_dir_all(&dir);
    }
}
