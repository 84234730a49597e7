-- Section choices of finished intakes (never conversation text), remembered per installation.
CREATE TABLE IF NOT EXISTS intake_memory (
    id bigserial PRIMARY KEY,
    installation_id bigint NOT NULL,
    intake_id bigint NOT NULL UNIQUE REFERENCES intakes (id) ON DELETE CASCADE,
    choices jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX IF NOT EXISTS intake_memory_installation_idx ON intake_memory (installation_id, created_at DESC);
