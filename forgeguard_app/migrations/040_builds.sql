-- Builds: one row per `/forge build`, its whole resumable state in `state` (builder/state.py),
-- advanced one step at a time by `builder.step` jobs (order key `build:<id>`).
CREATE TABLE builds (
    id bigserial PRIMARY KEY,
    installation_id bigint NOT NULL,
    repository_id bigint NOT NULL,
    owner text NOT NULL,
    repo text NOT NULL,
    default_branch text NOT NULL,
    issue_number integer NOT NULL,
    contracts_pull integer NOT NULL,
    contracts_branch text NOT NULL,
    branch text NOT NULL,
    pull_number integer,
    started_by text NOT NULL,
    status text NOT NULL DEFAULT 'running'
        CHECK (status IN ('running', 'paused', 'succeeded', 'draft', 'aborted', 'cancelled', 'failed',
                          'timed_out')),
    seq integer NOT NULL DEFAULT 0,
    state jsonb NOT NULL,
    config jsonb NOT NULL DEFAULT '{}'::jsonb,
    audit_config text,
    contracts jsonb NOT NULL DEFAULT '{}'::jsonb,
    pull_node_id text,
    cancel_requested boolean NOT NULL DEFAULT false,
    abort_requested text,
    end_reason text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    stepped_at timestamptz NOT NULL DEFAULT now(),
    paused_at timestamptz,
    finished_at timestamptz
);

-- One active build per issue.
CREATE UNIQUE INDEX builds_active_issue_idx ON builds (repository_id, issue_number)
    WHERE status IN ('running', 'paused');
CREATE INDEX builds_repository_idx ON builds (repository_id, status);
CREATE INDEX builds_installation_idx ON builds (installation_id, created_at);
CREATE UNIQUE INDEX builds_pull_idx ON builds (repository_id, pull_number) WHERE pull_number IS NOT NULL;
