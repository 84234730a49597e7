-- Whether a delivery for `p_repository` through `p_installation` is acted on.
-- The webhook endpoint calls it inside the statement that stores the delivery,
-- so accepting a delivery stays one round trip.
--   * An installation not seen yet is trusted and recorded: its
--     `installation.created` may still be on its way.
--   * A deleted or suspended installation covers nothing.
--   * A repository listed for the installation counts as its `active` flag says
--     (false once removed from the installation).
--   * An unlisted repository counts unless the installation has `selected`
--     repositories.
CREATE FUNCTION forgeguard_repository_covered(p_installation bigint, p_repository bigint)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
    installation installations%ROWTYPE;
    listed_active boolean;
BEGIN
    SELECT * INTO installation FROM installations WHERE id = p_installation;
    IF NOT FOUND THEN
        INSERT INTO installations (id) VALUES (p_installation) ON CONFLICT (id) DO NOTHING;
        RETURN true;
    END IF;
    IF installation.deleted_at IS NOT NULL OR installation.suspended_at IS NOT NULL THEN
        RETURN false;
    END IF;
    SELECT active INTO listed_active FROM installation_repositories
    WHERE installation_id = p_installation AND repository_id = p_repository;
    IF FOUND THEN
        RETURN listed_active;
    END IF;
    RETURN installation.repository_selection IS DISTINCT FROM 'selected';
END;
$$;
