-- The project intake of one issue: its questionnaire state, saved after every turn.
CREATE TABLE IF NOT EXISTS intakes (
    id bigserial PRIMARY KEY,
    installation_id bigint NOT NULL,
    repository_id bigint NOT NULL,
    repository_full_name text NOT NULL,
    issue_number integer NOT NULL,
    title text NOT NULL DEFAULT '',
    status text NOT NULL DEFAULT 'active'
        CHECK (status IN ('active', 'waiting_model', 'contracts_open', 'approved', 'rejected')),
    current_section text,
    sections jsonb NOT NULL DEFAULT '{}'::jsonb,
    transcript jsonb NOT NULL DEFAULT '[]'::jsonb,
    state jsonb NOT NULL DEFAULT '{}'::jsonb,
    version integer NOT NULL DEFAULT 1,
    contracts_pull_number integer,
    contracts_branch text,
    reject_reason text,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (repository_id, issue_number)
);

CREATE INDEX IF NOT EXISTS intakes_installation_idx ON intakes (installation_id);

-- Answers waiting for the questionnaire, one per issue comment, processed strictly in order.
CREATE TABLE IF NOT EXISTS intake_answers (
    id bigserial PRIMARY KEY,
    intake_id bigint NOT NULL REFERENCES intakes (id) ON DELETE CASCADE,
    comment_id bigint NOT NULL,
    author text NOT NULL,
    body text NOT NULL,
    commented_at timestamptz NOT NULL DEFAULT now(),
    status text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'done', 'dropped')),
    created_at timestamptz NOT NULL DEFAULT now(),
    processed_at timestamptz,
    UNIQUE (intake_id, comment_id)
);

CREATE INDEX IF NOT EXISTS intake_answers_pending_idx
    ON intake_answers (intake_id, commented_at, comment_id) WHERE status = 'pending';
