-- Pull-through mirrors (issue #14, docs/mirror.md): the set the registry registers at start
-- (`PUT /pier/v1/mirrors`), replaced whole each time. Each prefix is an organization
-- namespace (made by the registration when missing); `public` lets anyone pull under it;
-- the one `is_default` row decides names no local namespace owns (`<prefix>/<name>`).
CREATE TABLE mirrors (
    prefix TEXT PRIMARY KEY NOT NULL,
    url TEXT NOT NULL,
    public BOOLEAN NOT NULL DEFAULT FALSE,
    is_default BOOLEAN NOT NULL DEFAULT FALSE,
    namespace_id BIGINT NOT NULL REFERENCES namespaces(id),
    updated_at BIGINT NOT NULL
);
-- At most one default mirror.
CREATE UNIQUE INDEX mirrors_one_default ON mirrors (is_default) WHERE is_default;
