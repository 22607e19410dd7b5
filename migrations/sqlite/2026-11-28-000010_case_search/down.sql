DROP INDEX cases_due_idx;
ALTER TABLE cases DROP COLUMN search;
