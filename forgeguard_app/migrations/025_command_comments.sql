-- The app's progress comments: one per piece of long work, edited in place.
-- The comment also carries a hidden marker <!-- forgeguard:progress:<kind>:<key> -->
-- so it can be found again if this row is ever missing.
CREATE TABLE progress_comments (
    repository_id bigint NOT NULL,
    kind text NOT NULL,
    key text NOT NULL,
    issue_number integer NOT NULL,
    comment_id bigint NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (repository_id, kind, key)
);

-- Contracts pull requests opened from an intake issue, and the review decision on them.
CREATE TABLE contracts_pulls (
    repository_id bigint NOT NULL,
    issue_number integer NOT NULL,
    installation_id bigint NOT NULL,
    owner text NOT NULL,
    repo text NOT NULL,
    pull_number integer NOT NULL,
    branch text NOT NULL,
    base_branch text NOT NULL,
    project text NOT NULL,
    head_sha text NOT NULL,
    state text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'approved', 'rejected')),
    decided_by text,
    decided_at timestamptz,
    decided_sha text,
    reason text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (repository_id, issue_number)
);

CREATE UNIQUE INDEX contracts_pulls_pull_idx ON contracts_pulls (repository_id, pull_number);
