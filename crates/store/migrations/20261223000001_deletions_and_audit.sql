-- Deleting things, and the record of who did.

-- An archived survey is hidden from lists, closed to respondents and fires no workflow; its
-- responses stay until it is purged (which deletes the survey and them).
ALTER TABLE surveys ADD COLUMN archived_at BIGINT;

-- The audit log: one row per administrative act (a deletion, an archive, a revocation),
-- written in the transaction of the act itself, so an act is recorded exactly when it happened.
-- Rows are only ever inserted. Who acted is kept as the user id and the email they had then
-- (no foreign key: the record outlives what it names); `subject_label` is what people called
-- the subject (a survey's name, a contact's email), since the subject itself may be gone.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    -- NULL when the operator acted from the command line
    actor_id TEXT,
    actor_email TEXT NOT NULL,
    -- survey.archived | survey.restored | survey.purged | contact.deleted | ... (engine::audit)
    action TEXT NOT NULL,
    subject_kind TEXT NOT NULL,
    subject_id TEXT NOT NULL,
    subject_label TEXT NOT NULL,
    -- a small JSON object: how many responses a purge removed, ...
    detail TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_events_org ON audit_events(org_id, created_at, id);
CREATE INDEX audit_events_org_subject ON audit_events(org_id, subject_kind, subject_id, created_at);

-- The opt-out of a deleted contact, so that importing or saving the same person again finds
-- them unsubscribed. A contact is matched by a SHA-256 of its email key or external reference
-- (`match_hash`), so the list keeps no readable address; the suppression is used up when a
-- contact takes it over (that contact then carries the opt-out and its history).
CREATE TABLE opt_out_suppressions (
    org_id TEXT NOT NULL REFERENCES organizations(id),
    match_hash TEXT NOT NULL,
    -- the deleted contact, and when and how it had opted out (its last unsubscribe)
    contact_id TEXT NOT NULL,
    opted_out_at BIGINT,
    opted_out_source TEXT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, match_hash)
);
CREATE INDEX opt_out_suppressions_contact ON opt_out_suppressions(org_id, contact_id);
