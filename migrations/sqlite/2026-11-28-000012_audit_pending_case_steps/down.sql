ALTER TABLE case_events DROP COLUMN details;
ALTER TABLE case_events DROP COLUMN step_due_at;
ALTER TABLE cases DROP COLUMN step_due_at;
DROP TRIGGER audit_pending_no_update;
DROP TABLE audit_pending;
