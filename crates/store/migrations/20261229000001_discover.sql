-- The inbound connector ("Discover"): projects of documents pulled from Salesforce by jobs,
-- each pull a run.
CREATE TABLE discover_projects (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    created_by TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (org_id, name)
);

-- A job's settings (data type, query, date field, participants, redaction, substitutions,
-- limit, duplicates, schedule) are one JSON document: they are read and written together.
CREATE TABLE discover_jobs (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    project_id TEXT NOT NULL REFERENCES discover_projects(id) ON DELETE CASCADE,
    owner_id TEXT NOT NULL,
    name TEXT NOT NULL,
    connection_id TEXT NOT NULL,
    settings TEXT NOT NULL,
    -- where the next incremental run starts: JSON {"at": ms, "id": "…"}
    cursor TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX discover_jobs_org ON discover_jobs(org_id, created_at);

CREATE TABLE discover_runs (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    job_id TEXT NOT NULL REFERENCES discover_jobs(id) ON DELETE CASCADE,
    -- queued | running | succeeded | failed | cancelled
    status TEXT NOT NULL,
    -- JSON: rowsRead, documentsCreated, documentsUpdated, duplicatesSkipped, filtered,
    -- redactions, apiCalls
    counts TEXT NOT NULL,
    -- JSON array of strings
    warnings TEXT NOT NULL,
    error TEXT,
    -- the last record written by this run, JSON {"at": ms, "id": "…"}: a resumed run starts after it
    checkpoint TEXT,
    cancel_requested BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    started_at BIGINT,
    finished_at BIGINT
);
CREATE INDEX discover_runs_job ON discover_runs(job_id, created_at);

-- One document per natural id in a project. `search_text` is what full-text search reads
-- (the verbatims and attribute values, already redacted).
CREATE TABLE discover_documents (
    project_id TEXT NOT NULL REFERENCES discover_projects(id) ON DELETE CASCADE,
    natural_id TEXT NOT NULL,
    org_id TEXT NOT NULL,
    document_date BIGINT,
    attributes TEXT NOT NULL,
    verbatim TEXT,
    turns TEXT,
    search_text TEXT NOT NULL,
    -- a digest of what was stored: a row read again unchanged (an incremental run's lookback)
    -- is neither counted nor rewritten
    content_hash TEXT NOT NULL,
    job_id TEXT NOT NULL,
    run_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, natural_id)
);
CREATE INDEX discover_documents_date ON discover_documents(project_id, document_date);
