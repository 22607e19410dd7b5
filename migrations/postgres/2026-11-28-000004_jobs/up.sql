-- Background jobs (catalogue sync) with their progress and per-item outcome.
CREATE TABLE jobs (
    id           VARCHAR(36) PRIMARY KEY,
    kind         TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('queued', 'running', 'succeeded', 'failed')),
    total        INTEGER NOT NULL DEFAULT 0,
    done         INTEGER NOT NULL DEFAULT 0,
    created      INTEGER NOT NULL DEFAULT 0,
    updated      INTEGER NOT NULL DEFAULT 0,
    unchanged    INTEGER NOT NULL DEFAULT 0,
    failed       INTEGER NOT NULL DEFAULT 0,
    items        TEXT NOT NULL DEFAULT '[]',
    error        TEXT,
    created_by   VARCHAR(36) REFERENCES users (id),
    created_at   TIMESTAMP NOT NULL,
    started_at   TIMESTAMP,
    finished_at  TIMESTAMP
);
CREATE INDEX jobs_created_by_idx ON jobs (created_by);
