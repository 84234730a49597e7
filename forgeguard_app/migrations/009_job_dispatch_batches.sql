-- Jobs reach pgqueuer in batches, from the workers, instead of one by one from
-- the transaction that queues them (migration 005's trigger). Every insert into
-- pgqueuer's table sends a NOTIFY, and PostgreSQL serialises the commits of
-- notifying transactions, WAL flush included: one notifying transaction per
-- webhook delivery capped ingest at about one delivery per flush. Now the
-- webhook's transaction only inserts the delivery and its `jobs` row; a worker
-- hands queued rows to pgqueuer (one NOTIFY per batch) within a fraction of a
-- second.
DROP TRIGGER jobs_dispatch_on_insert ON jobs;
DROP TRIGGER jobs_dispatch_on_release ON jobs;
DROP FUNCTION forgeguard_dispatch_job();

ALTER TABLE jobs ADD COLUMN dispatched_at timestamptz;
-- Rows queued so far were handed over by the trigger.
UPDATE jobs SET dispatched_at = created_at WHERE status <> 'blocked';
CREATE INDEX jobs_undispatched_idx ON jobs (id) WHERE status = 'queued' AND dispatched_at IS NULL;
