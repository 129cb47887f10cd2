-- Which server instance wrote each admission, so that an instance's rollout watch reads
-- back only what the others admitted (its own admissions are already in its memory). The
-- index covers the watch's query: a time range and the writer, without reading the rows.
ALTER TABLE admissions ADD COLUMN instance TEXT NOT NULL DEFAULT '';
DROP INDEX admissions_at;
CREATE INDEX admissions_at_instance ON admissions (at, instance);
