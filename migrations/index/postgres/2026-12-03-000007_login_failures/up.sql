-- Failed logins (issue #13): one row per (account, client address) and one per client
-- address (account ''), counted in a fixed window, shared by every replica. Rows whose
-- window and block are over are pruned; a blocked address writes nothing more.
CREATE TABLE login_failures (
    account TEXT NOT NULL,
    address TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    failures BIGINT NOT NULL,
    last_failure BIGINT NOT NULL,
    PRIMARY KEY (address, account)
);
CREATE INDEX login_failures_last_failure ON login_failures (last_failure);
