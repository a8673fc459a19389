-- Workflows fired by a message from a linked Salesforce org (an Outbound Message, or a Flow's
-- HTTP callout). Each has an endpoint: an unguessable token in its URL, and the secret a
-- callout sends in a header (sealed, like every secret).
CREATE TABLE salesforce_endpoints (
    token TEXT PRIMARY KEY,
    workflow_id TEXT NOT NULL UNIQUE REFERENCES workflows(id) ON DELETE CASCADE,
    org_id TEXT NOT NULL,
    secret TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Each notification received, once per Salesforce org: Salesforce redelivers for 24 hours,
-- and a redelivery only counts itself in `duplicates`.
CREATE TABLE salesforce_notifications (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    sf_org_id TEXT NOT NULL,
    -- the Outbound Message notification's Id, or the callout's idempotency key
    notification_id TEXT NOT NULL,
    -- outbound_message | callout
    source TEXT NOT NULL,
    object TEXT NOT NULL,
    record_id TEXT,
    -- the record's fields as sent, JSON
    record TEXT NOT NULL,
    -- received (recorded, not acted on yet) | sent | excluded | failed
    status TEXT NOT NULL,
    detail TEXT,
    duplicates BIGINT NOT NULL,
    received_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (sf_org_id, notification_id)
);
CREATE INDEX salesforce_notifications_workflow ON salesforce_notifications(workflow_id, received_at);
