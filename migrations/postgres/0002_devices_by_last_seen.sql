-- Lists are ordered by (last_seen, address): one index that gives that order lets
-- "/devices?below_critical=1&limit=100" stop after 100 rows instead of sorting the fleet.
CREATE INDEX devices_seen_address ON devices (last_seen, address);
DROP INDEX devices_last_seen;
