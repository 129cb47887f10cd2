-- Stages that advance themselves: where each release's stages stand (the server's, not the
-- file's). One row per release with `stages:`; the rollout watch of one instance changes it
-- at a time, by compare-and-set (an UPDATE whose WHERE names the stage and start it read).
-- started_at: when the current stage started; paused_at: while paused, since when (0: not
-- paused), the stage's clock standing still; paused_for: seconds this stage was paused
-- before; forced: the last `stage: N` acted on (0: none). rollout_state (halts) is untouched.
CREATE TABLE rollout_stages (
    line       TEXT NOT NULL,
    version    BIGINT NOT NULL,
    stage      BIGINT NOT NULL,
    started_at BIGINT NOT NULL,
    paused_at  BIGINT NOT NULL DEFAULT 0,
    paused_for BIGINT NOT NULL DEFAULT 0,
    forced     BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (line, version)
);
