-- One-time `state` values guarding the GitHub App manifest round trip.
CREATE TABLE setup_states (
    state text PRIMARY KEY,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at timestamptz
);
