-- The full tool log of a build: every tool the model called, its input and result in short, how long it took.
CREATE TABLE build_tool_calls (
    id bigserial PRIMARY KEY,
    build_id bigint NOT NULL REFERENCES builds (id) ON DELETE CASCADE,
    phase integer NOT NULL,
    attempt integer NOT NULL,
    tool text NOT NULL,
    input_summary text NOT NULL,
    result_summary text NOT NULL,
    duration_ms integer NOT NULL,
    error text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX build_tool_calls_build_idx ON build_tool_calls (build_id, id);
