-- Every check-in moves `last_seen`; nothing else of a steady register's row changes. While
-- `last_seen` was in an index (`devices_seen_address`, `devices_by_group`, for the lists'
-- order), no such update could be HOT (heap-only): each wrote a new row version into every
-- index of the table and left dead entries for autovacuum. Measured on PostgreSQL 15 with
-- 100,000 devices: 1.8-2.1 s of the backend's CPU and 47-66 MB of WAL per 100,000 steady
-- check-ins, none HOT; without these two indexes and with room left in each page for the
-- new version (fillfactor 70), 0.6-0.8 s and 10 MB, nine in ten HOT.
--
-- The lists still come in (last_seen, address) order: PostgreSQL sorts the page out of the
-- rows the filter selects, as it already counts them all for the total (about 100 ms for a
-- page of a million devices). The group's index keeps a group's lists and counts short.
-- SQLite is left as it was: it rewrites a row in place and its lists stop after a page.
--
-- The fillfactor applies to pages written from now on; `VACUUM FULL devices` in a quiet
-- hour applies it to the rows already stored.
DROP INDEX devices_seen_address;
DROP INDEX devices_by_group;
CREATE INDEX devices_by_group_name ON devices (group_name);
ALTER TABLE devices SET (fillfactor = 70);
