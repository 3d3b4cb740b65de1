-- Several replicas on one database (issue #12): nothing a replica needs from another is
-- kept in process memory.
-- Leases: which process does a piece of exclusive work (one GC run at a time), until when.
CREATE TABLE leases (
    name TEXT PRIMARY KEY NOT NULL,
    owner TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Legacy v1 sessions: the grant of a token the index confirmed, carried by a cookie for
-- the rest of one pull or push, on whichever replica the next request reaches. Only the
-- SHA-256 of the cookie's value is stored. `images`: the index's image list, one per line.
CREATE TABLE v1_sessions (
    id_hash TEXT PRIMARY KEY NOT NULL,
    repository TEXT NOT NULL,
    access TEXT NOT NULL,
    images TEXT NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX v1_sessions_expiry ON v1_sessions(expires_at);

-- Names, tags and digests sort byte by byte, as on SQLite (and as distribution sorts its
-- tag lists and catalog), whatever the database's collation: pagination (`last=`) and
-- the order of every listing are the same on both backends.
ALTER TABLE repositories ALTER COLUMN name TYPE TEXT COLLATE "C";
ALTER TABLE tags ALTER COLUMN name TYPE TEXT COLLATE "C";
ALTER TABLE v1_tags ALTER COLUMN name TYPE TEXT COLLATE "C";
ALTER TABLE blobs ALTER COLUMN digest TYPE TEXT COLLATE "C";
