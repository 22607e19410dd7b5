ALTER TABLE outbox_messages DROP COLUMN leased_at;
ALTER TABLE outbox_messages DROP COLUMN leased_by;
