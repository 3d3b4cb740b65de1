-- The web UI (docs/web-ui.md): personal access tokens and browser sessions.

-- Personal access tokens: a secret shown once, usable as the password of `docker login`
-- (the token endpoint's Basic auth). Only its SHA-256 is stored: the secret is 32 random
-- bytes, so a hash lookup (no bcrypt) is safe. Tokens issued from one carry
-- `rti = "pat:<id>"`, so revoking it makes them inactive at /introspect.
CREATE TABLE access_tokens (
    id TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    token_hash TEXT NOT NULL UNIQUE,
    -- space-separated `namespace/repository` or `namespace/*`; empty: every repository
    repositories TEXT NOT NULL,
    -- comma-separated subset of pull,push,delete
    actions TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT,
    revoked_at BIGINT,
    last_used_at BIGINT
);
CREATE INDEX access_tokens_user ON access_tokens(user_id);

-- Browser sessions: the cookie holds a random token, the row its SHA-256 and the
-- session's CSRF token (checked on every form post).
CREATE TABLE web_sessions (
    token_hash TEXT PRIMARY KEY NOT NULL,
    user_id BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions(user_id);

-- The audit page filters by action and by actor, newest first.
CREATE INDEX audit_events_action ON audit_events(action, id);
CREATE INDEX audit_events_actor ON audit_events(actor, id);
