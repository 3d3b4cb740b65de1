-- pier-index: users, namespaces, teams, repositories, refresh tokens, audit. Times are Unix seconds.
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    -- bcrypt ($2b$ / $2y$), never the password
    password_hash TEXT NOT NULL,
    email TEXT,
    is_admin BOOLEAN NOT NULL DEFAULT FALSE,
    disabled BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);

-- Every user has the namespace of their name (kind 'user'); organizations have kind 'org'.
CREATE TABLE namespaces (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('user', 'org')),
    created_at BIGINT NOT NULL
);

-- Owners of an organization (a user namespace is owned by its user, implicitly).
CREATE TABLE namespace_owners (
    namespace_id BIGINT NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (namespace_id, user_id)
);

CREATE TABLE teams (
    id BIGSERIAL PRIMARY KEY,
    namespace_id BIGINT NOT NULL REFERENCES namespaces(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'write', 'read')),
    created_at BIGINT NOT NULL,
    UNIQUE (namespace_id, name)
);

CREATE TABLE team_members (
    team_id BIGINT NOT NULL REFERENCES teams(id) ON DELETE CASCADE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    PRIMARY KEY (team_id, user_id)
);
CREATE INDEX team_members_user ON team_members(user_id);

-- `name` is the full repository name (`namespace/rest`). A deleted repository keeps its row
-- (deleted_at set); the name may be allocated again, as a new row.
CREATE TABLE repositories (
    id BIGSERIAL PRIMARY KEY,
    namespace_id BIGINT NOT NULL REFERENCES namespaces(id),
    name TEXT NOT NULL,
    visibility TEXT NOT NULL CHECK (visibility IN ('public', 'private')),
    created_at BIGINT NOT NULL,
    deleted_at BIGINT
);
CREATE UNIQUE INDEX repositories_live_name ON repositories(name) WHERE deleted_at IS NULL;
CREATE INDEX repositories_namespace ON repositories(namespace_id);

-- Refresh tokens (docker identity tokens): only the SHA-256 of the token is stored.
-- `id` is public: it is the `rti` claim of access tokens issued from the refresh token.
CREATE TABLE refresh_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    client_id TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    revoked_at BIGINT
);
CREATE INDEX refresh_tokens_user ON refresh_tokens(user_id);

CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY,
    time BIGINT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT NOT NULL,
    detail TEXT
);
CREATE INDEX audit_events_time ON audit_events(time);
