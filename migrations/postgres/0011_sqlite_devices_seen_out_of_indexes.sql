-- Nothing to change in PostgreSQL: its migration 10 did this. SQLite's migration 11 takes
-- `last_seen` out of its devices' indexes the same way, so both keep the same indexes.
SELECT 1 WHERE false;
