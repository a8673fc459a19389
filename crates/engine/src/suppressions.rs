//! Opt-outs outlive their contact. Deleting an unsubscribed contact keeps a suppression under
//! hashes of its email key and external reference; a later save of a contact that matches one
//! (an API call, an import, a workflow) unsubscribes that contact in the same transaction,
//! records why in its opt-out history, and uses the suppression up. No readable address is
//! kept for a deleted contact.

use crate::directory::OptOutSource;
use crate::Result;
use directory::ContactInput;
use sha2::{Digest, Sha256};
use store::directory::{email_key, ContactRow, SubscriptionChange};
use store::{Any, Store, Transaction};

/// What a saved contact is matched by: its email key and its external reference.
fn match_hashes(email: Option<&str>, ext_ref: Option<&str>) -> Vec<String> {
    let hash = |what: String| {
        Sha256::digest(what.as_bytes())
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<String>()
    };
    let mut out = Vec::new();
    if let Some(e) = email.filter(|e| !e.is_empty()) {
        out.push(hash(format!("email:{}", email_key(e))));
    }
    if let Some(r) = ext_ref.filter(|r| !r.is_empty()) {
        out.push(hash(format!("ref:{r}")));
    }
    out
}

/// Keeps the opt-out of a contact about to be deleted; whether it had one to keep.
pub(crate) async fn keep_opt_out(
    tx: &mut Transaction<'_, Any>,
    contact: &ContactRow,
) -> Result<bool> {
    if !contact.unsubscribed {
        return Ok(false);
    }
    let hashes = match_hashes(contact.email.as_deref(), contact.ext_ref.as_deref());
    if hashes.is_empty() {
        // Nothing a later save could match it by: a new contact is another person to Sonde.
        return Ok(false);
    }
    let last = Store::last_opt_out(tx, &contact.org_id, &contact.id).await?;
    Store::suppress_opt_out(tx, &contact.org_id, &contact.id, &hashes, last.as_ref()).await?;
    Ok(true)
}

/// Unsubscribes the contacts just written (`written[i]` from `inputs[i]`) that match a
/// suppression, and uses those suppressions up.
pub(crate) async fn apply(
    tx: &mut Transaction<'_, Any>,
    org_id: &str,
    written: &[(String, bool)],
    inputs: &[ContactInput],
) -> Result<()> {
    let per_contact: Vec<(&str, Vec<String>)> = written
        .iter()
        .zip(inputs)
        .map(|((id, _), input)| {
            let email = input.email.as_ref().map(|e| e.as_str());
            (
                id.as_str(),
                match_hashes(email, input.external_ref.as_deref()),
            )
        })
        .collect();
    let all: Vec<String> = per_contact.iter().flat_map(|(_, h)| h.clone()).collect();
    if all.is_empty() {
        return Ok(());
    }
    let found = Store::matching_suppressions(tx, org_id, &all).await?;
    for s in &found {
        let matched = per_contact
            .iter()
            .filter(|(_, h)| h.contains(&s.match_hash));
        for (contact_id, _) in matched {
            let how = match (&s.opted_out_source, s.opted_out_at) {
                (Some(source), Some(at)) => {
                    format!(
                        " (unsubscribed {} through {source})",
                        crate::responses::rfc3339(at)
                    )
                }
                _ => String::new(),
            };
            Store::change_subscription(
                tx,
                &SubscriptionChange {
                    org_id,
                    contact_id,
                    unsubscribed: true,
                    source: OptOutSource::DeletedContact.as_str(),
                    actor_id: None,
                    detail: Some(format!(
                        "the opt-out of deleted contact {}{how}",
                        s.contact_id
                    )),
                },
            )
            .await?;
        }
        Store::take_over_suppressions(tx, org_id, &s.contact_id).await?;
    }
    Ok(())
}
