-- Files of a case: application documents, supplements and results (content in the file store).
CREATE TABLE case_documents (
    id                VARCHAR(36) PRIMARY KEY,
    case_id           VARCHAR(36) NOT NULL REFERENCES cases (id),
    kind              TEXT NOT NULL CHECK (kind IN ('application', 'supplement', 'result')),
    requirement_code  TEXT,
    name              TEXT NOT NULL,
    content_type      TEXT NOT NULL,
    size_bytes        BIGINT NOT NULL,
    sha256            TEXT NOT NULL,
    uploaded_by       VARCHAR(36) REFERENCES users (id),
    created_at        TIMESTAMP NOT NULL
);
CREATE INDEX case_documents_case_idx ON case_documents (case_id, kind);
CREATE INDEX case_documents_uploaded_by_idx ON case_documents (uploaded_by);
