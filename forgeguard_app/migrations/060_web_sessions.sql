-- The status site's sign-in: one-time OAuth states, sessions, and what GitHub
-- says each signed-in person may see (cached a few minutes, refreshed on sign-in).

-- One row per sign-in started; used once, kept ten minutes (bounded by the app).
CREATE TABLE web_signin_states (
    state_hash bytea PRIMARY KEY,
    next_path text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    used_at timestamptz
);

CREATE INDEX web_signin_states_created_idx ON web_signin_states (created_at);

-- A browser session: the cookie holds a random value, the table its SHA-256.
-- The user's GitHub token is kept encrypted (Fernet, key derived from the app's
-- private key and OAuth secret), never in clear.
CREATE TABLE web_sessions (
    id_hash bytea PRIMARY KEY,
    user_id bigint NOT NULL,
    login text NOT NULL,
    token bytea NOT NULL,
    csrf text NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz NOT NULL
);

CREATE INDEX web_sessions_user_idx ON web_sessions (user_id);
CREATE INDEX web_sessions_expires_idx ON web_sessions (expires_at);

-- When a person's access was last read from GitHub (GET /user/installations…).
CREATE TABLE web_access_refreshed (
    user_id bigint PRIMARY KEY,
    login text NOT NULL,
    refreshed_at timestamptz NOT NULL DEFAULT now()
);

-- The installations a person can see, as GitHub listed them.
CREATE TABLE web_access_installations (
    user_id bigint NOT NULL REFERENCES web_access_refreshed (user_id) ON DELETE CASCADE,
    installation_id bigint NOT NULL,
    account_login text NOT NULL,
    PRIMARY KEY (user_id, installation_id)
);

-- The repositories a person can see through each installation.
CREATE TABLE web_access_repositories (
    user_id bigint NOT NULL REFERENCES web_access_refreshed (user_id) ON DELETE CASCADE,
    installation_id bigint NOT NULL,
    repository_id bigint NOT NULL,
    owner text NOT NULL,
    repo text NOT NULL,
    default_branch text,
    private boolean NOT NULL DEFAULT true,
    PRIMARY KEY (user_id, repository_id)
);

CREATE INDEX web_access_repositories_name_idx
    ON web_access_repositories (user_id, lower(owner), lower(repo), installation_id);
