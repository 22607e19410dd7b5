DROP TABLE case_stats_state;
DROP TABLE case_stats_pending;
DROP TABLE case_stats_agency_monthly;
DROP TABLE case_stats_agency_daily;
DROP TABLE case_stats_monthly;
DROP TABLE case_stats_daily;
