-- Files the model wrote (or deleted) since the branch head: the working tree is rebuilt from the
-- branch plus these after a worker is replaced. Emptied when a phase's work reaches the branch.
CREATE TABLE build_files (
    build_id bigint NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    path text NOT NULL,
    content bytea,
    deleted boolean NOT NULL DEFAULT false,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (build_id, path)
);
