DROP TABLE v1_images;
DROP TABLE v1_tokens;
