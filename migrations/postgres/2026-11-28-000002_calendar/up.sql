-- The administrator-maintained calendar overrides (domain.md §7.2).
CREATE TABLE calendar_days (
    day         DATE PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('holiday', 'compensatory_off', 'compensatory_workday')),
    name        TEXT NOT NULL,
    updated_by  VARCHAR(36) REFERENCES users (id),
    updated_at  TIMESTAMP NOT NULL
);
CREATE INDEX calendar_days_updated_by_idx ON calendar_days (updated_by);
