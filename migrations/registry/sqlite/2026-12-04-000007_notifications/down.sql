DROP TABLE notification_endpoints;
DROP TABLE notification_outbox;
