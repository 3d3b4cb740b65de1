DROP TABLE repository_deletions;
