DROP TABLE reconciliation_findings;
