DROP TABLE case_stats_state;
DROP TABLE case_stats_monthly;
DROP TABLE case_stats_daily;
