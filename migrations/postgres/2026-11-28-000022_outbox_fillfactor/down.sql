ALTER TABLE outbox_messages RESET (fillfactor);
