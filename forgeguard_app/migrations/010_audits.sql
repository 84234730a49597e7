-- Audits reported as check runs: one audit_runs row per requested audit, its
-- check runs on GitHub, its results and findings, and the head sha → pull
-- request table (a fork's check suite names no pull request).
CREATE TABLE audit_runs (
    id bigserial PRIMARY KEY,
    installation_id bigint NOT NULL,
    owner text NOT NULL,
    repo text NOT NULL,
    head_sha text NOT NULL,
    -- as requested: a sha, a branch name, the empty tree, or NULL (decided by the job)
    base text,
    -- the merge base / base commit the audit actually compared with
    base_sha text,
    pull_number integer,
    branch text,
    default_branch text,
    reason text NOT NULL,
    -- automatic audits of one change are queued once; NULL for re-runs and commands
    dedupe_key text UNIQUE,
    status text NOT NULL DEFAULT 'queued'
        CHECK (status IN ('queued', 'in_progress', 'completed')),
    -- success | failure | neutral | cancelled; the status page counts audits by it
    conclusion text,
    title text,
    governed boolean,
    files integer,
    report_mode text,
    api_calls integer,
    attempts integer NOT NULL DEFAULT 0,
    error text,
    report jsonb,
    created_at timestamptz NOT NULL DEFAULT now(),
    started_at timestamptz,
    completed_at timestamptz
);

CREATE INDEX audit_runs_repo_head_idx ON audit_runs (lower(owner), lower(repo), head_sha);
CREATE INDEX audit_runs_unfinished_idx ON audit_runs (started_at) WHERE status <> 'completed';
CREATE INDEX audit_runs_conclusion_idx ON audit_runs (conclusion);

-- The GitHub check runs an audit created: one ("ForgeGuard") or one per check.
CREATE TABLE audit_check_runs (
    audit_id bigint NOT NULL REFERENCES audit_runs (id) ON DELETE CASCADE,
    name text NOT NULL,
    check_run_id bigint NOT NULL,
    status text NOT NULL DEFAULT 'in_progress' CHECK (status IN ('in_progress', 'completed')),
    conclusion text,
    created_at timestamptz NOT NULL DEFAULT now(),
    completed_at timestamptz,
    PRIMARY KEY (audit_id, name)
);

CREATE INDEX audit_check_runs_github_idx ON audit_check_runs (check_run_id);

CREATE TABLE check_results (
    audit_id bigint NOT NULL REFERENCES audit_runs (id) ON DELETE CASCADE,
    position smallint NOT NULL,
    code text NOT NULL,
    name text NOT NULL,
    severity text NOT NULL,
    outcome text NOT NULL,
    detail text NOT NULL,
    PRIMARY KEY (audit_id, code)
);

CREATE TABLE findings (
    id bigserial PRIMARY KEY,
    audit_id bigint NOT NULL REFERENCES audit_runs (id) ON DELETE CASCADE,
    code text NOT NULL,
    path text NOT NULL,
    start_line integer,
    end_line integer,
    level text NOT NULL,
    message text NOT NULL
);

CREATE INDEX findings_audit_idx ON findings (audit_id, code);

CREATE TABLE pull_request_heads (
    owner text NOT NULL,
    repo text NOT NULL,
    head_sha text NOT NULL,
    pull_number integer NOT NULL,
    base_sha text NOT NULL,
    base_ref text NOT NULL,
    head_repo text,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (owner, repo, head_sha, pull_number)
);
