-- The legacy Docker v1 registry protocol (docs/legacy-v1.md). Image ids are global, as in
-- v1; the layer bytes are an ordinary content-addressed blob (`layer_digest`, sha256 of
-- the layer as sent). An image is served only once `complete` (its checksum verified).
CREATE TABLE v1_images (
    id TEXT PRIMARY KEY NOT NULL,
    json BYTEA NOT NULL,
    parent TEXT,
    layer_digest TEXT,
    size BIGINT,
    checksum TEXT,
    complete BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL
);
CREATE INDEX v1_images_layer ON v1_images(layer_digest);
CREATE INDEX v1_images_parent ON v1_images(parent);

-- Which repositories an image was pushed to (a deleted repository's images go with it
-- unless another repository or a child image still uses them).
CREATE TABLE v1_repository_images (
    repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    image_id TEXT NOT NULL REFERENCES v1_images(id) ON DELETE CASCADE,
    PRIMARY KEY (repository_id, image_id)
);
CREATE INDEX v1_repository_images_image ON v1_repository_images(image_id);

CREATE TABLE v1_tags (
    repository_id BIGINT NOT NULL REFERENCES repositories(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    image_id TEXT NOT NULL REFERENCES v1_images(id),
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (repository_id, name)
);
