-- The status page shows the last job error; found by index however many jobs succeeded.
CREATE INDEX jobs_errors_idx ON jobs (id DESC) WHERE last_error IS NOT NULL;
CREATE INDEX jobs_failed_idx ON jobs (finished_at) WHERE status = 'failed';
