-- The app's record of background work; pgqueuer's own tables carry the dispatch.
-- status: blocked (an earlier job with the same order_key is unfinished), queued,
-- running, retrying (waiting for its backoff), succeeded, failed (final).
CREATE TABLE jobs (
    id bigserial PRIMARY KEY,
    kind text NOT NULL,
    payload jsonb NOT NULL,
    order_key text,
    status text NOT NULL CHECK (status IN ('blocked', 'queued', 'running', 'retrying', 'succeeded', 'failed')),
    attempts integer NOT NULL DEFAULT 0,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    finished_at timestamptz
);

CREATE INDEX jobs_unfinished_idx ON jobs (status) WHERE status NOT IN ('succeeded', 'failed');
CREATE INDEX jobs_order_key_idx ON jobs (order_key, id)
    WHERE order_key IS NOT NULL AND status NOT IN ('succeeded', 'failed');
CREATE INDEX jobs_kind_created_idx ON jobs (kind, created_at);

CREATE TABLE job_attempts (
    job_id bigint NOT NULL REFERENCES jobs (id) ON DELETE CASCADE,
    attempt integer NOT NULL,
    worker text NOT NULL,
    started_at timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    outcome text NOT NULL CHECK (outcome IN ('running', 'succeeded', 'retry', 'failed')),
    error text,
    PRIMARY KEY (job_id, attempt)
);
