DROP TABLE report_snapshots;
