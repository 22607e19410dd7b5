-- A claim updates only a message's lease and attempt number (no indexed column): with room left
-- on each page PostgreSQL makes that a heap-only update, without new entries in the table's
-- five indexes.
ALTER TABLE outbox_messages SET (fillfactor = 60);
