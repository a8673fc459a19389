-- One row the health check rewrites: proof that the store accepts writes (a full disk or a
-- lock held by another process), not only that it answers reads.
CREATE TABLE heartbeat (
    id BIGINT PRIMARY KEY,
    beat_at BIGINT NOT NULL
);

INSERT INTO heartbeat (id, beat_at) VALUES (1, 0);
