DROP INDEX feedback_external_id_idx;
ALTER TABLE feedback DROP COLUMN external_id;
