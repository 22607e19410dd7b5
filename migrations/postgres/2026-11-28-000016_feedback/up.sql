-- Feedback and petitions (phản ánh, kiến nghị; domain.md §11): the item with its deadlines
-- (working days, computed at submission and on answering), its history, attachments and the
-- per-day code sequence.
CREATE TABLE feedback (
    id TEXT PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('reflection', 'recommendation')),
    category TEXT NOT NULL CHECK (category IN ('regulation', 'conduct')),
    title TEXT NOT NULL,
    content TEXT NOT NULL,
    contact TEXT NOT NULL,
    submitter_id TEXT REFERENCES users (id),
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    related_case_id TEXT REFERENCES cases (id),
    related_case_code TEXT,
    status TEXT NOT NULL,
    submitted_at TIMESTAMP NOT NULL,
    reception_due_at TIMESTAMP NOT NULL,
    supplement_due_at TIMESTAMP NOT NULL,
    answer_due_at TIMESTAMP NOT NULL,
    publish_due_at TIMESTAMP,
    decided_at TIMESTAMP,
    accepted_at TIMESTAMP,
    first_supplement_at TIMESTAMP,
    answered_at TIMESTAMP,
    published_at TIMESTAMP,
    reason TEXT,
    answer TEXT,
    answered_by TEXT REFERENCES users (id),
    useful BOOLEAN,
    revision INTEGER NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    search TEXT NOT NULL
);
CREATE INDEX feedback_agency_status_idx ON feedback (agency_id, status, id);
CREATE INDEX feedback_status_published_idx ON feedback (status, published_at);
CREATE INDEX feedback_submitter_idx ON feedback (submitter_id);
CREATE INDEX feedback_related_case_idx ON feedback (related_case_id);
CREATE INDEX feedback_answered_by_idx ON feedback (answered_by);

CREATE TABLE feedback_events (
    feedback_id TEXT NOT NULL REFERENCES feedback (id),
    seq INTEGER NOT NULL,
    at TIMESTAMP NOT NULL,
    actor_id TEXT REFERENCES users (id),
    action TEXT NOT NULL,
    from_status TEXT,
    to_status TEXT NOT NULL,
    note TEXT,
    PRIMARY KEY (feedback_id, seq)
);
CREATE INDEX feedback_events_actor_idx ON feedback_events (actor_id);

CREATE TABLE feedback_documents (
    id TEXT PRIMARY KEY,
    feedback_id TEXT NOT NULL REFERENCES feedback (id),
    name TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    uploaded_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX feedback_documents_feedback_idx ON feedback_documents (feedback_id);
CREATE INDEX feedback_documents_uploaded_by_idx ON feedback_documents (uploaded_by);

CREATE TABLE feedback_sequences (
    local_date DATE PRIMARY KEY,
    last_value BIGINT NOT NULL
);
