-- The procedure catalogue (domain.md §3): procedures, their versions, workflows and FAQs.
CREATE TABLE procedures (
    code             TEXT PRIMARY KEY,
    national_code    TEXT,
    latest_version   INTEGER NOT NULL,
    current_version  INTEGER,
    abolished        BOOLEAN NOT NULL DEFAULT FALSE,
    created_at       TIMESTAMP NOT NULL,
    updated_at       TIMESTAMP NOT NULL
);

CREATE TABLE procedure_versions (
    procedure_code  TEXT NOT NULL REFERENCES procedures (code),
    version         INTEGER NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'proposed', 'reviewed', 'verified', 'published', 'withdrawn', 'abolished')),
    is_latest       BOOLEAN NOT NULL,
    is_current      BOOLEAN NOT NULL,
    effective_from  DATE NOT NULL,
    name            TEXT NOT NULL,
    search          TEXT NOT NULL,
    sector          TEXT NOT NULL,
    field_code      TEXT NOT NULL,
    online_level    TEXT NOT NULL CHECK (online_level IN ('full', 'partial', 'info')),
    levels          TEXT NOT NULL,
    agency_ids      TEXT NOT NULL,
    content         TEXT NOT NULL,
    content_hash    TEXT NOT NULL,
    decision_ref    TEXT,
    source_system   TEXT NOT NULL,
    source_version  TEXT,
    synced_at       TIMESTAMP,
    created_by      VARCHAR(36) REFERENCES users (id),
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL,
    PRIMARY KEY (procedure_code, version)
);
CREATE INDEX procedure_versions_current_idx ON procedure_versions (is_current, procedure_code);
CREATE INDEX procedure_versions_latest_idx ON procedure_versions (is_latest, status, procedure_code);
CREATE INDEX procedure_versions_created_by_idx ON procedure_versions (created_by);

CREATE TABLE workflows (
    id              VARCHAR(36) PRIMARY KEY,
    procedure_code  TEXT NOT NULL REFERENCES procedures (code),
    agency_key      TEXT NOT NULL,
    agency_id       VARCHAR(36) REFERENCES agencies (id),
    version         INTEGER NOT NULL,
    steps           TEXT NOT NULL,
    created_by      VARCHAR(36) REFERENCES users (id),
    created_at      TIMESTAMP NOT NULL,
    CONSTRAINT workflows_version_key UNIQUE (procedure_code, agency_key, version)
);
CREATE INDEX workflows_agency_id_idx ON workflows (agency_id);
CREATE INDEX workflows_created_by_idx ON workflows (created_by);

CREATE TABLE faqs (
    id              VARCHAR(36) PRIMARY KEY,
    procedure_code  TEXT REFERENCES procedures (code),
    question        TEXT NOT NULL,
    answer          TEXT NOT NULL,
    search          TEXT NOT NULL,
    created_by      VARCHAR(36) REFERENCES users (id),
    created_at      TIMESTAMP NOT NULL,
    updated_at      TIMESTAMP NOT NULL
);
CREATE INDEX faqs_procedure_code_idx ON faqs (procedure_code);
CREATE INDEX faqs_created_by_idx ON faqs (created_by);
