-- Registration through /setup happens once: the first callback that reaches
-- GitHub claims this single row ('exchanging'), and once the credentials are
-- written it is 'registered' and /setup stays closed for good, in every
-- process, whether or not they were restarted. The public URL and the
-- organization chosen on the page travel with the state.
CREATE TABLE setup_registration (
    only_one boolean PRIMARY KEY DEFAULT true CHECK (only_one),
    status text NOT NULL CHECK (status IN ('exchanging', 'registered')),
    app_slug text,
    claimed_at timestamptz NOT NULL DEFAULT now(),
    registered_at timestamptz
);

ALTER TABLE setup_states ADD COLUMN public_url text;
ALTER TABLE setup_states ADD COLUMN organization text;
