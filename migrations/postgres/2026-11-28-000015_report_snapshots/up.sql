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
CREATE FUNCTION report_snapshots_frozen() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'report snapshots are kept';
    END IF;
    IF (NEW.template, NEW.period, NEW.from_date, NEW.to_date, NEW.scope, NEW.group_by, NEW.content, NEW.created_at)
        IS DISTINCT FROM (OLD.template, OLD.period, OLD.from_date, OLD.to_date, OLD.scope, OLD.group_by, OLD.content, OLD.created_at) THEN
        RAISE EXCEPTION 'report snapshots are frozen';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER report_snapshots_frozen BEFORE UPDATE OR DELETE ON report_snapshots
    FOR EACH ROW EXECUTE FUNCTION report_snapshots_frozen();
