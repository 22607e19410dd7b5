-- Folded text for the inbox search: the case code and the applicant's and representative's names.
ALTER TABLE cases ADD COLUMN search TEXT NOT NULL DEFAULT '';
CREATE INDEX cases_due_idx ON cases (status, due_at);
