-- 0012_plan_row_hot_updates.sql
--
-- Cheaper updates of the rows an execution changes all the time.
--
-- A running plan's row is updated for every finished atom (completed_atoms, 0009) and for every
-- LLM call (actual_cost_usd, 0003). Two things made each of those small updates expensive, and
-- they were most of PostgreSQL's CPU in an execution (about 9 ms per atom with 800 atoms):
--
-- 1. `search` was a stored generated column, and PostgreSQL recomputes stored generated columns
--    on every UPDATE of the row: to_tsvector over the name, summary and request each time. It is a
--    plain column now, kept by triggers that run only when one of its inputs is written.
-- 2. masterplans_status_idx held updated_at, which masterplan_set_updated_at() changes on every
--    UPDATE: no update could be HOT, so each one added entries to all seven indexes, the GIN index
--    of `search` among them. The index is on status alone now; a counter update touches no indexed
--    column and stays on its page (fillfactor leaves room for that).

ALTER TABLE masterplans ALTER COLUMN search DROP EXPRESSION;

CREATE FUNCTION masterplan_set_search() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    NEW.search := setweight(to_tsvector('english', coalesce(NEW.project_name, '')), 'A')
               || setweight(to_tsvector('english', coalesce(NEW.summary, '')), 'B')
               || setweight(to_tsvector('english', NEW.request), 'C');
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION masterplan_set_search() IS
    'BEFORE INSERT/UPDATE trigger on masterplans: search is the weighted tsvector of project_name (A), summary (B) '
    'and request (C), as the generated column of 0002 was; recomputed only when one of them (or search itself) is written.';

CREATE TRIGGER masterplans_set_search_insert BEFORE INSERT ON masterplans
    FOR EACH ROW EXECUTE FUNCTION masterplan_set_search();

CREATE TRIGGER masterplans_set_search_update BEFORE UPDATE OF project_name, summary, request, search ON masterplans
    FOR EACH ROW WHEN (OLD.project_name IS DISTINCT FROM NEW.project_name
                       OR OLD.summary IS DISTINCT FROM NEW.summary
                       OR OLD.request IS DISTINCT FROM NEW.request
                       OR OLD.search IS DISTINCT FROM NEW.search)
    EXECUTE FUNCTION masterplan_set_search();

COMMENT ON COLUMN masterplans.search IS
    'Full-text search vector (name A, summary B, request C), kept by masterplan_set_search(); never written directly.';

DROP INDEX masterplans_status_idx;
CREATE INDEX masterplans_status_idx ON masterplans (status);

ALTER TABLE masterplans SET (fillfactor = 80);

-- 3. The workspace-path rule of 0002 was a CHECK on atoms.file_path and tasks.files, and PostgreSQL
--    evaluates every CHECK on every UPDATE of a row, whichever columns change: each atom status
--    change and each task status change ran the rule's seven regular expressions again (about
--    40 us a row here) on a path that never changes. The rule is now checked by triggers when the
--    path is written (insert, or an update that sets it), with the same SQLSTATE (23514) and the
--    same constraint names, so errors read as before. acceptance_tests keeps its CHECK: its rows
--    are written once at generation and frozen at approval.

CREATE FUNCTION masterplan_check_workspace_paths() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
    v_paths text[];
BEGIN
    -- Separate statements: plpgsql resolves NEW's fields when a statement first runs.
    IF TG_TABLE_NAME = 'atoms' THEN
        v_paths := ARRAY[NEW.file_path];
    ELSE
        v_paths := NEW.files;
    END IF;
    IF NOT masterplan_are_workspace_paths(v_paths) THEN
        RAISE EXCEPTION 'new row for relation "%" violates check constraint "%"', TG_TABLE_NAME, TG_ARGV[0]
            USING ERRCODE = 'check_violation', CONSTRAINT = TG_ARGV[0], TABLE = TG_TABLE_NAME,
                  SCHEMA = TG_TABLE_SCHEMA, DETAIL = 'Workspace paths must be distinct, relative and normalised '
                  || '(no "..", no absolute path, no VCS internals).';
    END IF;
    RETURN NEW;
END;
$$;

COMMENT ON FUNCTION masterplan_check_workspace_paths() IS
    'BEFORE INSERT/UPDATE OF the path column(s) trigger on atoms and tasks: masterplan_are_workspace_paths() as a '
    'check_violation named by the trigger argument (the CHECK constraint it replaces).';

ALTER TABLE atoms DROP CONSTRAINT atoms_file_path_check;
CREATE TRIGGER atoms_file_path_check BEFORE INSERT OR UPDATE OF file_path ON atoms
    FOR EACH ROW EXECUTE FUNCTION masterplan_check_workspace_paths('atoms_file_path_check');

ALTER TABLE tasks DROP CONSTRAINT tasks_files_check;
CREATE TRIGGER tasks_files_check BEFORE INSERT OR UPDATE OF files ON tasks
    FOR EACH ROW EXECUTE FUNCTION masterplan_check_workspace_paths('tasks_files_check');

-- 4. GET /masterplans/{id} answers from a per-worker cache while the plan's "tree stamp" is
--    unchanged, and asks for the stamp on every request. The stamp was the plan row's updated_at
--    together with max(updated_at) over the plan's tasks (a scan of every task, every request).
--    A task update now stamps its plan's row too (once per statement), so the plan row's
--    updated_at alone changes whenever the tree may have (PlanTreeWriter and every other writer
--    of the tree's other tables already update the plan row).

CREATE FUNCTION masterplan_touch_plans_of_tasks() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    UPDATE masterplans SET updated_at = now() WHERE id IN (SELECT DISTINCT plan_id FROM changed_tasks);
    RETURN NULL;
END;
$$;

COMMENT ON FUNCTION masterplan_touch_plans_of_tasks() IS
    'AFTER UPDATE statement trigger on tasks: stamps updated_at of the plans whose tasks changed, once per statement.';

CREATE TRIGGER tasks_touch_plans AFTER UPDATE ON tasks
    REFERENCING NEW TABLE AS changed_tasks
    FOR EACH STATEMENT EXECUTE FUNCTION masterplan_touch_plans_of_tasks();
