-- The messages of a case are ordered by the case's id rather than its code. Case ids are
-- UUIDv7 (time-ordered), so the messages of new cases go at the end of the ordering index
-- instead of at one place per agency's code range: an intake transaction changes one page of
-- the index rather than one per agency in its group, which on SQLite's single writer was a
-- measurable part of the outbox's cost to intake.
UPDATE outbox_messages SET ordering_key = (SELECT c.id FROM cases c WHERE c.code = outbox_messages.ordering_key)
    WHERE ordering_key IN (SELECT code FROM cases);
-- Lists by subject go through the ordering key (the API resolves a subject to its keys), and
-- the subject index, keyed by code, goes.
DROP INDEX outbox_messages_subject_idx;
CREATE INDEX outbox_messages_key_idx ON outbox_messages (ordering_key, seq);
