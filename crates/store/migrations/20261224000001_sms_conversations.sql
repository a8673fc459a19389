-- Two-way SMS: a survey asked by text, one question per message. One conversation per
-- recipient of an `sms_two_way` distribution, opened as its invitation is sent; replies from
-- its phone are read against the question it is at. Same portable rules as the foundation.
CREATE TABLE sms_conversations (
    -- the recipient's id: one conversation per invitation
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    distribution_id TEXT NOT NULL REFERENCES distributions(id) ON DELETE CASCADE,
    contact_id TEXT NOT NULL,
    survey_id TEXT NOT NULL,
    -- the survey version the questions are asked from (a response keeps its version)
    survey_version BIGINT NOT NULL,
    -- the respondent's phone, E.164
    phone TEXT NOT NULL,
    -- the personal link of the invitation: the response claims it, so one person answers once
    link_token TEXT,
    -- made on the first answer (nothing is recorded for someone who never replies)
    response_id TEXT,
    -- distribution::two_way::Position as JSON: the question waiting for a reply
    position TEXT,
    -- open | finished | closed (unsubscribed, the invitation failed, answered on the web)
    state TEXT NOT NULL,
    -- replies read so far: each reply's update is guarded by it, so two replies at once
    -- cannot both be read against one question
    turns BIGINT NOT NULL,
    -- after this (the survey's incomplete window since the last answer) replies are not read
    expires_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX sms_conversations_phone ON sms_conversations(phone, state, created_at);

-- Which organizations texted a phone: STOP from it unsubscribes their contacts only.
CREATE INDEX distribution_recipients_address_org ON distribution_recipients(address, org_id);

-- A status callback that arrived before the worker recorded its message's sid (Twilio can
-- answer the create call and post "sent" or even "delivered" within milliseconds): kept until
-- the sid is recorded, then applied, so no outcome is lost to that race.
CREATE TABLE sms_early_statuses (
    message_sid TEXT NOT NULL,
    status TEXT NOT NULL,
    error_code BIGINT,
    received_at BIGINT NOT NULL,
    PRIMARY KEY (message_sid, status)
);
