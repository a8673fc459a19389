-- What a linked org is called and whether it is a sandbox, read from the org when it is
-- linked or checked, so connections are labelled by org name, environment and username.
ALTER TABLE salesforce_connections ADD COLUMN sf_org_name TEXT;
ALTER TABLE salesforce_connections ADD COLUMN sf_is_sandbox BIGINT;
