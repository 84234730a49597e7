-- Builder accounting: the phase a builder or planner call belongs to, and sums per build and phase.
ALTER TABLE llm_calls ADD COLUMN IF NOT EXISTS phase integer;

CREATE INDEX IF NOT EXISTS llm_calls_build_phase_idx ON llm_calls (build_id, phase, purpose)
    WHERE build_id IS NOT NULL;
