-- What one device can make the store keep is bounded (a device in a loop, or an attacker,
-- sending random serials, flipping build dates or downloading the same file on every poll).
--
-- Downloads: one row per device, release, file and whole/part, counted: `at` is the last
-- time it was answered (what the retention prune reads), `first_at` the first, `times` how
-- often. Rows of repeated downloads already stored are folded into one. A writer of an
-- older version still inserts plain rows (times 1, first_at NULL), which stay valid.
CREATE TABLE downloads_counted (
    id       INTEGER PRIMARY KEY,
    at       BIGINT NOT NULL,
    address  TEXT NOT NULL,
    version  INTEGER NOT NULL,
    file     TEXT NOT NULL,
    bytes    BIGINT NOT NULL,
    complete INTEGER NOT NULL,
    first_at BIGINT,
    times    BIGINT NOT NULL DEFAULT 1
);
INSERT INTO downloads_counted (at, address, version, file, bytes, complete, first_at, times)
    SELECT MAX(at), address, version, file, MAX(bytes), complete, MIN(at), COUNT(*)
    FROM downloads GROUP BY address, version, file, complete;
DROP TABLE downloads;
ALTER TABLE downloads_counted RENAME TO downloads;
CREATE INDEX downloads_at ON downloads (at);
CREATE INDEX downloads_by_device ON downloads (address, version, file, complete);

-- Serials: the writer keeps the 256 most recent per address, pruning in the transaction
-- that adds one; this index gives that order for one address. Serials over the bound
-- already stored are pruned now.
CREATE INDEX device_serials_recent ON device_serials (address, last_seen, serial);
DELETE FROM device_serials WHERE (address, serial) IN (
    SELECT address, serial FROM (
        SELECT address, serial, ROW_NUMBER() OVER (
            PARTITION BY address ORDER BY last_seen DESC, serial DESC) AS n
        FROM device_serials) AS ranked
    WHERE ranked.n > 256);

-- Observed changes of build date: the writer keeps the 64 most recent per address.
CREATE INDEX history_by_address ON history (address, id);
DELETE FROM history WHERE id IN (
    SELECT id FROM (
        SELECT id, ROW_NUMBER() OVER (PARTITION BY address ORDER BY id DESC) AS n
        FROM history WHERE address IS NOT NULL AND kind = 'build_changed') AS ranked
    WHERE ranked.n > 64);
