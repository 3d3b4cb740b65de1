DROP TABLE mirrors;
