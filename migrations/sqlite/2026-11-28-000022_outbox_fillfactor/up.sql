-- PostgreSQL leaves room on the outbox's pages for heap-only claim updates; SQLite has no such
-- setting (kept in lockstep with the PostgreSQL migrations).
SELECT 1;
