-- Distributions: email and SMS invitations, their templates, recipients and frequency rules.
-- Same portable rules as the foundation: TEXT/BIGINT, app ids, ms timestamps, JSON as TEXT.

-- A reusable message: `definition` is the distribution crate's template as JSON (subject,
-- from name, reply-to, body, one variant per language).
CREATE TABLE message_templates (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    owner_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    -- email | sms
    channel TEXT NOT NULL,
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX message_templates_org ON message_templates(org_id, channel, name);

CREATE TABLE distributions (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    survey_id TEXT NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL REFERENCES users(id),
    -- email | sms | sms_two_way
    channel TEXT NOT NULL,
    template_id TEXT NOT NULL REFERENCES message_templates(id),
    -- {"mailingListId": ...} or {"contactIds": [...]}
    audience TEXT NOT NULL,
    -- scheduled | sending | sent | cancelled
    status TEXT NOT NULL,
    send_at BIGINT NOT NULL,
    -- IANA name the sender chose the time in (shown back; send_at is absolute)
    time_zone TEXT NOT NULL,
    link_expires_at BIGINT,
    -- follow-ups as JSON: [{"kind": "reminder"|"thank_you", "afterMinutes", "templateId"}]
    follow_ups TEXT NOT NULL,
    -- the audience is expanded in batches; the last contact id written so far
    expanded_through TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX distributions_survey ON distributions(org_id, survey_id, created_at);
CREATE INDEX distributions_due ON distributions(status, send_at);

-- One message to one contact: the invitation, or a reminder or thank-you after it. Skipped
-- recipients are rows too, with their reason, so a skip is never silent.
CREATE TABLE distribution_recipients (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    distribution_id TEXT NOT NULL REFERENCES distributions(id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL,
    -- invitation | reminder | thank_you
    kind TEXT NOT NULL,
    -- the email address or phone number it went to (or would have)
    address TEXT,
    -- queued | skipped | sending | sent | failed | bounced | delivered | undelivered
    state TEXT NOT NULL,
    -- why it was skipped (unsubscribed, missing_email, ..., frequency_capped) or failed
    reason TEXT,
    detail TEXT,
    link_token TEXT,
    -- the SMTP Message-ID or the SMS provider's message sid
    provider_id TEXT,
    attempts BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    updated_at BIGINT NOT NULL,
    opened_at BIGINT,
    UNIQUE (distribution_id, contact_id, kind)
);
CREATE INDEX distribution_recipients_state ON distribution_recipients(distribution_id, state);
-- Frequency rules read a contact's recent invitations.
CREATE INDEX distribution_recipients_contact ON distribution_recipients(org_id, contact_id, created_at);
CREATE INDEX distribution_recipients_provider ON distribution_recipients(provider_id);

-- At most N invitations per contact in a rolling period, and/or at least D days between them;
-- for the whole organization, one survey or one mailing list.
CREATE TABLE frequency_rules (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    -- organization | survey | mailing_list
    scope TEXT NOT NULL,
    scope_id TEXT,
    max_invitations BIGINT,
    period_days BIGINT,
    min_days_between BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX frequency_rules_org ON frequency_rules(org_id);

-- A phone's opt-out (STOP by text) is its own: the contact may still take email.
ALTER TABLE contacts ADD COLUMN sms_unsubscribed BIGINT NOT NULL DEFAULT 0;
-- A personal link made for a distribution knows its channel and expiry.
ALTER TABLE personal_links ADD COLUMN channel TEXT;
ALTER TABLE personal_links ADD COLUMN expires_at BIGINT;
CREATE INDEX personal_links_distribution ON personal_links(distribution_id);
