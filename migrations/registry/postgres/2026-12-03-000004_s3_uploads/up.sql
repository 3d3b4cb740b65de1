-- Where storage holds an upload in progress, for drivers without append (S3; see
-- docs/uploads.md, "Upload state in storage"). The filesystem driver leaves these empty.
-- The multipart upload the parts belong to, and the key it completes onto.
ALTER TABLE uploads ADD COLUMN multipart_id TEXT;
ALTER TABLE uploads ADD COLUMN multipart_key TEXT;
-- The small object holding the bytes after the last part (uploads/<id>/tail-<tail_id>).
ALTER TABLE uploads ADD COLUMN tail_id TEXT;
ALTER TABLE uploads ADD COLUMN tail_size BIGINT NOT NULL DEFAULT 0;
-- Uploaded parts: numbered from 1, with the ETag S3 returned (named again on completion).
CREATE TABLE upload_parts (
    upload_id TEXT NOT NULL REFERENCES uploads (id) ON DELETE CASCADE,
    number INTEGER NOT NULL,
    etag TEXT NOT NULL,
    size BIGINT NOT NULL,
    PRIMARY KEY (upload_id, number)
);
