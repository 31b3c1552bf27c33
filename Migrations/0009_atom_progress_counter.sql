-- 0009_atom_progress_counter.sql
--
-- masterplans.completed_atoms kept by a trigger on atoms instead of a count(*) of the plan's
-- atoms after every finished atom (which scanned the plan's atoms and held the plan row while
-- doing so, once per atom: the costliest statement of an 800-atom run).
--
-- An atom counts when it has accepted content: status succeeded, approved or needs_review with a
-- final content hash. The trigger fires only when that flips, from whichever code path.

CREATE FUNCTION masterplan_count_completed_atom() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_delta integer;
BEGIN
    v_delta := CASE WHEN NEW.status IN ('succeeded', 'approved', 'needs_review')
                         AND NEW.final_content_sha256 IS NOT NULL THEN 1 ELSE 0 END;
    IF TG_OP = 'UPDATE' THEN
        v_delta := v_delta - CASE WHEN OLD.status IN ('succeeded', 'approved', 'needs_review')
                                       AND OLD.final_content_sha256 IS NOT NULL THEN 1 ELSE 0 END;
    END IF;
    IF v_delta <> 0 THEN
        -- Clamped: a counter must never make a real state change fail its CHECK.
        UPDATE masterplans SET completed_atoms = least(total_atoms, greatest(0, completed_atoms + v_delta))
        WHERE id = NEW.plan_id;
    END IF;
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION masterplan_count_completed_atom() IS
    'AFTER INSERT/UPDATE trigger on atoms: keeps masterplans.completed_atoms equal to the number of the plan''s atoms '
    'with accepted content (succeeded, approved or needs_review, with final_content_sha256).';

CREATE TRIGGER atoms_count_completed AFTER INSERT OR UPDATE OF status, final_content_sha256 ON atoms
    FOR EACH ROW EXECUTE FUNCTION masterplan_count_completed_atom();

-- Start from the exact figure.
UPDATE masterplans p
SET completed_atoms = least(p.total_atoms, (SELECT count(*) FROM atoms a
                                            WHERE a.plan_id = p.id
                                              AND a.status IN ('succeeded', 'approved', 'needs_review')
                                              AND a.final_content_sha256 IS NOT NULL))
WHERE p.completed_atoms IS DISTINCT FROM least(p.total_atoms, (SELECT count(*) FROM atoms a
                                                                WHERE a.plan_id = p.id
                                                                  AND a.status IN ('succeeded', 'approved', 'needs_review')
                                                                  AND a.final_content_sha256 IS NOT NULL));
