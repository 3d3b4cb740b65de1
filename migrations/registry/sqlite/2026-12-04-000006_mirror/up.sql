-- The pull-through mirror (issue #14, docs/mirror.md). A mirrored repository is an ordinary
-- repository (its manifests, tags and blob links as for pushed content) with a row here:
-- which upstream it caches, and how often it was served from the cache (hits) or had to
-- ask the upstream (misses). `registered_at`: when the index was told of it (token mode).
CREATE TABLE mirror_repositories (
    repository_id BIGINT PRIMARY KEY NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    prefix TEXT NOT NULL,
    hits BIGINT NOT NULL DEFAULT 0,
    misses BIGINT NOT NULL DEFAULT 0,
    last_pulled BIGINT NOT NULL,
    registered_at BIGINT
);

-- When each cached tag was last confirmed with the upstream (a tag older than the
-- upstream's `tag_ttl_seconds` is checked again before it is served).
CREATE TABLE mirror_tags (
    repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    checked_at BIGINT NOT NULL,
    PRIMARY KEY (repository_id, name)
);

-- When each cached manifest was last pulled: `mirror.max_bytes` drops the least recently
-- pulled first.
CREATE TABLE mirror_manifests (
    manifest_id BIGINT PRIMARY KEY NOT NULL REFERENCES manifests(id) ON DELETE CASCADE,
    last_pulled BIGINT NOT NULL
);
CREATE INDEX mirror_manifests_lru ON mirror_manifests(last_pulled);
