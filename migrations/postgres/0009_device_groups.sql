-- Each device's group (groups.yaml), as the writer last worked it out: by its address's
-- network first, then by the serials it asked licenses for (for views only: admission
-- never reads this). NULL: in no group, or not tagged yet. Lists, exports, the history and
-- the dashboard filter and count by it, and a viewer limited to groups sees only its own:
-- one index gives a group's devices in the lists' order (last_seen, address).
ALTER TABLE devices ADD COLUMN group_name TEXT;
CREATE INDEX devices_by_group ON devices (group_name, last_seen, address);
