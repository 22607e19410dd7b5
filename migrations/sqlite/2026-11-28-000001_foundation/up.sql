-- Foundation: agencies, accounts, sessions, role ledger, audit trail, idempotency keys.

CREATE TABLE agencies (
    id          VARCHAR(36) PRIMARY KEY,
    code        TEXT NOT NULL,
    name        TEXT NOT NULL,
    name_search TEXT NOT NULL,
    level       TEXT NOT NULL CHECK (level IN ('province', 'department', 'district', 'commune', 'unit')),
    parent_id   VARCHAR(36) REFERENCES agencies (id),
    path        TEXT NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT TRUE,
    created_at  TIMESTAMP NOT NULL,
    updated_at  TIMESTAMP NOT NULL,
    CONSTRAINT agencies_code_key UNIQUE (code)
);
CREATE INDEX agencies_parent_id_idx ON agencies (parent_id);
CREATE INDEX agencies_path_idx ON agencies (path);

CREATE TABLE users (
    id             VARCHAR(36) PRIMARY KEY,
    username       TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    full_name      TEXT NOT NULL,
    search         TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('system_admin', 'agency_admin', 'officer', 'supervisor', 'citizen', 'integration')),
    capabilities   TEXT NOT NULL DEFAULT '',
    agency_id      VARCHAR(36) REFERENCES agencies (id),
    id_number      TEXT,
    phone          TEXT,
    email          TEXT,
    active         BOOLEAN NOT NULL DEFAULT TRUE,
    token_version  BIGINT NOT NULL DEFAULT 0,
    failed_logins  INTEGER NOT NULL DEFAULT 0,
    locked_until   TIMESTAMP,
    created_at     TIMESTAMP NOT NULL,
    updated_at     TIMESTAMP NOT NULL,
    CONSTRAINT users_username_key UNIQUE (username),
    CONSTRAINT users_id_number_key UNIQUE (id_number)
);
CREATE INDEX users_agency_id_idx ON users (agency_id);
CREATE INDEX users_created_idx ON users (created_at, id);

CREATE TABLE sessions (
    id          VARCHAR(36) PRIMARY KEY,
    user_id     VARCHAR(36) NOT NULL REFERENCES users (id),
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    revoked_at  TIMESTAMP
);
CREATE INDEX sessions_user_id_idx ON sessions (user_id);

CREATE TABLE refresh_tokens (
    token_hash  TEXT PRIMARY KEY,
    session_id  VARCHAR(36) NOT NULL REFERENCES sessions (id),
    created_at  TIMESTAMP NOT NULL,
    expires_at  TIMESTAMP NOT NULL,
    used_at     TIMESTAMP
);
CREATE INDEX refresh_tokens_session_id_idx ON refresh_tokens (session_id);

CREATE TABLE role_ledger (
    id            VARCHAR(36) PRIMARY KEY,
    agency_id     VARCHAR(36) REFERENCES agencies (id),
    actor_id      VARCHAR(36) REFERENCES users (id),
    subject_id    VARCHAR(36) NOT NULL REFERENCES users (id),
    action        TEXT NOT NULL CHECK (action IN ('grant', 'revoke')),
    role          TEXT NOT NULL,
    capabilities  TEXT NOT NULL DEFAULT '',
    reason        TEXT,
    at            TIMESTAMP NOT NULL
);
CREATE INDEX role_ledger_agency_idx ON role_ledger (agency_id, at, id);
CREATE INDEX role_ledger_actor_id_idx ON role_ledger (actor_id);
CREATE INDEX role_ledger_subject_id_idx ON role_ledger (subject_id);

CREATE TABLE audit_log (
    seq            BIGINT PRIMARY KEY,
    at             TIMESTAMP NOT NULL,
    actor_id       VARCHAR(36),
    action         TEXT NOT NULL,
    entity_type    TEXT NOT NULL,
    entity_id      TEXT NOT NULL,
    before_digest  TEXT,
    after_digest   TEXT,
    reason         TEXT,
    request_id     TEXT,
    prev_hash      TEXT NOT NULL,
    hash           TEXT NOT NULL
);
CREATE INDEX audit_log_entity_idx ON audit_log (entity_type, entity_id);
CREATE INDEX audit_log_actor_idx ON audit_log (actor_id);
CREATE INDEX audit_log_at_idx ON audit_log (at);

-- One row holding the head of the chain; appenders lock it, which orders the chain.
CREATE TABLE audit_head (
    id        INTEGER PRIMARY KEY CHECK (id = 1),
    last_seq  BIGINT NOT NULL,
    last_hash TEXT NOT NULL
);
INSERT INTO audit_head (id, last_seq, last_hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- The trail is append-only: no UPDATE or DELETE through the database either.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;

CREATE TABLE idempotency_keys (
    scope            TEXT NOT NULL,
    key              TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    status_code      INTEGER,
    response_headers TEXT,
    response_body    BLOB,
    created_at       TIMESTAMP NOT NULL,
    completed_at     TIMESTAMP,
    PRIMARY KEY (scope, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);
