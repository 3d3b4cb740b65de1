-- Several replicas on one database (issue #12): which process works on a repository
-- deletion job (`deletion:<id>`), until when; a replica that dies loses its lease.
CREATE TABLE leases (
    name TEXT PRIMARY KEY NOT NULL,
    owner TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
