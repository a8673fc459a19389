-- Credentials that can be taken back: a deactivated user signs in nowhere, API tokens expire,
-- are revoked and remember when they were last used, and sessions are found by user so a
-- password change or a deactivation can end them.
ALTER TABLE users ADD COLUMN deactivated_at BIGINT;
ALTER TABLE api_tokens ADD COLUMN expires_at BIGINT;
ALTER TABLE api_tokens ADD COLUMN last_used_at BIGINT;
ALTER TABLE api_tokens ADD COLUMN revoked_at BIGINT;
CREATE INDEX api_tokens_user ON api_tokens(user_id);
CREATE INDEX web_sessions_user ON web_sessions(user_id);

-- Failed sign-ins per account and per client address, in the database so every node and a
-- restarted one see the same counts. `subject` is a hash of the email or the address.
CREATE TABLE sign_in_throttle (
    subject TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failure_at BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL
);
CREATE INDEX sign_in_throttle_last_failure ON sign_in_throttle(last_failure_at);
