-- Audits left unfinished by a job that failed before it could report (e.g. no
-- token while GitHub was unreachable) are queued again by the watchdog:
-- `requeues` counts how often, so that an audit that cannot finish is at last
-- completed neutral. `orphans_checked_at`: when the watchdog last looked on
-- GitHub for runs of this audit left open (a duplicate made by a lost answer).
ALTER TABLE audit_runs ADD COLUMN requeues integer NOT NULL DEFAULT 0;
ALTER TABLE audit_runs ADD COLUMN orphans_checked_at timestamptz;

CREATE INDEX audit_runs_troubled_idx ON audit_runs (completed_at)
    WHERE orphans_checked_at IS NULL AND (error IS NOT NULL OR attempts > 1 OR requeues > 0);
