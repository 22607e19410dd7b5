DROP TABLE agency_evaluations;
