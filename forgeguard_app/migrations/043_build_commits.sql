-- Every tree and commit a build made, recorded before any ref moves, so that a step run again after
-- a worker died reuses them instead of committing twice.
CREATE TABLE build_commits (
    build_id bigint NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    phase integer NOT NULL,
    attempt integer NOT NULL,
    kind text NOT NULL CHECK (kind IN ('attempt', 'authorization', 'skip')),
    owner text NOT NULL,
    repo text NOT NULL,
    parent_sha text NOT NULL,
    tree_sha text NOT NULL,
    commit_sha text,
    check_run_id bigint,
    audit_id bigint,
    conclusion text,
    ref text,
    created_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (build_id, phase, attempt, kind)
);

-- A commit the builder already audited (its check run exists) is not audited again by push/PR events.
CREATE INDEX build_commits_sha_idx ON build_commits (lower(owner), lower(repo), commit_sha)
    WHERE check_run_id IS NOT NULL;
