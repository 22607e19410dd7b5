-- Additive counters behind the case statistics and report 06 (domain::stats). A case change
-- appends its difference to `case_stats_pending` in its own transaction (an insert: no shared
-- row is locked); a folder in every instance moves pending rows into the sums per agency,
-- procedure, channel and local day (and month: `day` = the first of the month), and per agency
-- alone (what report 06 and most statistics read). Readers add the pending rows, so answers
-- are exact at any moment.
CREATE TABLE case_stats_daily (
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    procedure_code TEXT NOT NULL,
    channel TEXT NOT NULL,
    day DATE NOT NULL,
    received BIGINT NOT NULL DEFAULT 0,
    received_online BIGINT NOT NULL DEFAULT 0,
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
    received_online BIGINT NOT NULL DEFAULT 0,
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
CREATE INDEX case_stats_monthly_day_idx ON case_stats_monthly (day);
CREATE TABLE case_stats_agency_daily (
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    day DATE NOT NULL,
    received BIGINT NOT NULL DEFAULT 0,
    received_online BIGINT NOT NULL DEFAULT 0,
    resolved_early BIGINT NOT NULL DEFAULT 0,
    resolved_on_time BIGINT NOT NULL DEFAULT 0,
    resolved_late BIGINT NOT NULL DEFAULT 0,
    withdrawn BIGINT NOT NULL DEFAULT 0,
    refused BIGINT NOT NULL DEFAULT 0,
    supplement_requested BIGINT NOT NULL DEFAULT 0,
    due BIGINT NOT NULL DEFAULT 0,
    past_due BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (agency_id, day)
);
CREATE INDEX case_stats_agency_daily_day_idx ON case_stats_agency_daily (day);
CREATE TABLE case_stats_agency_monthly (
    agency_id TEXT NOT NULL REFERENCES agencies (id),
    day DATE NOT NULL,
    received BIGINT NOT NULL DEFAULT 0,
    received_online BIGINT NOT NULL DEFAULT 0,
    resolved_early BIGINT NOT NULL DEFAULT 0,
    resolved_on_time BIGINT NOT NULL DEFAULT 0,
    resolved_late BIGINT NOT NULL DEFAULT 0,
    withdrawn BIGINT NOT NULL DEFAULT 0,
    refused BIGINT NOT NULL DEFAULT 0,
    supplement_requested BIGINT NOT NULL DEFAULT 0,
    due BIGINT NOT NULL DEFAULT 0,
    past_due BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (agency_id, day)
);
CREATE INDEX case_stats_agency_monthly_day_idx ON case_stats_agency_monthly (day);
-- A transient journal: no foreign key to check and no index to maintain on insert (the
-- folder reads it whole); SQLite's rowid may be reused once folded rows are deleted.
CREATE TABLE case_stats_pending (
    id INTEGER PRIMARY KEY,
    agency_id TEXT NOT NULL,
    procedure_code TEXT NOT NULL,
    channel TEXT NOT NULL,
    day DATE NOT NULL,
    received BIGINT NOT NULL DEFAULT 0,
    received_online BIGINT NOT NULL DEFAULT 0,
    resolved_early BIGINT NOT NULL DEFAULT 0,
    resolved_on_time BIGINT NOT NULL DEFAULT 0,
    resolved_late BIGINT NOT NULL DEFAULT 0,
    withdrawn BIGINT NOT NULL DEFAULT 0,
    refused BIGINT NOT NULL DEFAULT 0,
    supplement_requested BIGINT NOT NULL DEFAULT 0,
    due BIGINT NOT NULL DEFAULT 0,
    past_due BIGINT NOT NULL DEFAULT 0
);
-- Processing also ends by refusal, withdrawal or stop (NgayKetThucXuLy, domain.md §7.5).
UPDATE cases SET finished_at = updated_at WHERE finished_at IS NULL AND status IN ('refused', 'withdrawn', 'stopped');
-- Whether the counters must be rebuilt from the cases (the server does it at start), and the
-- row the folder locks.
CREATE TABLE case_stats_state (id INTEGER PRIMARY KEY CHECK (id = 1), built BOOLEAN NOT NULL);
INSERT INTO case_stats_state (id, built) VALUES (1, FALSE);
