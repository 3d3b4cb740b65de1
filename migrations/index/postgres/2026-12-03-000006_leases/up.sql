-- Several replicas on one database (issue #12): which process works on a repository
-- deletion job (`deletion:<id>`), until when; a replica that dies loses its lease.
CREATE TABLE leases (
    name TEXT PRIMARY KEY NOT NULL,
    owner TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Names sort byte by byte, as on SQLite, whatever the database's collation (the web UI's
-- and the API's repository pages, `docker search`).
ALTER TABLE users ALTER COLUMN name TYPE TEXT COLLATE "C";
ALTER TABLE namespaces ALTER COLUMN name TYPE TEXT COLLATE "C";
ALTER TABLE repositories ALTER COLUMN name TYPE TEXT COLLATE "C";
