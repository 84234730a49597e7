-- Every model call: what it was for, what it cost. One row per call, also failed ones.
CREATE TABLE IF NOT EXISTS llm_calls (
    id bigserial PRIMARY KEY,
    purpose text NOT NULL,
    model text NOT NULL,
    installation_id bigint,
    intake_id bigint,
    build_id bigint,
    input_tokens integer NOT NULL DEFAULT 0,
    output_tokens integer NOT NULL DEFAULT 0,
    cache_creation_input_tokens integer NOT NULL DEFAULT 0,
    cache_read_input_tokens integer NOT NULL DEFAULT 0,
    cost_usd numeric(14, 6),
    duration_ms integer NOT NULL,
    status text NOT NULL CHECK (status IN ('ok', 'unavailable', 'error')),
    error text,
    request_id text,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS llm_calls_intake_idx ON llm_calls (intake_id) WHERE intake_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS llm_calls_build_idx ON llm_calls (build_id) WHERE build_id IS NOT NULL;
CREATE INDEX IF NOT EXISTS llm_calls_installation_idx ON llm_calls (installation_id, created_at);
