-- The try that delivers a message is recorded in the message itself rather than as a row of
-- `outbox_attempts`: its worker and start (set by the claim, in the same update as the lease),
-- its end (`sent_at`), its answer (`last_response_status`) and its request (the payload's
-- digest). Failed, dead and abandoned tries are still rows of `outbox_attempts`, and the
-- attempt log read back is the union of both. A delivered message costs one row write fewer:
-- on PostgreSQL, the attempt row with its key index and foreign-key check was a quarter of
-- the dispatcher's database time per message.
ALTER TABLE outbox_messages ADD COLUMN leased_by TEXT;
ALTER TABLE outbox_messages ADD COLUMN leased_at TIMESTAMP;
