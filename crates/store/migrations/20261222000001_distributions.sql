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
    -- the list the audience is, for frequency rules scoped to a list (NULL for chosen contacts)
    mailing_list_id TEXT,
    -- scheduled | sending (audience being written) | sent (audience written, messages queued)
    status TEXT NOT NULL,
    send_at BIGINT NOT NULL,
    -- IANA name the sender chose the time in (shown back; send_at is absolute)
    time_zone TEXT NOT NULL,
    link_expires_at BIGINT,
    -- the audience is written in batches ordered by contact id: the last one written so far
    expanded_through TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX distributions_survey ON distributions(org_id, survey_id, created_at);

-- Reminders and thank-yous, each sent `after_minutes` after the distribution started.
CREATE TABLE distribution_follow_ups (
    distribution_id TEXT NOT NULL REFERENCES distributions(id) ON DELETE CASCADE,
    -- 1, 2, ...: the step its recipients are recorded under (the invitation is step 0)
    step BIGINT NOT NULL,
    -- reminder | thank_you
    kind TEXT NOT NULL,
    after_minutes BIGINT NOT NULL,
    template_id TEXT NOT NULL REFERENCES message_templates(id),
    -- waiting | sending | sent, and the batch cursor (contact id) while sending
    status TEXT NOT NULL,
    expanded_through TEXT,
    PRIMARY KEY (distribution_id, step)
);
CREATE INDEX distribution_follow_ups_template ON distribution_follow_ups(template_id);

-- One message to one contact: the invitation (step 0), or a reminder or thank-you after it.
-- Skipped recipients are rows too, with their reason, so a skip is never silent.
CREATE TABLE distribution_recipients (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    distribution_id TEXT NOT NULL REFERENCES distributions(id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL,
    step BIGINT NOT NULL,
    -- invitation | reminder | thank_you
    kind TEXT NOT NULL,
    -- the email address or phone number it went to (or would have), and its compared form
    address TEXT,
    address_key TEXT,
    -- queued | skipped | sending | sent | failed | bounced | delivered | undelivered
    state TEXT NOT NULL,
    -- why it was skipped (unsubscribed, missing_email, ..., frequency_capped), as a code
    reason TEXT,
    -- the reason in words, or the server's text for a bounce or failure
    detail TEXT,
    link_token TEXT,
    -- the SMTP Message-ID or the SMS provider's message sid
    provider_id TEXT,
    attempts BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    sent_at BIGINT,
    updated_at BIGINT NOT NULL,
    opened_at BIGINT,
    UNIQUE (distribution_id, contact_id, step)
);
CREATE INDEX distribution_recipients_state ON distribution_recipients(distribution_id, step, state);
-- A distribution's duplicate check reads the addresses already taken.
CREATE INDEX distribution_recipients_address ON distribution_recipients(distribution_id, address_key);
-- Frequency rules read a contact's recent invitations.
CREATE INDEX distribution_recipients_contact ON distribution_recipients(org_id, contact_id, created_at);
CREATE INDEX distribution_recipients_provider ON distribution_recipients(provider_id);
-- Opening a personal link marks its invitation opened.
CREATE INDEX distribution_recipients_link ON distribution_recipients(link_token);

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
-- A response started from a distribution's link records the distribution.
ALTER TABLE responses ADD COLUMN distribution_id TEXT;
