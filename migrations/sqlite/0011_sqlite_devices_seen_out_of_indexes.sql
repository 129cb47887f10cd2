-- SQLite follows PostgreSQL's migration 10: `last_seen` leaves the devices' indexes.
-- Every check-in moves `last_seen`, so while it was in `devices_seen_address` and
-- `devices_by_group` each steady check-in deleted and inserted an entry in both besides
-- updating its row. Measured with 100,000 registers polling (bench/fleet.sh): the writer's
-- CPU per check-in 5.6-7.1 us with the two indexes, 2.6-3.6 us without them; the bytes the
-- server wrote per check-in (the WAL, the access log's line included) about 590 against
-- 210-240.
--
-- What it costs: the lists still come in (last_seen, address) order, but SQLite now sorts
-- the devices a filter selects, and the hourly prune and `not_seen_days` read the table.
-- Measured over a million devices: a page of `/devices` 80 ms instead of 0.1 ms; the
-- 100,000 most recent devices read at start-up 0.4 s instead of 0.2 s; the prune's four
-- statements about 50 ms each. A group's devices are found by the group's index (with
-- their addresses: the views limited to groups select addresses by group), so a small
-- group's page stays a few milliseconds; a group of most of the fleet sorts like the whole.
-- `IF EXISTS`: an index an operator already dropped by hand does not stop the start.
DROP INDEX IF EXISTS devices_seen_address;
DROP INDEX IF EXISTS devices_by_group;
CREATE INDEX IF NOT EXISTS devices_by_group_address ON devices (group_name, address);
