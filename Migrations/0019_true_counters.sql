-- 0019_true_counters.sql
--
-- Counters that are true.
--   atoms.accepted          whether the atom's content is accepted with no review of it waiting:
--                           succeeded or approved with a content hash. It is sticky while the atom is
--                           produced again (running): a Gate S repair round regenerates accepted atoms,
--                           and their earlier content stands until it is replaced, so the counts do not
--                           go backwards during the round; an atom that was waiting for review, rejected
--                           or failed does not become accepted by running again. Set by the
--                           atoms_set_accepted trigger; do not write it.
--   masterplans.completed_atoms  now the number of accepted atoms (0009 counted atoms waiting for review
--                           as completed too)
--   waves.status 'cancelled'     a wave that was pending, running or gating when its plan was cancelled:
--                           no wave of a cancelled plan is shown as running
--   masterplans.actual_duration_seconds  set when the plan completes (started_at to completed_at)

ALTER TABLE atoms ADD COLUMN accepted boolean NOT NULL DEFAULT false;

COMMENT ON COLUMN atoms.accepted IS
    'Content accepted with no review waiting (succeeded/approved with a hash); kept while the atom runs again. '
    'Maintained by the atoms_set_accepted trigger (0019). Do not write it.';

CREATE FUNCTION masterplan_set_atom_accepted() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.final_content_sha256 IS NULL THEN
        NEW.accepted := false;
    ELSIF NEW.status IN ('succeeded', 'approved') THEN
        NEW.accepted := true;
    ELSIF NEW.status = 'running' AND TG_OP = 'UPDATE' THEN
        NEW.accepted := OLD.accepted;
    ELSE
        NEW.accepted := false;
    END IF;
    RETURN NEW;
END;
$$;

CREATE TRIGGER atoms_set_accepted BEFORE INSERT OR UPDATE OF status, final_content_sha256 ON atoms
    FOR EACH ROW EXECUTE FUNCTION masterplan_set_atom_accepted();

UPDATE atoms SET accepted = (status IN ('succeeded', 'approved') AND final_content_sha256 IS NOT NULL)
WHERE accepted IS DISTINCT FROM (status IN ('succeeded', 'approved') AND final_content_sha256 IS NOT NULL);

CREATE OR REPLACE FUNCTION masterplan_count_completed_atom() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_delta integer;
BEGIN
    v_delta := CASE WHEN NEW.accepted THEN 1 ELSE 0 END;
    IF TG_OP = 'UPDATE' THEN
        v_delta := v_delta - CASE WHEN OLD.accepted THEN 1 ELSE 0 END;
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
    'AFTER INSERT/UPDATE trigger on atoms: keeps masterplans.completed_atoms equal to the number of the plan''s '
    'accepted atoms (atoms.accepted, 0019).';

UPDATE masterplans p
SET completed_atoms = least(p.total_atoms, (SELECT count(*) FROM atoms a WHERE a.plan_id = p.id AND a.accepted))
WHERE p.completed_atoms IS DISTINCT FROM least(p.total_atoms, (SELECT count(*) FROM atoms a WHERE a.plan_id = p.id AND a.accepted));

ALTER TABLE waves DROP CONSTRAINT waves_status_check;
ALTER TABLE waves DROP CONSTRAINT waves_finished_check;
ALTER TABLE waves
    ADD CONSTRAINT waves_status_check   CHECK (status IN ('pending', 'running', 'gating', 'passed', 'failed', 'waived', 'cancelled')),
    ADD CONSTRAINT waves_finished_check CHECK (status NOT IN ('passed', 'failed', 'waived', 'cancelled') OR finished_at IS NOT NULL);

UPDATE masterplans SET actual_duration_seconds = greatest(0, floor(extract(epoch FROM completed_at - started_at)))::integer
WHERE status = 'completed' AND actual_duration_seconds IS NULL AND started_at IS NOT NULL AND completed_at IS NOT NULL;
