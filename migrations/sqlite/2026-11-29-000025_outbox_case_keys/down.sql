DROP INDEX outbox_messages_key_idx;
CREATE INDEX outbox_messages_subject_idx ON outbox_messages (subject, seq);
UPDATE outbox_messages SET ordering_key = (SELECT c.code FROM cases c WHERE c.id = outbox_messages.ordering_key)
    WHERE ordering_key IN (SELECT id FROM cases);
