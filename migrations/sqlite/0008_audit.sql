-- The audit trail: who did what, and what came of it, one record at a time, each carrying
-- the SHA-256 of the record before (crates/core/src/audit: the byte form). seq numbers the
-- chain without a gap: the primary key lets two instances sharing a store never both append
-- the same seq, so the chain cannot fork. Nothing here is read on a device's request.
CREATE TABLE audit (
    seq     INTEGER PRIMARY KEY,
    at      BIGINT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    subject TEXT NOT NULL,
    result  TEXT NOT NULL,
    prev    TEXT NOT NULL
);
-- The newest record of a subject: the duplicate check of changes seen on disk by two
-- instances, and the prune's cut by time.
CREATE INDEX audit_by_subject ON audit (subject, seq);
CREATE INDEX audit_at ON audit (at);
