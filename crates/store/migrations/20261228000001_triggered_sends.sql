-- Acting on Salesforce notifications: each new notification fires a run of its workflow (in
-- the transaction that records it), and a distribution task sends that one recipient.
-- Same portable rules as the foundation: TEXT/BIGINT, app ids, ms timestamps, JSON as TEXT.

-- A run fired by a notification names it; its response_id is then empty.
ALTER TABLE workflow_runs ADD COLUMN notification_id TEXT;

-- What became of a notification: the run acting on it, and the distribution that invited its
-- recipient (that distribution's recipient row says sent, or skipped with its reason).
ALTER TABLE salesforce_notifications ADD COLUMN run_id TEXT;
ALTER TABLE salesforce_notifications ADD COLUMN distribution_id TEXT;

-- A distribution a workflow task made for one event (JSON): the workflow, run and
-- notification, the recipient's Salesforce record, the embedded data its link carries and
-- the record's fields for `${sf://...}`. NULL for distributions people make.
ALTER TABLE distributions ADD COLUMN triggered_by TEXT;

-- Opt-outs kept in sync with linked Salesforce orgs: one switch per organization (no row: on,
-- with Salesforce's standard email opt-out field and no SMS field) ...
CREATE TABLE salesforce_opt_out_sync (
    org_id TEXT PRIMARY KEY REFERENCES organizations(id),
    enabled BIGINT NOT NULL,
    -- the checkbox on Contact and Lead that says "no email" (HasOptedOutOfEmail)
    email_field TEXT NOT NULL,
    -- the checkbox that says "no texts", when the org has one
    sms_field TEXT,
    updated_at BIGINT NOT NULL
);
-- ... which a survey may override: 1 on, 0 off, NULL as its organization says.
ALTER TABLE surveys ADD COLUMN salesforce_opt_out_sync BIGINT;
