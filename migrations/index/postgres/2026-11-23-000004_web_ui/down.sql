DROP INDEX audit_events_actor;
DROP INDEX audit_events_action;
DROP TABLE web_sessions;
DROP TABLE access_tokens;
