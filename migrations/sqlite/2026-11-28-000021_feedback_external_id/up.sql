-- Feedback assigned to the province on the national PAKN system carries the national id, once.
ALTER TABLE feedback ADD COLUMN external_id TEXT;
CREATE UNIQUE INDEX feedback_external_id_idx ON feedback (external_id);
