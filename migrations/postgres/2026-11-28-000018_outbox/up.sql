-- The transactional outbox (domain.md §10.2): messages to national systems and notification
-- gateways, written in the same transaction as the change they report, delivered at least once
-- and in order per ordering key by the dispatchers of every instance (leases with expiry).
CREATE TABLE outbox_messages (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    target TEXT NOT NULL,
    kind TEXT NOT NULL,
    ordering_key TEXT NOT NULL,
    subject TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP NOT NULL,
    retry_from TIMESTAMP NOT NULL,
    lease_owner TEXT,
    lease_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    sent_at TIMESTAMP,
    last_error TEXT,
    last_response_status INTEGER,
    response_ref TEXT
);
-- The dispatcher's scan: open messages by due time.
CREATE INDEX outbox_messages_open_idx ON outbox_messages (next_attempt_at, seq) WHERE status IN ('pending', 'failed');
-- "Is an earlier message of the same case still open?" (delivery in order per key).
CREATE INDEX outbox_messages_order_idx ON outbox_messages (target, ordering_key, seq) WHERE status IN ('pending', 'failed');
-- Lists by status: dead messages are few and looked for; open ones are in the indexes above.
CREATE INDEX outbox_messages_dead_idx ON outbox_messages (seq) WHERE status = 'dead';
CREATE INDEX outbox_messages_subject_idx ON outbox_messages (subject, seq);

-- Every try of a message: who tried, what was sent (digest), what came back.
CREATE TABLE outbox_attempts (
    message_id TEXT NOT NULL REFERENCES outbox_messages (id),
    attempt INTEGER NOT NULL,
    worker TEXT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    outcome TEXT NOT NULL,
    request_digest TEXT,
    response_status INTEGER,
    error TEXT,
    PRIMARY KEY (message_id, attempt)
);
