-- Per-survey keys for signed survey links: a link's parameters carry an HMAC-SHA256 made with
-- this secret (by Apex, a Flow's Apex action, or any server), so the values can be trusted.
-- `secret` is sealed like Salesforce tokens; `required` refuses unsigned link parameters.
CREATE TABLE survey_link_keys (
    survey_id TEXT PRIMARY KEY REFERENCES surveys(id) ON DELETE CASCADE,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    secret TEXT NOT NULL,
    required BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    rotated_at BIGINT NOT NULL
);
