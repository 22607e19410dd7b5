-- Downloadable form templates of procedures (mẫu đơn, tờ khai; Art. 8.3). Content lives in
-- the file store under the data directory, addressed by its SHA-256.
CREATE TABLE procedure_templates (
    id              VARCHAR(36) PRIMARY KEY,
    procedure_code  TEXT NOT NULL REFERENCES procedures (code),
    document_code   TEXT,
    name            TEXT NOT NULL,
    content_type    TEXT NOT NULL,
    size_bytes      BIGINT NOT NULL,
    sha256          TEXT NOT NULL,
    created_by      VARCHAR(36) REFERENCES users (id),
    created_at      TIMESTAMP NOT NULL
);
CREATE INDEX procedure_templates_procedure_code_idx ON procedure_templates (procedure_code);
CREATE INDEX procedure_templates_created_by_idx ON procedure_templates (created_by);
