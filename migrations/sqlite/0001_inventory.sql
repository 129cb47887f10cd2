-- Fleet memory, version 1: devices by address, what each was offered and did, serials,
-- downloads, and the history of releases, license reloads and observed updates.
CREATE TABLE devices (
    address       TEXT PRIMARY KEY,
    first_seen    BIGINT NOT NULL,
    last_seen     BIGINT NOT NULL,
    user_agent    TEXT NOT NULL DEFAULT '',
    line          TEXT NOT NULL DEFAULT '',
    build_date    INTEGER,
    last_check_in BIGINT,
    offered       INTEGER,
    critical      INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX devices_last_seen ON devices (last_seen);
CREATE INDEX devices_build_date ON devices (build_date);

-- One row per device and release it was offered as an update: its outcome.
CREATE TABLE device_releases (
    address       TEXT NOT NULL,
    version       INTEGER NOT NULL,
    critical      INTEGER NOT NULL DEFAULT 0,
    offered_at    BIGINT NOT NULL,
    downloaded_at BIGINT,
    updated_at    BIGINT,
    PRIMARY KEY (address, version)
);
CREATE INDEX device_releases_version ON device_releases (version);

CREATE TABLE device_serials (
    address   TEXT NOT NULL,
    serial    TEXT NOT NULL,
    licensed  INTEGER NOT NULL,
    last_seen BIGINT NOT NULL,
    PRIMARY KEY (address, serial)
);
CREATE INDEX device_serials_serial ON device_serials (serial);

CREATE TABLE downloads (
    id       INTEGER PRIMARY KEY,
    at       BIGINT NOT NULL,
    address  TEXT NOT NULL,
    version  INTEGER NOT NULL,
    file     TEXT NOT NULL,
    bytes    BIGINT NOT NULL,
    complete INTEGER NOT NULL
);
CREATE INDEX downloads_at ON downloads (at);

-- Release events (published, changed, withdrawn, rejected), license reloads, and observed
-- updates (a device reporting a new build date).
CREATE TABLE history (
    id      INTEGER PRIMARY KEY,
    at      BIGINT NOT NULL,
    kind    TEXT NOT NULL,
    version INTEGER,
    address TEXT,
    detail  TEXT NOT NULL DEFAULT ''
);
CREATE INDEX history_at ON history (at);
