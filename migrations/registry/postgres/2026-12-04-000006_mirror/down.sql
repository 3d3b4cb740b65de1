DROP TABLE mirror_manifests;
DROP TABLE mirror_tags;
DROP TABLE mirror_repositories;
