-- Event notifications (issue #15, docs/notifications.md): the outbox. One row per event
-- and configured endpoint that wants it, written in the transaction of the change the
-- event describes; the row is deleted once the endpoint has acknowledged it. Ids grow in
-- commit order (write transactions are serialised), so an endpoint's events are sent by id.
-- `payload`: the event's JSON exactly as sent; `event_id`: its stable `id`.
CREATE TABLE notification_outbox (
    id BIGSERIAL PRIMARY KEY,
    endpoint TEXT NOT NULL,
    event_id TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX notification_outbox_endpoint ON notification_outbox(endpoint, id);

-- Each endpoint's delivery state, for `GET /pier/v1/notifications`: consecutive failed
-- attempts, the last error and when, the last success, and how many events it has taken.
CREATE TABLE notification_endpoints (
    name TEXT PRIMARY KEY NOT NULL,
    failures BIGINT NOT NULL DEFAULT 0,
    last_error TEXT,
    last_error_at BIGINT,
    last_success_at BIGINT,
    delivered BIGINT NOT NULL DEFAULT 0
);
