DROP TABLE uploads;
DROP TABLE tags;
DROP TABLE manifest_references;
DROP TABLE manifests;
DROP TABLE repository_blobs;
DROP TABLE blobs;
DROP TABLE repositories;
