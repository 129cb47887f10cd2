-- Nothing to change in SQLite. PostgreSQL's migration 10 takes `last_seen` out of the
-- devices' indexes so that a steady check-in is a heap-only update; SQLite rewrites a row
-- in place and keeps the (last_seen, address) indexes its lists stop early with.
SELECT 1 WHERE 0;
