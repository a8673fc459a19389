-- A Salesforce record's panel reads the organization's responses newest first, across all of
-- its surveys (responses_survey only serves one survey at a time).
CREATE INDEX responses_org_started ON responses(org_id, started_at);
