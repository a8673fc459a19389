-- Invitations an admin hands on as a link (there is no mail transport): the invitee opens it,
-- sets a password and becomes a user with the role given. Only the SHA-256 of the link's
-- token is kept. One pending invitation per organization and email: inviting again replaces
-- the row (a new id and token), so the old link stops working. Accepting deletes the row in
-- the transaction that creates the user, so a link is used once.
CREATE TABLE user_invitations (
    id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES organizations(id) ON DELETE CASCADE,
    -- Lower-cased, like users.email.
    email TEXT NOT NULL,
    role TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    invited_by TEXT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX user_invitations_org_email ON user_invitations(org_id, email);
CREATE INDEX user_invitations_expires ON user_invitations(expires_at);
