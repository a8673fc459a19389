-- The Sonde panel inside Salesforce.

-- Which Salesforce records a response is about: the 15-character ids its sf…Id embedded data
-- names (sfContactId, sfLeadId, sfAccountId, sfCaseId, sfSurveyId…), written with the
-- response, so a record's panel finds its responses through an index instead of reading every
-- response of the organization.
CREATE TABLE response_records (
    org_id TEXT NOT NULL,
    record_key TEXT NOT NULL,
    response_id TEXT NOT NULL,
    started_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, record_key, response_id)
);
-- Newest first per record, holding the response id: a record's list is read from the index.
CREATE INDEX response_records_newest ON response_records(org_id, record_key, started_at, response_id);

-- Responses stored before this table existed are linked by the store's one-time backfill.
CREATE TABLE store_backfills (
    name TEXT PRIMARY KEY,
    done_through TEXT NOT NULL,
    finished BIGINT NOT NULL
);

-- Per Sonde organization and linked Salesforce org: which Contact/Lead fields exclude a
-- record from invitations, and the Sonde user who sends for Salesforce users without an
-- account of their own.
CREATE TABLE panel_settings (
    org_id TEXT NOT NULL,
    sf_org_id TEXT NOT NULL,
    exclusions TEXT NOT NULL,
    sender_user_id TEXT,
    updated_by TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, sf_org_id)
);

-- A distribution sent from the panel: where it was launched and what became of the records
-- it was launched on (counts as JSON: selected, excluded by field, missing email/phone, in
-- the list).
CREATE TABLE panel_sends (
    distribution_id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    sf_org_id TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    launched_from TEXT NOT NULL,
    object TEXT NOT NULL,
    counts TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- The records (or the campaign) a panel send was launched on: their Sent and Scheduled tabs.
CREATE TABLE panel_send_records (
    org_id TEXT NOT NULL,
    record_key TEXT NOT NULL,
    distribution_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (org_id, record_key, distribution_id)
);
