-- The status site reads audits per repository newest first, and the last audit
-- of a branch (the health badge); both by index, for any number of audits.
CREATE INDEX audit_runs_timeline_idx ON audit_runs (lower(owner), lower(repo), id DESC);
CREATE INDEX audit_runs_branch_idx ON audit_runs (lower(owner), lower(repo), branch, id DESC)
    WHERE pull_number IS NULL;

-- Live pages: every change of an audit's state is announced on the
-- `forgeguard_events` channel, so any web process sees what any worker did.
-- The payload names the audit and its repository; web processes decide who
-- may hear of it. NOTIFY is sent on commit.
CREATE FUNCTION forgeguard_notify_audit() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify(
        'forgeguard_events',
        json_build_object(
            'kind', 'audit',
            'id', NEW.id,
            'installation_id', NEW.installation_id,
            'owner', NEW.owner,
            'repo', NEW.repo
        )::text
    );
    RETURN NULL;
END;
$$;

CREATE TRIGGER audit_runs_notify
    AFTER INSERT OR UPDATE OF status, conclusion ON audit_runs
    FOR EACH ROW EXECUTE FUNCTION forgeguard_notify_audit();
