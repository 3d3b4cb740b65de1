DROP TABLE audit_events;
DROP TABLE refresh_tokens;
DROP TABLE repositories;
DROP TABLE team_members;
DROP TABLE teams;
DROP TABLE namespace_owners;
DROP TABLE namespaces;
DROP TABLE users;
