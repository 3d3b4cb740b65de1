-- The legacy Docker v1 protocol (docs/legacy-v1.md).
-- v1 tokens: `signature=<id>.<secret>`; only the SHA-256 of the secret is stored. A token
-- is bound to one repository and one access, expires, and is used once (`used_at`).
CREATE TABLE v1_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    secret_hash TEXT NOT NULL,
    user_id BIGINT REFERENCES users(id) ON DELETE CASCADE,
    repository TEXT NOT NULL,
    access TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX v1_tokens_expires ON v1_tokens(expires_at);

-- The image list of a repository (PUT /v1/repositories/…/ adds, never removes) and the
-- checksums the client reports when the push is done (PUT …/images).
CREATE TABLE v1_images (
    repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    image_id TEXT NOT NULL,
    position BIGINT NOT NULL,
    tag TEXT,
    checksum TEXT,
    PRIMARY KEY (repository_id, image_id)
);
