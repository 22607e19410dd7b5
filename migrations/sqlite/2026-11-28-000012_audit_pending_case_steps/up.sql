-- Audit entries are first written to `audit_pending` inside the transaction of the change they
-- record (no shared row is locked, so writers do not queue behind each other); a chainer moves
-- them into the hash chain of `audit_log` in commit order shortly after. Pending entries cannot
-- be edited; they are only deleted by the chainer as it chains them.
CREATE TABLE audit_pending (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    at             TIMESTAMP NOT NULL,
    actor_id       VARCHAR(36),
    action         TEXT NOT NULL,
    entity_type    TEXT NOT NULL,
    entity_id      TEXT NOT NULL,
    before_digest  TEXT,
    after_digest   TEXT,
    reason         TEXT,
    request_id     TEXT
);
CREATE TRIGGER audit_pending_no_update BEFORE UPDATE ON audit_pending
BEGIN
    SELECT RAISE(ABORT, 'audit_pending is append-only');
END;

-- Per-step deadlines from the workflow (Art. 6.1.b, form 05) and the details of each action
-- (supplement items, payment items, decision, hand-over) as JSON.
ALTER TABLE cases ADD COLUMN step_due_at TIMESTAMP;
ALTER TABLE case_events ADD COLUMN step_due_at TIMESTAMP;
ALTER TABLE case_events ADD COLUMN details TEXT;
