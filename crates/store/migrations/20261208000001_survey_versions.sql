-- Survey definitions by version. An edit adds a version and makes it current; a response in
-- progress records the version it started on and is shown and checked against it, so an edit
-- never strands a respondent on a page that no longer exists. A version no response in
-- progress uses is removed at the next edit. Definitions live only here (native JSON).
CREATE TABLE survey_versions (
    survey_id TEXT NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    version BIGINT NOT NULL,
    definition TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (survey_id, version)
);

INSERT INTO survey_versions (survey_id, version, definition, created_at)
    SELECT id, 1, definition, updated_at FROM surveys;

ALTER TABLE surveys ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
ALTER TABLE surveys DROP COLUMN definition;

ALTER TABLE responses ADD COLUMN survey_version BIGINT NOT NULL DEFAULT 1;
CREATE INDEX responses_survey_version ON responses(survey_id, survey_version, status);
