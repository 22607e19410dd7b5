-- Cases (hồ sơ, domain.md §4) and their append-only event history (Art. 6.1.b).
CREATE TABLE cases (
    id                 VARCHAR(36) PRIMARY KEY,
    code               TEXT NOT NULL,
    procedure_code     TEXT NOT NULL REFERENCES procedures (code),
    procedure_version  INTEGER NOT NULL,
    agency_id          VARCHAR(36) NOT NULL REFERENCES agencies (id),
    channel            TEXT NOT NULL CHECK (channel IN ('counter', 'online', 'postal')),
    source             TEXT NOT NULL CHECK (source IN ('local', 'national_portal')),
    external_id        TEXT,
    status             TEXT NOT NULL CHECK (status IN ('submitted', 'accepted', 'refused', 'processing', 'supplement_requested', 'awaiting_payment', 'withdrawn', 'stopped', 'resolved', 'returned')),
    owner_id           VARCHAR(36) REFERENCES users (id),
    applicant          TEXT NOT NULL,
    representative     TEXT,
    summary            TEXT NOT NULL,
    form_data          TEXT NOT NULL,
    documents          TEXT NOT NULL,
    return_method      TEXT NOT NULL,
    current_step       TEXT,
    assignee_id        VARCHAR(36) REFERENCES users (id),
    submitted_at       TIMESTAMP NOT NULL,
    received_at        TIMESTAMP,
    due_at             TIMESTAMP,
    original_due_at    TIMESTAMP,
    paused_at          TIMESTAMP,
    supplement_count   INTEGER NOT NULL DEFAULT 0,
    supplement_seconds BIGINT NOT NULL DEFAULT 0,
    finished_at        TIMESTAMP,
    returned_at        TIMESTAMP,
    revision           INTEGER NOT NULL,
    created_at         TIMESTAMP NOT NULL,
    updated_at         TIMESTAMP NOT NULL,
    CONSTRAINT cases_code_key UNIQUE (code),
    CONSTRAINT cases_external_id_key UNIQUE (external_id)
);
CREATE INDEX cases_procedure_code_idx ON cases (procedure_code);
CREATE INDEX cases_agency_idx ON cases (agency_id, id);
CREATE INDEX cases_owner_idx ON cases (owner_id, id);
CREATE INDEX cases_assignee_id_idx ON cases (assignee_id);

CREATE TABLE case_events (
    case_id      VARCHAR(36) NOT NULL REFERENCES cases (id),
    seq          INTEGER NOT NULL,
    at           TIMESTAMP NOT NULL,
    actor_id     VARCHAR(36) REFERENCES users (id),
    action       TEXT NOT NULL,
    from_status  TEXT,
    to_status    TEXT NOT NULL,
    step         TEXT,
    note         TEXT,
    due_at       TIMESTAMP,
    PRIMARY KEY (case_id, seq)
);
CREATE INDEX case_events_actor_id_idx ON case_events (actor_id);
