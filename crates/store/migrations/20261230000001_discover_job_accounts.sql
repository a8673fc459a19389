-- An inbound job's own Salesforce account (the OAuth password grant) instead of a linked org:
-- its client secret and password sealed with the instance key, apart from the job's settings
-- (which the API answers), so no listing or dump of settings carries them.
CREATE TABLE discover_job_accounts (
    job_id TEXT PRIMARY KEY REFERENCES discover_jobs(id) ON DELETE CASCADE,
    org_id TEXT NOT NULL,
    client_secret TEXT NOT NULL,
    password TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
