-- Live pages: every saved step of a build (its `seq` moves) and every change of
-- its status is announced on `forgeguard_events`, as migration 061 does for
-- audits, so the status site's build page and timeline follow a build that any
-- worker runs. The payload names the build and its repository only; web
-- processes decide who may hear of it. NOTIFY is sent on commit.
CREATE FUNCTION forgeguard_notify_build() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(
        'forgeguard_events',
        json_build_object(
            'kind', 'build',
            'id', NEW.id,
            'installation_id', NEW.installation_id,
            'owner', NEW.owner,
            'repo', NEW.repo
        )::text
    );
    RETURN NULL;
END;
$$;

CREATE TRIGGER builds_notify
    AFTER INSERT OR UPDATE OF seq, status ON builds
    FOR EACH ROW EXECUTE FUNCTION forgeguard_notify_build();
