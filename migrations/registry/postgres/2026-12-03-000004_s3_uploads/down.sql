DROP TABLE upload_parts;
ALTER TABLE uploads DROP COLUMN tail_size;
ALTER TABLE uploads DROP COLUMN tail_id;
ALTER TABLE uploads DROP COLUMN multipart_key;
ALTER TABLE uploads DROP COLUMN multipart_id;
