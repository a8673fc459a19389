-- Linked Salesforce orgs, workflows, their runs, and the durable job queue that delivers them.
-- Same portable rules as the foundation: TEXT/BIGINT, app ids, ms timestamps, JSON as TEXT.

-- Every external effect is a job, written in the same transaction as the fact that caused it.
-- `dedupe_key` is unique so one effect is never enqueued twice; a worker holds a lease
-- (`lease_owner`, `lease_expires_at`) and a job whose lease ran out is claimed again.
CREATE TABLE jobs (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    dedupe_key TEXT NOT NULL UNIQUE,
    -- queued | running | done | failed
    status TEXT NOT NULL,
    attempts BIGINT NOT NULL,
    run_after BIGINT NOT NULL,
    lease_owner TEXT,
    lease_expires_at BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX jobs_ready ON jobs(kind, status, run_after);

CREATE TABLE salesforce_connections (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    user_id TEXT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    -- production | sandbox | custom
    environment TEXT NOT NULL,
    login_url TEXT NOT NULL,
    -- pending (authorize started) | active | reconnect (refresh refused) | revoked
    status TEXT NOT NULL,
    -- Encrypted (secrets module): the tokens as JSON, and the PKCE verifier while pending.
    tokens TEXT,
    pkce_verifier TEXT,
    oauth_state TEXT UNIQUE,
    instance_url TEXT,
    sf_org_id TEXT,
    sf_user_id TEXT,
    username TEXT,
    -- Set when Salesforce answered REQUEST_LIMIT_EXCEEDED or the reserve was reached.
    paused_until BIGINT,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX salesforce_connections_user ON salesforce_connections(user_id, status);

CREATE TABLE workflows (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id),
    survey_id TEXT NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL REFERENCES users(id),
    name TEXT NOT NULL,
    -- response_created | response_updated | incomplete_closed
    event TEXT NOT NULL,
    enabled BIGINT NOT NULL,
    -- conditions and tasks as JSON
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX workflows_survey ON workflows(survey_id, event);

-- One firing of a workflow for one response; its job has the same id.
CREATE TABLE workflow_runs (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    workflow_id TEXT NOT NULL REFERENCES workflows(id) ON DELETE CASCADE,
    response_id TEXT NOT NULL,
    trigger TEXT NOT NULL,
    -- queued | running | succeeded | failed | skipped
    status TEXT NOT NULL,
    condition_met BIGINT,
    -- per task: status, attempts, record id, Salesforce's error text (JSON)
    tasks TEXT NOT NULL,
    error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX workflow_runs_workflow ON workflow_runs(workflow_id, created_at);
