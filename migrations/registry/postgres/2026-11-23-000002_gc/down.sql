DROP TABLE gc_deletions;
ALTER TABLE uploads DROP COLUMN digest;
ALTER TABLE blobs DROP COLUMN unreferenced_since;
