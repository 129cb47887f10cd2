-- Firmware lines and staged rollouts: which release of which line each address was admitted
-- to (once admitted, always admitted), each rollout's halt state, and the line of every
-- offer and history entry.
CREATE TABLE admissions (
    address TEXT NOT NULL,
    line    TEXT NOT NULL,
    version INTEGER NOT NULL,
    at      BIGINT NOT NULL,
    pilot   INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (address, line, version)
);
CREATE INDEX admissions_at ON admissions (at);
CREATE INDEX admissions_release ON admissions (line, version);

-- One row per release under rollout that was halted or resumed: outcomes count from
-- counted_from (the last resume), halted_at is set while halted, settings is the rollout's
-- fingerprint at the halt (an edit of the rollout resumes it).
CREATE TABLE rollout_state (
    line         TEXT NOT NULL,
    version      INTEGER NOT NULL,
    counted_from BIGINT NOT NULL DEFAULT 0,
    halted_at    BIGINT,
    settings     TEXT NOT NULL DEFAULT '',
    detail       TEXT NOT NULL DEFAULT '',
    stuck        BIGINT NOT NULL DEFAULT 0,
    finished     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (line, version)
);

ALTER TABLE device_releases ADD COLUMN line TEXT NOT NULL DEFAULT '';
ALTER TABLE history ADD COLUMN line TEXT NOT NULL DEFAULT '';
