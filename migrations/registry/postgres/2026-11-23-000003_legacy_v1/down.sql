DROP TABLE v1_tags;
DROP TABLE v1_repository_images;
DROP TABLE v1_images;
