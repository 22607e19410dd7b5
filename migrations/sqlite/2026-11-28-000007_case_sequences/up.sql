-- The daily sequence of case codes per agency (domain.md §2.2): one row per agency and local
-- date, incremented inside the intake transaction, so codes are unique and never reused even
-- with several instances.
CREATE TABLE case_sequences (
    agency_id   VARCHAR(36) NOT NULL REFERENCES agencies (id),
    local_date  DATE NOT NULL,
    last_value  BIGINT NOT NULL,
    PRIMARY KEY (agency_id, local_date)
);
