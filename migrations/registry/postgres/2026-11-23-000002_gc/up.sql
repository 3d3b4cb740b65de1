-- Online garbage collection (docs/deletion.md).
-- When GC first saw the blob unreferenced (no link, no manifest reference, no upload
-- claim); NULL while referenced. Making a link clears it.
ALTER TABLE blobs ADD COLUMN unreferenced_since BIGINT;
-- The digest a finishing upload is about to make visible: GC never marks a claimed blob.
ALTER TABLE uploads ADD COLUMN digest TEXT;
-- Blobs whose rows GC deleted and whose files it has yet to delete (phase 2). A finishing
-- upload of the same digest deletes the row, cancelling the file delete.
CREATE TABLE gc_deletions (
    digest TEXT PRIMARY KEY NOT NULL,
    marked_at BIGINT NOT NULL
);
