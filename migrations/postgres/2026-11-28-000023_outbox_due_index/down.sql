DROP INDEX outbox_messages_open_idx;
CREATE INDEX outbox_messages_open_idx ON outbox_messages (next_attempt_at, seq) WHERE status IN ('pending', 'failed');
