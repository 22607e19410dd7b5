-- Additive counters behind the case statistics and report 06 (domain::stats): per agency,
-- procedure, channel and local day, and the same summed per month (`day` = first of the month).
-- Updated in the transaction of every case change with the change's difference.
CREATE TABLE case_stats_daily (
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    procedure_code TEXT NOT NULL,
    channel TEXT NOT NULL,
    day DATE NOT NULL,
    received BIGINT NOT NULL DEFAULT 0,
    resolved_early BIGINT NOT NULL DEFAULT 0,
    resolved_on_time BIGINT NOT NULL DEFAULT 0,
    resolved_late BIGINT NOT NULL DEFAULT 0,
    withdrawn BIGINT NOT NULL DEFAULT 0,
    refused BIGINT NOT NULL DEFAULT 0,
    supplement_requested BIGINT NOT NULL DEFAULT 0,
    due BIGINT NOT NULL DEFAULT 0,
    past_due BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (agency_id, procedure_code, channel, day)
);
CREATE INDEX case_stats_daily_day_idx ON case_stats_daily (day);
CREATE TABLE case_stats_monthly (
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    procedure_code TEXT NOT NULL,
    channel TEXT NOT NULL,
    day DATE NOT NULL,
    received BIGINT NOT NULL DEFAULT 0,
    resolved_early BIGINT NOT NULL DEFAULT 0,
    resolved_on_time BIGINT NOT NULL DEFAULT 0,
    resolved_late BIGINT NOT NULL DEFAULT 0,
    withdrawn BIGINT NOT NULL DEFAULT 0,
    refused BIGINT NOT NULL DEFAULT 0,
    supplement_requested BIGINT NOT NULL DEFAULT 0,
    due BIGINT NOT NULL DEFAULT 0,
    past_due BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (agency_id, procedure_code, channel, day)
);
-- Processing also ends by refusal, withdrawal or stop (NgayKetThucXuLy, domain.md §7.5).
UPDATE cases SET finished_at = updated_at WHERE finished_at IS NULL AND status IN ('refused', 'withdrawn', 'stopped');
-- Marks that the counters must be (re)built from the cases once (the server does it at start).
CREATE TABLE case_stats_state (id INTEGER PRIMARY KEY CHECK (id = 1), built BOOLEAN NOT NULL);
INSERT INTO case_stats_state (id, built) VALUES (1, FALSE);
