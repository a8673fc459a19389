-- The directory under concurrent writers and large imports.

-- A contact with an email is found by `email_key` (the address lower-cased), unique per
-- organization, so an upsert is one `INSERT ... ON CONFLICT (org_id, email_key) DO UPDATE`
-- and two requests for one person can never create two contacts.
ALTER TABLE contacts ADD COLUMN email_key TEXT;
UPDATE contacts SET email_key = lower(email) WHERE email IS NOT NULL;
-- Races before this index could create duplicates. The oldest keeps the key (it is the one the
-- old lookup chose); later ones stay as they are, only no longer matched, so nothing is lost.
CREATE INDEX contacts_email_key_dedupe ON contacts(org_id, email_key);
UPDATE contacts SET email_key = NULL
WHERE email_key IS NOT NULL AND EXISTS (
    SELECT 1 FROM contacts older
    WHERE older.org_id = contacts.org_id AND older.email_key = contacts.email_key
      AND (older.created_at < contacts.created_at
           OR (older.created_at = contacts.created_at AND older.id < contacts.id))
);
DROP INDEX contacts_email_key_dedupe;
CREATE UNIQUE INDEX contacts_org_email_key ON contacts(org_id, email_key);
DROP INDEX contacts_org_email;
-- Contacts are also matched by external reference, and listed by name.
CREATE INDEX contacts_org_ext_ref ON contacts(org_id, ext_ref);
CREATE INDEX contacts_org_name ON contacts(org_id, last_name, first_name, id);

-- Every change of a contact's opt-out: an opt-out is only cleared by an explicit resubscribe,
-- and who did what, when and how is kept.
CREATE TABLE opt_out_events (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    contact_id TEXT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    -- unsubscribe | resubscribe
    action TEXT NOT NULL,
    -- api | import | workflow | opt_out_link
    source TEXT NOT NULL,
    -- the user who acted (a workflow acts for its owner); NULL for the contact's own opt-out link
    actor_id TEXT,
    -- where: "line 12" of an import, "run RN_..." of a workflow
    detail TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX opt_out_events_contact ON opt_out_events(contact_id, created_at);
