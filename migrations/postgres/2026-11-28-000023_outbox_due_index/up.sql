-- The due-time index serves only queries that compare the due time (`next_attempt_at <= ...`
-- implies `next_attempt_at IS NOT NULL`, a column that is never null). Before, the claim's probe
-- for the earliest open message of a key could also use it, and after statistics taken while no
-- message was open the planner did, scanning every open message once per candidate: a backlog
-- of 10,000 messages took 13 s per claim (about 20 messages delivered a second).
DROP INDEX outbox_messages_open_idx;
CREATE INDEX outbox_messages_open_idx ON outbox_messages (next_attempt_at, seq)
    WHERE status IN ('pending', 'failed') AND next_attempt_at IS NOT NULL;
