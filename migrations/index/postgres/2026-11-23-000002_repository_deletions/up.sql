-- Repository deletions the index still has to carry out at the registry (docs/deletion.md).
-- A row is the job: made with the repository's deleted_at, removed when the registry
-- answered 202 or 404. While it exists the name cannot be pushed to again.
CREATE TABLE repository_deletions (
    id TEXT PRIMARY KEY NOT NULL,
    name TEXT NOT NULL,
    requested_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_error TEXT
);
CREATE INDEX repository_deletions_name ON repository_deletions(name);
