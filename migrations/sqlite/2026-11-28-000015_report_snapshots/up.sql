-- Frozen periodic reports (domain.md §9.2 design note): the numbers as computed when frozen,
-- never recomputed. Scheduled snapshots are unique per template, period and scope, so that
-- several instances freeze each period once.
CREATE TABLE report_snapshots (
    id TEXT PRIMARY KEY,
    template TEXT NOT NULL,
    period TEXT NOT NULL,
    from_date DATE NOT NULL,
    to_date DATE NOT NULL,
    scope TEXT NOT NULL,
    group_by TEXT NOT NULL,
    trigger_kind TEXT NOT NULL,
    content TEXT NOT NULL,
    created_by TEXT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    submission_status TEXT NOT NULL,
    submission_ref TEXT,
    submitted_at TIMESTAMP
);
CREATE UNIQUE INDEX report_snapshots_scheduled_idx ON report_snapshots (template, period, scope, group_by) WHERE trigger_kind = 'scheduled';
CREATE INDEX report_snapshots_period_idx ON report_snapshots (template, period, created_at);
CREATE INDEX report_snapshots_created_by_idx ON report_snapshots (created_by);
CREATE TRIGGER report_snapshots_frozen BEFORE UPDATE OF template, period, from_date, to_date, scope, group_by, content, created_at ON report_snapshots
BEGIN
    SELECT RAISE(ABORT, 'report snapshots are frozen');
END;
CREATE TRIGGER report_snapshots_kept BEFORE DELETE ON report_snapshots
BEGIN
    SELECT RAISE(ABORT, 'report snapshots are kept');
END;
