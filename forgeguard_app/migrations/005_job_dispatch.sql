-- A row of `jobs` that becomes `queued` (inserted so, or released from `blocked`)
-- is handed to pgqueuer in the same statement, so that storing a delivery and
-- queueing its job is one round trip. The pgqueuer row's payload is the job id;
-- its entrypoint is the job kind. (pgqueuer's own tables are installed by
-- `forgeguard migrate` after these files; PL/pgSQL resolves them at run time.)
CREATE FUNCTION forgeguard_dispatch_job() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO pgqueuer (priority, entrypoint, payload, status)
    VALUES (0, NEW.kind, convert_to(NEW.id::text, 'UTF8'), 'queued');
    RETURN NULL;
END;
$$;

CREATE TRIGGER jobs_dispatch_on_insert
    AFTER INSERT ON jobs
    FOR EACH ROW WHEN (NEW.status = 'queued')
    EXECUTE FUNCTION forgeguard_dispatch_job();

CREATE TRIGGER jobs_dispatch_on_release
    AFTER UPDATE OF status ON jobs
    FOR EACH ROW WHEN (NEW.status = 'queued' AND OLD.status = 'blocked')
    EXECUTE FUNCTION forgeguard_dispatch_job();
