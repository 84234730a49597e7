-- Where the app is installed, kept from installation and installation_repositories events.
CREATE TABLE installations (
    id bigint PRIMARY KEY,
    account_login text,
    account_id bigint,
    account_type text,
    -- 'all', 'selected', or NULL while only deliveries have named it
    repository_selection text,
    permissions jsonb,
    suspended_at timestamptz,
    deleted_at timestamptz,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE installation_repositories (
    installation_id bigint NOT NULL REFERENCES installations (id) ON DELETE CASCADE,
    repository_id bigint NOT NULL,
    full_name text NOT NULL,
    active boolean NOT NULL DEFAULT true,
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (installation_id, repository_id)
);
