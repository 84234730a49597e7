-- Webhook deliveries, stored before they are answered; the id is X-GitHub-Delivery.
CREATE TABLE deliveries (
    id text PRIMARY KEY,
    event text NOT NULL,
    action text,
    installation_id bigint,
    repository_id bigint,
    repository_full_name text,
    payload jsonb NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    status text NOT NULL CHECK (status IN ('queued', 'ignored', 'processed', 'failed')),
    processed_at timestamptz,
    error text
);

CREATE INDEX deliveries_received_at_idx ON deliveries (received_at);
CREATE INDEX deliveries_status_idx ON deliveries (status);
