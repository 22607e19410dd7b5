-- Request counters of the public limits, one fixed window per bucket and client address, shared
-- by every instance. On PostgreSQL the table is UNLOGGED.
-- (SQLite deployments are one process and count in memory; the table exists there too.)
CREATE TABLE rate_limits (
    bucket        VARCHAR(32) NOT NULL,
    client        VARCHAR(128) NOT NULL,
    window_start  TIMESTAMP NOT NULL,
    hits          INTEGER NOT NULL,
    PRIMARY KEY (bucket, client)
);

-- Failed logins per user name and client address: after the threshold that pair waits, whether
-- the name exists or not; the same name from another address is not affected.
CREATE TABLE login_failures (
    username         VARCHAR(128) NOT NULL,
    client           VARCHAR(128) NOT NULL,
    failures         INTEGER NOT NULL,
    last_failure_at  TIMESTAMP NOT NULL,
    locked_until     TIMESTAMP,
    PRIMARY KEY (username, client)
);
