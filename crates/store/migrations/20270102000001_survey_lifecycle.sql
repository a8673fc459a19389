-- A survey's lifecycle: draft (never published: respondents are told it is not open), published
-- (respondents get `surveys.version`), closed (links say so). The builder's changes to a
-- published survey are stored as versions too, the newest in `draft_version`, until published.
-- A version once published is kept for good, numbered from 1 (`published_number`: "v2"), so
-- every response can be read with the labels of the version it was answered under. Surveys
-- made before this were live: their versions count as published, in order.
ALTER TABLE surveys ADD COLUMN draft_version BIGINT;
ALTER TABLE surveys ADD COLUMN published_at BIGINT;
ALTER TABLE surveys ADD COLUMN closed_at BIGINT;
UPDATE surveys SET published_at = created_at;

ALTER TABLE survey_versions ADD COLUMN published_number BIGINT;
ALTER TABLE survey_versions ADD COLUMN published_at BIGINT;
UPDATE survey_versions SET published_at = created_at,
    published_number = (SELECT COUNT(*) FROM survey_versions older
        WHERE older.survey_id = survey_versions.survey_id AND older.version <= survey_versions.version);
