-- `/forge say` messages: queued until the next model turn, then acknowledged in the progress comment.
CREATE TABLE build_interjections (
    id bigserial PRIMARY KEY,
    build_id bigint NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    login text NOT NULL,
    comment_id bigint NOT NULL,
    message text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    phase integer
);

CREATE INDEX build_interjections_pending_idx ON build_interjections (build_id) WHERE delivered_at IS NULL;
