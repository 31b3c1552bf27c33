-- schema_checks.sql — exercises every CHECK, FOREIGN KEY and UNIQUE constraint of Migrations/*.sql.
--
-- Run on a database migrated to the latest version:
--   psql -X -q -v ON_ERROR_STOP=1 -d DB -f Tests/StoreTests/Fixtures/schema_checks.sql
-- Valid rows must insert; each invalid statement must fail with the expected SQLSTATE and
-- constraint name. At the end, every CHECK/FK/UNIQUE constraint of the public schema must have
-- been seen failing at least once (UNIQUE constraints that contain the primary key excepted: they
-- cannot fail on their own). Runs in one transaction and rolls back: the database is unchanged.
-- Plain SQL with no psql meta-commands, so it can also be sent as one simple-query string.
-- NOTIFY delivery (commit vs rollback) needs two sessions and is not checked here.

BEGIN;

CREATE TABLE pg_temp.covered (name text NOT NULL);

-- Runs p_sql, which must fail with p_sqlstate (and, when given, on constraint p_constraint).
CREATE PROCEDURE pg_temp.expect_error(p_label text, p_sql text, p_sqlstate text, p_constraint text DEFAULT NULL)
LANGUAGE plpgsql AS $$
DECLARE
    v_state      text;
    v_constraint text;
    v_message    text;
BEGIN
    BEGIN
        EXECUTE p_sql;
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS v_state = RETURNED_SQLSTATE, v_constraint = CONSTRAINT_NAME,
                                v_message = MESSAGE_TEXT;
        IF v_state <> p_sqlstate OR (p_constraint IS NOT NULL AND v_constraint IS DISTINCT FROM p_constraint) THEN
            RAISE EXCEPTION 'FAIL %: expected % on %, got % on % (%)',
                p_label, p_sqlstate, coalesce(p_constraint, '-'), v_state, coalesce(v_constraint, '-'), v_message;
        END IF;
        IF v_constraint <> '' THEN
            INSERT INTO pg_temp.covered VALUES (v_constraint);
        END IF;
        RETURN;
    END;
    RAISE EXCEPTION 'FAIL %: statement succeeded but must fail: %', p_label, p_sql;
END;
$$;

-- Runs p_sql, a query returning one boolean, which must be true.
CREATE PROCEDURE pg_temp.expect(p_label text, p_sql text)
LANGUAGE plpgsql AS $$
DECLARE
    v_ok boolean;
BEGIN
    EXECUTE p_sql INTO v_ok;
    IF v_ok IS NOT TRUE THEN
        RAISE EXCEPTION 'FAIL %', p_label;
    END IF;
END;
$$;

-- Identifiers used below (prefix = table):
--   users      1..1 A, 1..2 B, 1..3 C        conversations 2..1 (A), 2..2 (B)
--   plans      4..1 P1 (A), 4..2 P2 (A), 4..3 PB (B)
--   tasks      43..1 T1, 43..2 T2 in P1; 43..9 T9 in P2
--   waves      50..1 W1, 50..2 W2 in P1; 50..9 W9 in P2     atoms 51..1 A1, 51..2 A2 (P1); 51..9 A9 (P2)

-- 1. every table the migrations create exists -----------------------------------------------------

CALL pg_temp.expect('all §4 tables exist', $q$SELECT count(*) = 27 FROM pg_tables WHERE schemaname = current_schema() AND tablename IN (
        'users', 'api_tokens', 'conversations', 'messages', 'discoveries', 'masterplans', 'phases',
        'milestones', 'tasks', 'task_dependencies', 'subtasks', 'acceptance_criteria', 'acceptance_tests',
        'acceptance_test_criteria', 'plan_versions', 'plan_history', 'atoms', 'atom_dependencies',
        'atom_attempts', 'waves', 'gate_results', 'test_runs', 'reviews', 'llm_calls', 'jobs', 'events',
        'event_types')$q$);

-- 2. users, tokens, chat --------------------------------------------------------------------

INSERT INTO users (id, email, password_hash, role) VALUES
    ('10000000-0000-4000-8000-000000000001', 'ann@example.org', '$argon2id$x', 'admin'),
    ('10000000-0000-4000-8000-000000000002', 'bob@example.org', '$argon2id$y', 'member'),
    ('10000000-0000-4000-8000-000000000003', 'cat@example.org', '$argon2id$z', 'member');

CALL pg_temp.expect_error('user role', $q$INSERT INTO users (email, password_hash, role) VALUES ('r@x.org', 'h', 'root')$q$, '23514', 'users_role_check');
CALL pg_temp.expect_error('user email format', $q$INSERT INTO users (email, password_hash) VALUES ('not-an-email', 'h')$q$, '23514', 'users_email_format_check');
CALL pg_temp.expect_error('user email padded', $q$INSERT INTO users (email, password_hash) VALUES (' d@x.org', 'h')$q$, '23514', 'users_email_format_check');
CALL pg_temp.expect_error('user empty hash', $q$INSERT INTO users (email, password_hash) VALUES ('d@x.org', '')$q$, '23514', 'users_password_hash_check');
CALL pg_temp.expect_error('user email unique ignoring case', $q$INSERT INTO users (email, password_hash) VALUES ('ANN@Example.org', 'h')$q$, '23505', 'users_email_lower_key');
CALL pg_temp.expect_error('user email not null', $q$INSERT INTO users (email, password_hash) VALUES (NULL, 'h')$q$, '23502');

INSERT INTO api_tokens (user_id, name, token_hash) VALUES
    ('10000000-0000-4000-8000-000000000001', 'ci', repeat('a', 64)),
    ('10000000-0000-4000-8000-000000000003', 'cat', repeat('c', 64));
CALL pg_temp.expect_error('token name', $q$INSERT INTO api_tokens (user_id, name, token_hash) VALUES ('10000000-0000-4000-8000-000000000001', ' ', repeat('b', 64))$q$, '23514', 'api_tokens_name_check');
CALL pg_temp.expect_error('token hash format', $q$INSERT INTO api_tokens (user_id, name, token_hash) VALUES ('10000000-0000-4000-8000-000000000001', 't', 'XYZ')$q$, '23514', 'api_tokens_token_hash_check');
CALL pg_temp.expect_error('token expiry', $q$INSERT INTO api_tokens (user_id, name, token_hash, expires_at) VALUES ('10000000-0000-4000-8000-000000000001', 't', repeat('b', 64), now() - interval '1 day')$q$, '23514', 'api_tokens_expiry_check');
CALL pg_temp.expect_error('token user fk', $q$INSERT INTO api_tokens (user_id, name, token_hash) VALUES (gen_random_uuid(), 't', repeat('b', 64))$q$, '23503', 'api_tokens_user_id_fkey');
CALL pg_temp.expect_error('token hash unique', $q$INSERT INTO api_tokens (user_id, name, token_hash) VALUES ('10000000-0000-4000-8000-000000000001', 't', repeat('a', 64))$q$, '23505', 'api_tokens_token_hash_key');

INSERT INTO conversations (id, owner_id, title) VALUES
    ('20000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000001', 'fastapi'),
    ('20000000-0000-4000-8000-000000000002', '10000000-0000-4000-8000-000000000002', 'bob'),
    ('20000000-0000-4000-8000-000000000003', '10000000-0000-4000-8000-000000000003', 'cat');
INSERT INTO messages (id, conversation_id, role, content) VALUES
    ('21000000-0000-4000-8000-000000000001', '20000000-0000-4000-8000-000000000001', 'user', '/masterplan create a FastAPI app with JWT auth'),
    ('21000000-0000-4000-8000-000000000002', '20000000-0000-4000-8000-000000000001', 'assistant', 'Planning it.');
CALL pg_temp.expect('messages ordered by seq', $q$SELECT array_agg(role ORDER BY seq) = '{user,assistant}' FROM messages$q$);
CALL pg_temp.expect_error('conversation owner fk', $q$INSERT INTO conversations (owner_id) VALUES (gen_random_uuid())$q$, '23503', 'conversations_owner_id_fkey');
CALL pg_temp.expect_error('message role', $q$INSERT INTO messages (conversation_id, role, content) VALUES ('20000000-0000-4000-8000-000000000001', 'bot', 'x')$q$, '23514', 'messages_role_check');
CALL pg_temp.expect_error('message conversation fk', $q$INSERT INTO messages (conversation_id, role, content) VALUES (gen_random_uuid(), 'user', 'x')$q$, '23503', 'messages_conversation_id_fkey');
CALL pg_temp.expect_error('message seq unique', $q$INSERT INTO messages (seq, conversation_id, role, content) OVERRIDING SYSTEM VALUE SELECT seq, conversation_id, 'user', 'x' FROM messages LIMIT 1$q$, '23505', 'messages_seq_key');

-- 3. discoveries and plans ------------------------------------------------------------------

INSERT INTO discoveries (id, owner_id, conversation_id, request, domain, risks, model, input_tokens, output_tokens, cost_usd) VALUES
    ('30000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000001', '20000000-0000-4000-8000-000000000001',
     'create a FastAPI app with JWT auth', 'authentication', '["token leakage"]', 'scripted-demo', 100, 200, 0.01);
CALL pg_temp.expect_error('discovery request', $q$INSERT INTO discoveries (owner_id, request, domain, model) VALUES ('10000000-0000-4000-8000-000000000001', '  ', 'd', 'm')$q$, '23514', 'discoveries_request_check');
CALL pg_temp.expect_error('discovery model', $q$INSERT INTO discoveries (owner_id, request, domain, model) VALUES ('10000000-0000-4000-8000-000000000001', 'r', 'd', '')$q$, '23514', 'discoveries_model_check');
CALL pg_temp.expect_error('discovery jsonb arrays', $q$INSERT INTO discoveries (owner_id, request, domain, model, risks) VALUES ('10000000-0000-4000-8000-000000000001', 'r', 'd', 'm', '{}')$q$, '23514', 'discoveries_jsonb_check');
CALL pg_temp.expect_error('discovery tokens', $q$INSERT INTO discoveries (owner_id, request, domain, model, input_tokens) VALUES ('10000000-0000-4000-8000-000000000001', 'r', 'd', 'm', -1)$q$, '23514', 'discoveries_tokens_check');
CALL pg_temp.expect_error('discovery answers are a list', $q$INSERT INTO discoveries (owner_id, request, domain, model, answers) VALUES ('10000000-0000-4000-8000-000000000001', 'r', 'd', 'm', '{"question": "q"}')$q$, '23514', 'discoveries_answers_check');
CALL pg_temp.expect_error('discovery cost', $q$INSERT INTO discoveries (owner_id, request, domain, model, cost_usd) VALUES ('10000000-0000-4000-8000-000000000001', 'r', 'd', 'm', -0.01)$q$, '23514', 'discoveries_cost_check');
CALL pg_temp.expect_error('discovery owner fk', $q$INSERT INTO discoveries (owner_id, request, domain, model) VALUES (gen_random_uuid(), 'r', 'd', 'm')$q$, '23503', 'discoveries_owner_id_fkey');
CALL pg_temp.expect_error('discovery conversation fk', $q$INSERT INTO discoveries (owner_id, conversation_id, request, domain, model) VALUES ('10000000-0000-4000-8000-000000000001', gen_random_uuid(), 'r', 'd', 'm')$q$, '23503', 'discoveries_conversation_id_fkey');

INSERT INTO masterplans (id, owner_id, conversation_id, source_message_id, discovery_id, request, project_name, summary, tech_stack, status, budget_usd, total_tasks) VALUES
    ('40000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000001', '20000000-0000-4000-8000-000000000001',
     '21000000-0000-4000-8000-000000000001', '30000000-0000-4000-8000-000000000001',
     'create a FastAPI app with JWT auth', 'fastapi-jwt', 'A FastAPI service with JWT login and protected routes',
     '{"language": "python", "framework": "fastapi"}', 'draft', 5, 2),
    ('40000000-0000-4000-8000-000000000002', '10000000-0000-4000-8000-000000000001', NULL, NULL, NULL,
     'a todo list CLI in Rust', 'todo-cli', 'A command-line todo list', '{}', 'draft', 5, 1),
    ('40000000-0000-4000-8000-000000000003', '10000000-0000-4000-8000-000000000002', NULL, NULL, NULL,
     'a blog engine', NULL, NULL, '{}', 'generating', 5, 0);

CALL pg_temp.expect_error('plan status', $q$UPDATE masterplans SET status = 'bogus' WHERE id = '40000000-0000-4000-8000-000000000002'$q$, '23514', 'masterplans_status_check');
CALL pg_temp.expect_error('plan status is case-sensitive', $q$UPDATE masterplans SET status = 'DRAFT' WHERE id = '40000000-0000-4000-8000-000000000002'$q$, '23514', 'masterplans_status_check');
CALL pg_temp.expect_error('plan request', $q$INSERT INTO masterplans (owner_id, request, budget_usd) VALUES ('10000000-0000-4000-8000-000000000001', ' ', 1)$q$, '23514', 'masterplans_request_check');
CALL pg_temp.expect_error('a rejected plan that was generated keeps its name', $q$INSERT INTO masterplans (owner_id, request, status, budget_usd, generated_at) VALUES ('10000000-0000-4000-8000-000000000001', 'r', 'rejected', 1, now())$q$, '23514', 'masterplans_generated_check');
INSERT INTO masterplans (owner_id, request, status, budget_usd) VALUES ('10000000-0000-4000-8000-000000000001', 'a plan rejected while it waited for answers', 'rejected', 1);
INSERT INTO masterplans (owner_id, request, status, budget_usd, ask_questions) VALUES ('10000000-0000-4000-8000-000000000001', 'a plan waiting for answers', 'awaiting_answers', 1, true);
CALL pg_temp.expect_error('draft needs a name', $q$INSERT INTO masterplans (owner_id, request, status, budget_usd) VALUES ('10000000-0000-4000-8000-000000000001', 'r', 'draft', 1)$q$, '23514', 'masterplans_generated_check');
CALL pg_temp.expect_error('plan name blank', $q$INSERT INTO masterplans (owner_id, request, project_name, budget_usd) VALUES ('10000000-0000-4000-8000-000000000001', 'r', ' ', 1)$q$, '23514', 'masterplans_project_name_check');
CALL pg_temp.expect_error('plan tech stack', $q$INSERT INTO masterplans (owner_id, request, tech_stack, budget_usd) VALUES ('10000000-0000-4000-8000-000000000001', 'r', '[]', 1)$q$, '23514', 'masterplans_tech_stack_check');
CALL pg_temp.expect_error('plan version', $q$INSERT INTO masterplans (owner_id, request, version, budget_usd) VALUES ('10000000-0000-4000-8000-000000000001', 'r', 0, 1)$q$, '23514', 'masterplans_version_check');
CALL pg_temp.expect_error('plan workspace path', $q$INSERT INTO masterplans (owner_id, request, workspace_path, budget_usd) VALUES ('10000000-0000-4000-8000-000000000001', 'r', '', 1)$q$, '23514', 'masterplans_workspace_path_check');
CALL pg_temp.expect_error('plan budget', $q$INSERT INTO masterplans (owner_id, request, budget_usd) VALUES ('10000000-0000-4000-8000-000000000001', 'r', 0)$q$, '23514', 'masterplans_budget_check');
CALL pg_temp.expect_error('plan budget required', $q$INSERT INTO masterplans (owner_id, request) VALUES ('10000000-0000-4000-8000-000000000001', 'r')$q$, '23502');
CALL pg_temp.expect_error('plan cost', $q$INSERT INTO masterplans (owner_id, request, budget_usd, estimated_cost_usd) VALUES ('10000000-0000-4000-8000-000000000001', 'r', 1, -1)$q$, '23514', 'masterplans_cost_check');
CALL pg_temp.expect_error('plan duration', $q$INSERT INTO masterplans (owner_id, request, budget_usd, actual_duration_seconds) VALUES ('10000000-0000-4000-8000-000000000001', 'r', 1, -1)$q$, '23514', 'masterplans_duration_check');
CALL pg_temp.expect_error('plan counters', $q$INSERT INTO masterplans (owner_id, request, budget_usd, completed_tasks) VALUES ('10000000-0000-4000-8000-000000000001', 'r', 1, 1)$q$, '23514', 'masterplans_counters_check');
CALL pg_temp.expect_error('queued without approval', $q$UPDATE masterplans SET status = 'queued' WHERE id = '40000000-0000-4000-8000-000000000002'$q$, '23514', 'masterplans_approved_at_check');
CALL pg_temp.expect_error('executing without started_at', $q$UPDATE masterplans SET status = 'executing', approved_at = now() WHERE id = '40000000-0000-4000-8000-000000000002'$q$, '23514', 'masterplans_started_at_check');
CALL pg_temp.expect_error('completed without completed_at', $q$UPDATE masterplans SET status = 'completed', approved_at = now() WHERE id = '40000000-0000-4000-8000-000000000002'$q$, '23514', 'masterplans_completed_at_check');
CALL pg_temp.expect_error('plan owner fk', $q$INSERT INTO masterplans (owner_id, request, budget_usd) VALUES (gen_random_uuid(), 'r', 1)$q$, '23503', 'masterplans_owner_id_fkey');
CALL pg_temp.expect_error('plan conversation fk', $q$INSERT INTO masterplans (owner_id, conversation_id, request, budget_usd) VALUES ('10000000-0000-4000-8000-000000000001', gen_random_uuid(), 'r', 1)$q$, '23503', 'masterplans_conversation_id_fkey');
CALL pg_temp.expect_error('plan message fk', $q$INSERT INTO masterplans (owner_id, source_message_id, request, budget_usd) VALUES ('10000000-0000-4000-8000-000000000001', gen_random_uuid(), 'r', 1)$q$, '23503', 'masterplans_source_message_id_fkey');
CALL pg_temp.expect_error('plan discovery fk', $q$INSERT INTO masterplans (owner_id, discovery_id, request, budget_usd) VALUES ('10000000-0000-4000-8000-000000000001', gen_random_uuid(), 'r', 1)$q$, '23503', 'masterplans_discovery_id_fkey');
UPDATE masterplans SET workspace_path = '/data/workspaces/p1' WHERE id = '40000000-0000-4000-8000-000000000001';
CALL pg_temp.expect_error('workspace unique', $q$UPDATE masterplans SET workspace_path = '/data/workspaces/p1' WHERE id = '40000000-0000-4000-8000-000000000002'$q$, '23505', 'masterplans_workspace_path_key');
CALL pg_temp.expect_error('discovery used by a plan cannot be deleted', $q$DELETE FROM discoveries WHERE id = '30000000-0000-4000-8000-000000000001'$q$, '23503', 'masterplans_discovery_id_fkey');

-- Every one of the twelve statuses is accepted (with the timestamps its CHECKs require).
DO $$
DECLARE
    s text;
BEGIN
    FOREACH s IN ARRAY ARRAY['generating', 'draft', 'approved', 'rejected', 'generation_failed', 'queued',
                             'executing', 'completed', 'failed', 'blocked', 'paused', 'cancelled'] LOOP
        UPDATE masterplans SET status = s, approved_at = now(), started_at = now(), completed_at = now()
        WHERE id = '40000000-0000-4000-8000-000000000002';
    END LOOP;
    UPDATE masterplans SET status = 'draft', approved_at = NULL, started_at = NULL, completed_at = NULL
    WHERE id = '40000000-0000-4000-8000-000000000002';
END;
$$;

-- Full-text search finds the similar plan; the generated column follows edits.
CALL pg_temp.expect('search finds fastapi plan', $q$SELECT array_agg(project_name) = '{fastapi-jwt}' FROM masterplans
    WHERE search @@ to_tsquery('english', 'jwt | authentication')$q$);
UPDATE masterplans SET summary = 'Terminal todo manager with authentication' WHERE id = '40000000-0000-4000-8000-000000000002';
CALL pg_temp.expect('search ranks name/summary matches', $q$SELECT array_agg(project_name ORDER BY ts_rank(search, q) DESC, project_name) = '{fastapi-jwt,todo-cli}'
    FROM masterplans, to_tsquery('english', 'jwt | authentication') AS q WHERE search @@ q$q$);

-- 4. plan tree ------------------------------------------------------------------------------

INSERT INTO phases (id, plan_id, number, kind, name) VALUES
    ('41000000-0000-4000-8000-000000000001', '40000000-0000-4000-8000-000000000001', 1, 'setup', 'Setup'),
    ('41000000-0000-4000-8000-000000000002', '40000000-0000-4000-8000-000000000002', 1, 'core', 'Core');
CALL pg_temp.expect_error('phase number', $q$INSERT INTO phases (plan_id, number, kind, name) VALUES ('40000000-0000-4000-8000-000000000001', 0, 'core', 'x')$q$, '23514', 'phases_number_check');
CALL pg_temp.expect_error('phase kind', $q$INSERT INTO phases (plan_id, number, kind, name) VALUES ('40000000-0000-4000-8000-000000000001', 2, 'middle', 'x')$q$, '23514', 'phases_kind_check');
CALL pg_temp.expect_error('phase name', $q$INSERT INTO phases (plan_id, number, kind, name) VALUES ('40000000-0000-4000-8000-000000000001', 2, 'core', '')$q$, '23514', 'phases_name_check');
CALL pg_temp.expect_error('phase plan fk', $q$INSERT INTO phases (plan_id, number, kind, name) VALUES (gen_random_uuid(), 1, 'core', 'x')$q$, '23503', 'phases_plan_id_fkey');
CALL pg_temp.expect_error('phase number unique', $q$INSERT INTO phases (plan_id, number, kind, name) VALUES ('40000000-0000-4000-8000-000000000001', 1, 'core', 'x')$q$, '23505', 'phases_plan_number_key');

INSERT INTO milestones (id, plan_id, phase_id, number, name) VALUES
    ('42000000-0000-4000-8000-000000000001', '40000000-0000-4000-8000-000000000001', '41000000-0000-4000-8000-000000000001', 1, 'Skeleton'),
    ('42000000-0000-4000-8000-000000000002', '40000000-0000-4000-8000-000000000002', '41000000-0000-4000-8000-000000000002', 1, 'CLI');
CALL pg_temp.expect_error('milestone number', $q$INSERT INTO milestones (plan_id, phase_id, number, name) VALUES ('40000000-0000-4000-8000-000000000001', '41000000-0000-4000-8000-000000000001', 0, 'x')$q$, '23514', 'milestones_number_check');
CALL pg_temp.expect_error('milestone name', $q$INSERT INTO milestones (plan_id, phase_id, number, name) VALUES ('40000000-0000-4000-8000-000000000001', '41000000-0000-4000-8000-000000000001', 2, ' ')$q$, '23514', 'milestones_name_check');
CALL pg_temp.expect_error('milestone in another plan''s phase', $q$INSERT INTO milestones (plan_id, phase_id, number, name) VALUES ('40000000-0000-4000-8000-000000000002', '41000000-0000-4000-8000-000000000001', 2, 'x')$q$, '23503', 'milestones_phase_fkey');
CALL pg_temp.expect_error('milestone plan fk', $q$INSERT INTO milestones (plan_id, phase_id, number, name) VALUES (gen_random_uuid(), '41000000-0000-4000-8000-000000000001', 2, 'x')$q$, '23503', 'milestones_plan_id_fkey');
CALL pg_temp.expect_error('milestone number unique', $q$INSERT INTO milestones (plan_id, phase_id, number, name) VALUES ('40000000-0000-4000-8000-000000000001', '41000000-0000-4000-8000-000000000001', 1, 'x')$q$, '23505', 'milestones_phase_number_key');

INSERT INTO tasks (id, plan_id, milestone_id, number, name, complexity, files) VALUES
    ('43000000-0000-4000-8000-000000000001', '40000000-0000-4000-8000-000000000001', '42000000-0000-4000-8000-000000000001', 1, 'App skeleton', 'low',
     '{app/main.py,.gitignore,.github/workflows/ci.yml}'),
    ('43000000-0000-4000-8000-000000000002', '40000000-0000-4000-8000-000000000001', '42000000-0000-4000-8000-000000000001', 2, 'JWT auth', 'high',
     '{app/auth.py,app/main.py}'),
    ('43000000-0000-4000-8000-000000000009', '40000000-0000-4000-8000-000000000002', '42000000-0000-4000-8000-000000000002', 1, 'CLI', 'medium',
     '{src/main.rs}');
CALL pg_temp.expect_error('task number', $q$INSERT INTO tasks (plan_id, milestone_id, number, name, complexity) VALUES ('40000000-0000-4000-8000-000000000001', '42000000-0000-4000-8000-000000000001', 0, 'x', 'low')$q$, '23514', 'tasks_number_check');
CALL pg_temp.expect_error('task name', $q$INSERT INTO tasks (plan_id, milestone_id, number, name, complexity) VALUES ('40000000-0000-4000-8000-000000000001', '42000000-0000-4000-8000-000000000001', 3, '', 'low')$q$, '23514', 'tasks_name_check');
CALL pg_temp.expect_error('task complexity', $q$INSERT INTO tasks (plan_id, milestone_id, number, name, complexity) VALUES ('40000000-0000-4000-8000-000000000001', '42000000-0000-4000-8000-000000000001', 3, 'x', 'extreme')$q$, '23514', 'tasks_complexity_check');
CALL pg_temp.expect_error('task status', $q$UPDATE tasks SET status = 'done' WHERE id = '43000000-0000-4000-8000-000000000001'$q$, '23514', 'tasks_status_check');
CALL pg_temp.expect_error('task in another plan''s milestone', $q$INSERT INTO tasks (plan_id, milestone_id, number, name, complexity) VALUES ('40000000-0000-4000-8000-000000000002', '42000000-0000-4000-8000-000000000001', 3, 'x', 'low')$q$, '23503', 'tasks_milestone_fkey');
CALL pg_temp.expect_error('task plan fk', $q$INSERT INTO tasks (plan_id, milestone_id, number, name, complexity) VALUES (gen_random_uuid(), '42000000-0000-4000-8000-000000000001', 3, 'x', 'low')$q$, '23503', 'tasks_plan_id_fkey');
CALL pg_temp.expect_error('task number unique in plan', $q$INSERT INTO tasks (plan_id, milestone_id, number, name, complexity) VALUES ('40000000-0000-4000-8000-000000000001', '42000000-0000-4000-8000-000000000001', 2, 'x', 'low')$q$, '23505', 'tasks_plan_number_key');
DO $$
DECLARE
    bad text[];
BEGIN
    FOREACH bad SLICE 1 IN ARRAY ARRAY[
        ARRAY['/etc/passwd', 'ok.py'], ARRAY['../escape.py', 'ok.py'], ARRAY['a/../b.py', 'ok.py'],
        ARRAY['./a.py', 'ok.py'], ARRAY['a//b.py', 'ok.py'], ARRAY['dir/', 'ok.py'], ARRAY['a\b.py', 'ok.py'],
        ARRAY['.git/config', 'ok.py'], ARRAY['sub/.hg/x', 'ok.py'], ARRAY['', 'ok.py'], ARRAY['ok.py', 'ok.py'],
        ARRAY[NULL, 'ok.py'], ARRAY[E'a\nb.py', 'ok.py'], ARRAY[repeat('a', 1025), 'ok.py']] LOOP
        CALL pg_temp.expect_error('task files ' || coalesce(bad[1], 'NULL'),
            format('UPDATE tasks SET files = %L WHERE id = %L', bad, '43000000-0000-4000-8000-000000000001'),
            '23514', 'tasks_files_check');
    END LOOP;
END;
$$;

INSERT INTO task_dependencies (plan_id, task_id, depends_on_task_id) VALUES
    ('40000000-0000-4000-8000-000000000001', '43000000-0000-4000-8000-000000000002', '43000000-0000-4000-8000-000000000001');
CALL pg_temp.expect_error('task depends on itself', $q$INSERT INTO task_dependencies (plan_id, task_id, depends_on_task_id) VALUES ('40000000-0000-4000-8000-000000000001', '43000000-0000-4000-8000-000000000001', '43000000-0000-4000-8000-000000000001')$q$, '23514', 'task_dependencies_not_self_check');
CALL pg_temp.expect_error('cross-plan dependency (labelled with the dependent''s plan)', $q$INSERT INTO task_dependencies (plan_id, task_id, depends_on_task_id) VALUES ('40000000-0000-4000-8000-000000000001', '43000000-0000-4000-8000-000000000002', '43000000-0000-4000-8000-000000000009')$q$, '23503', 'task_dependencies_depends_on_fkey');
CALL pg_temp.expect_error('cross-plan dependency (labelled with the prerequisite''s plan)', $q$INSERT INTO task_dependencies (plan_id, task_id, depends_on_task_id) VALUES ('40000000-0000-4000-8000-000000000002', '43000000-0000-4000-8000-000000000002', '43000000-0000-4000-8000-000000000009')$q$, '23503', 'task_dependencies_task_fkey');
CALL pg_temp.expect_error('dependency plan fk', $q$INSERT INTO task_dependencies (plan_id, task_id, depends_on_task_id) VALUES (gen_random_uuid(), '43000000-0000-4000-8000-000000000001', '43000000-0000-4000-8000-000000000002')$q$, '23503', 'task_dependencies_plan_id_fkey');
CALL pg_temp.expect_error('dependency unique', $q$INSERT INTO task_dependencies (plan_id, task_id, depends_on_task_id) VALUES ('40000000-0000-4000-8000-000000000001', '43000000-0000-4000-8000-000000000002', '43000000-0000-4000-8000-000000000001')$q$, '23505', 'task_dependencies_pkey');

INSERT INTO subtasks (task_id, number, name) VALUES ('43000000-0000-4000-8000-000000000002', 1, 'Token issuing');
CALL pg_temp.expect_error('subtask number', $q$INSERT INTO subtasks (task_id, number, name) VALUES ('43000000-0000-4000-8000-000000000002', 0, 'x')$q$, '23514', 'subtasks_number_check');
CALL pg_temp.expect_error('subtask name', $q$INSERT INTO subtasks (task_id, number, name) VALUES ('43000000-0000-4000-8000-000000000002', 2, ' ')$q$, '23514', 'subtasks_name_check');
CALL pg_temp.expect_error('subtask task fk', $q$INSERT INTO subtasks (task_id, number, name) VALUES (gen_random_uuid(), 1, 'x')$q$, '23503', 'subtasks_task_id_fkey');
CALL pg_temp.expect_error('subtask number unique', $q$INSERT INTO subtasks (task_id, number, name) VALUES ('43000000-0000-4000-8000-000000000002', 1, 'x')$q$, '23505', 'subtasks_task_number_key');

INSERT INTO acceptance_criteria (id, plan_id, task_id, position, priority, criterion) VALUES
    ('44000000-0000-4000-8000-000000000001', '40000000-0000-4000-8000-000000000001', '43000000-0000-4000-8000-000000000001', 1, 'must', 'GET /health returns 200'),
    ('44000000-0000-4000-8000-000000000002', '40000000-0000-4000-8000-000000000001', '43000000-0000-4000-8000-000000000002', 1, 'should', 'Expired tokens are refused'),
    ('44000000-0000-4000-8000-000000000009', '40000000-0000-4000-8000-000000000002', '43000000-0000-4000-8000-000000000009', 1, 'must', 'todo add works');
CALL pg_temp.expect_error('criterion position', $q$INSERT INTO acceptance_criteria (plan_id, task_id, position, priority, criterion) VALUES ('40000000-0000-4000-8000-000000000001', '43000000-0000-4000-8000-000000000001', 0, 'must', 'x')$q$, '23514', 'acceptance_criteria_position_check');
CALL pg_temp.expect_error('criterion priority', $q$INSERT INTO acceptance_criteria (plan_id, task_id, position, priority, criterion) VALUES ('40000000-0000-4000-8000-000000000001', '43000000-0000-4000-8000-000000000001', 2, 'could', 'x')$q$, '23514', 'acceptance_criteria_priority_check');
CALL pg_temp.expect_error('criterion text', $q$INSERT INTO acceptance_criteria (plan_id, task_id, position, priority, criterion) VALUES ('40000000-0000-4000-8000-000000000001', '43000000-0000-4000-8000-000000000001', 2, 'must', ' ')$q$, '23514', 'acceptance_criteria_criterion_check');
CALL pg_temp.expect_error('criterion of another plan''s task', $q$INSERT INTO acceptance_criteria (plan_id, task_id, position, priority, criterion) VALUES ('40000000-0000-4000-8000-000000000001', '43000000-0000-4000-8000-000000000009', 2, 'must', 'x')$q$, '23503', 'acceptance_criteria_task_fkey');
CALL pg_temp.expect_error('criterion plan fk', $q$INSERT INTO acceptance_criteria (plan_id, task_id, position, priority, criterion) VALUES (gen_random_uuid(), '43000000-0000-4000-8000-000000000001', 2, 'must', 'x')$q$, '23503', 'acceptance_criteria_plan_id_fkey');
CALL pg_temp.expect_error('criterion position unique', $q$INSERT INTO acceptance_criteria (plan_id, task_id, position, priority, criterion) VALUES ('40000000-0000-4000-8000-000000000001', '43000000-0000-4000-8000-000000000001', 1, 'must', 'x')$q$, '23505', 'acceptance_criteria_task_position_key');

INSERT INTO acceptance_tests (id, plan_id, name, priority, file_path, code) VALUES
    ('45000000-0000-4000-8000-000000000001', '40000000-0000-4000-8000-000000000001', 'test_health', 'must', 'tests/test_health.py',
     E'def test_health(client):\n    assert client.get("/health").status_code == 200\n'),
    ('45000000-0000-4000-8000-000000000002', '40000000-0000-4000-8000-000000000001', 'test_expired_token', 'should', 'tests/test_auth.py',
     E'def test_expired_token(client):\n    assert True  # résumé: non-ASCII on purpose\n'),
    ('45000000-0000-4000-8000-000000000009', '40000000-0000-4000-8000-000000000002', 'test_add', 'must', 'tests/cli.rs', 'fn add() {}');
CALL pg_temp.expect_error('test name', $q$INSERT INTO acceptance_tests (plan_id, name, priority, file_path, code) VALUES ('40000000-0000-4000-8000-000000000001', '', 'must', 't.py', 'x')$q$, '23514', 'acceptance_tests_name_check');
CALL pg_temp.expect_error('test priority', $q$INSERT INTO acceptance_tests (plan_id, name, priority, file_path, code) VALUES ('40000000-0000-4000-8000-000000000001', 'n', 'may', 't.py', 'x')$q$, '23514', 'acceptance_tests_priority_check');
CALL pg_temp.expect_error('test file path', $q$INSERT INTO acceptance_tests (plan_id, name, priority, file_path, code) VALUES ('40000000-0000-4000-8000-000000000001', 'n', 'must', '/tmp/t.py', 'x')$q$, '23514', 'acceptance_tests_file_path_check');
CALL pg_temp.expect_error('test hash without freeze', $q$INSERT INTO acceptance_tests (plan_id, name, priority, file_path, code, sha256) VALUES ('40000000-0000-4000-8000-000000000001', 'n', 'must', 't.py', 'x', encode(sha256('x'), 'hex'))$q$, '23514', 'acceptance_tests_frozen_check');
CALL pg_temp.expect_error('test frozen with a wrong hash', $q$UPDATE acceptance_tests SET sha256 = repeat('0', 64), frozen_at = now() WHERE id = '45000000-0000-4000-8000-000000000001'$q$, '23514', 'acceptance_tests_sha256_check');
CALL pg_temp.expect_error('test plan fk', $q$INSERT INTO acceptance_tests (plan_id, name, priority, file_path, code) VALUES (gen_random_uuid(), 'n', 'must', 't.py', 'x')$q$, '23503', 'acceptance_tests_plan_id_fkey');
CALL pg_temp.expect_error('test unique per file', $q$INSERT INTO acceptance_tests (plan_id, name, priority, file_path, code) VALUES ('40000000-0000-4000-8000-000000000001', 'test_health', 'must', 'tests/test_health.py', 'x')$q$, '23505', 'acceptance_tests_plan_file_name_key');
UPDATE acceptance_tests SET code = code || E'\n' WHERE id = '45000000-0000-4000-8000-000000000001';  -- editable before approval

INSERT INTO acceptance_test_criteria (plan_id, test_id, criterion_id) VALUES
    ('40000000-0000-4000-8000-000000000001', '45000000-0000-4000-8000-000000000001', '44000000-0000-4000-8000-000000000001'),
    ('40000000-0000-4000-8000-000000000001', '45000000-0000-4000-8000-000000000002', '44000000-0000-4000-8000-000000000002'),
    ('40000000-0000-4000-8000-000000000002', '45000000-0000-4000-8000-000000000009', '44000000-0000-4000-8000-000000000009');
CALL pg_temp.expect_error('test covers another plan''s criterion', $q$INSERT INTO acceptance_test_criteria (plan_id, test_id, criterion_id) VALUES ('40000000-0000-4000-8000-000000000001', '45000000-0000-4000-8000-000000000001', '44000000-0000-4000-8000-000000000009')$q$, '23503', 'acceptance_test_criteria_criterion_fkey');
CALL pg_temp.expect_error('criterion covered by another plan''s test', $q$INSERT INTO acceptance_test_criteria (plan_id, test_id, criterion_id) VALUES ('40000000-0000-4000-8000-000000000001', '45000000-0000-4000-8000-000000000009', '44000000-0000-4000-8000-000000000002')$q$, '23503', 'acceptance_test_criteria_test_fkey');
CALL pg_temp.expect_error('test criterion plan fk', $q$INSERT INTO acceptance_test_criteria (plan_id, test_id, criterion_id) VALUES (gen_random_uuid(), '45000000-0000-4000-8000-000000000001', '44000000-0000-4000-8000-000000000002')$q$, '23503', 'acceptance_test_criteria_plan_id_fkey');
CALL pg_temp.expect_error('test criterion unique', $q$INSERT INTO acceptance_test_criteria (plan_id, test_id, criterion_id) VALUES ('40000000-0000-4000-8000-000000000001', '45000000-0000-4000-8000-000000000001', '44000000-0000-4000-8000-000000000001')$q$, '23505', 'acceptance_test_criteria_pkey');

INSERT INTO plan_versions (plan_id, number, snapshot, change_note, author, author_id) VALUES
    ('40000000-0000-4000-8000-000000000001', 1, '{"project_name": "fastapi-jwt"}', 'generated', 'llm', NULL),
    ('40000000-0000-4000-8000-000000000001', 2, '{"project_name": "fastapi-jwt"}', 'task 2 edited', 'user', '10000000-0000-4000-8000-000000000001');
CALL pg_temp.expect_error('version number', $q$INSERT INTO plan_versions (plan_id, number, snapshot, author) VALUES ('40000000-0000-4000-8000-000000000001', 0, '{}', 'llm')$q$, '23514', 'plan_versions_number_check');
CALL pg_temp.expect_error('version snapshot', $q$INSERT INTO plan_versions (plan_id, number, snapshot, author) VALUES ('40000000-0000-4000-8000-000000000001', 3, '[]', 'llm')$q$, '23514', 'plan_versions_snapshot_check');
CALL pg_temp.expect_error('version author', $q$INSERT INTO plan_versions (plan_id, number, snapshot, author) VALUES ('40000000-0000-4000-8000-000000000001', 3, '{}', 'robot')$q$, '23514', 'plan_versions_author_check');
CALL pg_temp.expect_error('version user author needs id', $q$INSERT INTO plan_versions (plan_id, number, snapshot, author) VALUES ('40000000-0000-4000-8000-000000000001', 3, '{}', 'user')$q$, '23514', 'plan_versions_author_id_check');
CALL pg_temp.expect_error('version author fk', $q$INSERT INTO plan_versions (plan_id, number, snapshot, author, author_id) VALUES ('40000000-0000-4000-8000-000000000001', 3, '{}', 'user', gen_random_uuid())$q$, '23503', 'plan_versions_author_id_fkey');
CALL pg_temp.expect_error('version plan fk', $q$INSERT INTO plan_versions (plan_id, number, snapshot, author) VALUES (gen_random_uuid(), 1, '{}', 'llm')$q$, '23503', 'plan_versions_plan_id_fkey');
CALL pg_temp.expect_error('version number unique', $q$INSERT INTO plan_versions (plan_id, number, snapshot, author) VALUES ('40000000-0000-4000-8000-000000000001', 2, '{}', 'llm')$q$, '23505', 'plan_versions_plan_number_key');

INSERT INTO plan_history (plan_id, actor, actor_id, event, data) VALUES
    ('40000000-0000-4000-8000-000000000001', 'llm', NULL, 'generated', '{"version": 1}'),
    ('40000000-0000-4000-8000-000000000001', 'user', '10000000-0000-4000-8000-000000000001', 'task_edited', '{"task": 2}');
CALL pg_temp.expect_error('history actor', $q$INSERT INTO plan_history (plan_id, actor, event) VALUES ('40000000-0000-4000-8000-000000000001', 'cron', 'x')$q$, '23514', 'plan_history_actor_check');
CALL pg_temp.expect_error('history user actor needs id', $q$INSERT INTO plan_history (plan_id, actor, event) VALUES ('40000000-0000-4000-8000-000000000001', 'user', 'x')$q$, '23514', 'plan_history_actor_id_check');
CALL pg_temp.expect_error('history actor fk', $q$INSERT INTO plan_history (plan_id, actor, actor_id, event) VALUES ('40000000-0000-4000-8000-000000000001', 'user', gen_random_uuid(), 'x')$q$, '23503', 'plan_history_actor_id_fkey');
CALL pg_temp.expect_error('history event format', $q$INSERT INTO plan_history (plan_id, actor, event) VALUES ('40000000-0000-4000-8000-000000000001', 'system', 'Bad Event')$q$, '23514', 'plan_history_event_check');
CALL pg_temp.expect_error('history data', $q$INSERT INTO plan_history (plan_id, actor, event, data) VALUES ('40000000-0000-4000-8000-000000000001', 'system', 'x', '[]')$q$, '23514', 'plan_history_data_check');
CALL pg_temp.expect_error('history plan fk', $q$INSERT INTO plan_history (plan_id, actor, event) VALUES (gen_random_uuid(), 'system', 'x')$q$, '23503', 'plan_history_plan_id_fkey');
CALL pg_temp.expect_error('history id is generated', $q$INSERT INTO plan_history (id, plan_id, actor, event) VALUES (1, '40000000-0000-4000-8000-000000000001', 'system', 'x')$q$, '428C9');

-- Approval: freeze the tests (hash of the UTF-8 bytes), then they cannot change.
UPDATE masterplans SET status = 'approved', approved_at = now(), version = 2 WHERE id IN ('40000000-0000-4000-8000-000000000001', '40000000-0000-4000-8000-000000000002');
UPDATE acceptance_tests SET sha256 = encode(sha256(convert_to(code, 'UTF8')), 'hex'), frozen_at = now();
CALL pg_temp.expect_error('frozen test code cannot change', $q$UPDATE acceptance_tests SET code = 'pass' WHERE id = '45000000-0000-4000-8000-000000000001'$q$, '55000');
CALL pg_temp.expect_error('frozen test cannot be unfrozen', $q$UPDATE acceptance_tests SET sha256 = NULL, frozen_at = NULL WHERE id = '45000000-0000-4000-8000-000000000001'$q$, '55000');
UPDATE acceptance_tests SET updated_at = now() WHERE id = '45000000-0000-4000-8000-000000000001';  -- other columns stay writable
UPDATE masterplans SET status = 'queued' WHERE id IN ('40000000-0000-4000-8000-000000000001', '40000000-0000-4000-8000-000000000002');
UPDATE masterplans SET status = 'executing', started_at = now() WHERE id IN ('40000000-0000-4000-8000-000000000001', '40000000-0000-4000-8000-000000000002');

-- 5. jobs and llm_calls ---------------------------------------------------------------------

INSERT INTO jobs (id, kind, plan_id, payload) VALUES
    ('61000000-0000-4000-8000-000000000001', 'execution', '40000000-0000-4000-8000-000000000001', '{}');
INSERT INTO jobs (kind, conversation_id, unique_key) VALUES ('chat', '20000000-0000-4000-8000-000000000001', 'chat:1');
CALL pg_temp.expect_error('job kind', $q$INSERT INTO jobs (kind, plan_id) VALUES ('mining', '40000000-0000-4000-8000-000000000002')$q$, '23514', 'jobs_kind_check');
CALL pg_temp.expect_error('job state', $q$INSERT INTO jobs (kind, plan_id, state) VALUES ('generation', '40000000-0000-4000-8000-000000000002', 'sleeping')$q$, '23514', 'jobs_state_check');
CALL pg_temp.expect_error('job payload', $q$INSERT INTO jobs (kind, plan_id, payload) VALUES ('generation', '40000000-0000-4000-8000-000000000002', '[]')$q$, '23514', 'jobs_payload_check');
CALL pg_temp.expect_error('job attempts over max', $q$INSERT INTO jobs (kind, plan_id, attempts, max_attempts) VALUES ('generation', '40000000-0000-4000-8000-000000000002', 4, 3)$q$, '23514', 'jobs_attempts_check');
CALL pg_temp.expect_error('job max attempts', $q$INSERT INTO jobs (kind, plan_id, attempts, max_attempts) VALUES ('generation', '40000000-0000-4000-8000-000000000002', 0, 0)$q$, '23514', 'jobs_attempts_check');
CALL pg_temp.expect_error('plan job without plan', $q$INSERT INTO jobs (kind) VALUES ('generation')$q$, '23514', 'jobs_plan_check');
CALL pg_temp.expect_error('chat job without conversation', $q$INSERT INTO jobs (kind) VALUES ('chat')$q$, '23514', 'jobs_conversation_check');
CALL pg_temp.expect_error('running job without lease', $q$UPDATE jobs SET state = 'running' WHERE id = '61000000-0000-4000-8000-000000000001'$q$, '23514', 'jobs_lease_check');
CALL pg_temp.expect_error('finished job without finished_at', $q$UPDATE jobs SET state = 'done' WHERE id = '61000000-0000-4000-8000-000000000001'$q$, '23514', 'jobs_finished_check');
CALL pg_temp.expect_error('job unique key empty', $q$INSERT INTO jobs (kind, conversation_id, unique_key) VALUES ('chat', '20000000-0000-4000-8000-000000000001', '')$q$, '23514', 'jobs_unique_key_check');
CALL pg_temp.expect_error('job plan fk', $q$INSERT INTO jobs (kind, plan_id) VALUES ('generation', gen_random_uuid())$q$, '23503', 'jobs_plan_id_fkey');
CALL pg_temp.expect_error('job conversation fk', $q$INSERT INTO jobs (kind, conversation_id) VALUES ('chat', gen_random_uuid())$q$, '23503', 'jobs_conversation_id_fkey');
CALL pg_temp.expect_error('one live execution per plan', $q$INSERT INTO jobs (kind, plan_id) VALUES ('execution', '40000000-0000-4000-8000-000000000001')$q$, '23505', 'jobs_one_live_execution_key');
INSERT INTO jobs (kind, plan_id) VALUES ('regeneration', '40000000-0000-4000-8000-000000000002');
CALL pg_temp.expect_error('one live generation per plan', $q$INSERT INTO jobs (kind, plan_id) VALUES ('generation', '40000000-0000-4000-8000-000000000002')$q$, '23505', 'jobs_one_live_generation_key');
CALL pg_temp.expect_error('live unique key', $q$INSERT INTO jobs (kind, conversation_id, unique_key) VALUES ('chat', '20000000-0000-4000-8000-000000000001', 'chat:1')$q$, '23505', 'jobs_live_unique_key');
-- The claim statement of 0003's header works and takes the lease.
WITH next AS (SELECT id FROM jobs WHERE state = 'queued' AND run_after <= now() AND kind = 'execution'
              ORDER BY run_after, created_at LIMIT 1 FOR UPDATE SKIP LOCKED)
UPDATE jobs j SET state = 'running', attempts = j.attempts + 1, lease_owner = 'host:1:test',
                  lease_expires_at = now() + interval '30 seconds', started_at = now()
FROM next WHERE j.id = next.id;
CALL pg_temp.expect('claim took the execution job', $q$SELECT state = 'running' AND attempts = 1 FROM jobs WHERE id = '61000000-0000-4000-8000-000000000001'$q$);
UPDATE jobs SET state = 'done', finished_at = now() WHERE kind = 'regeneration';
INSERT INTO jobs (kind, plan_id) VALUES ('generation', '40000000-0000-4000-8000-000000000002');  -- allowed once the old one is done

INSERT INTO llm_calls (id, owner_id, plan_id, job_id, purpose, provider, model, input_tokens, output_tokens, cost_usd, latency_ms, status) VALUES
    ('60000000-0000-4000-8000-000000000001', '10000000-0000-4000-8000-000000000001', '40000000-0000-4000-8000-000000000001',
     '61000000-0000-4000-8000-000000000001', 'atom', 'openai-compatible', 'scripted-demo', 1000, 500, 0.25, 1200, 'ok'),
    (DEFAULT, '10000000-0000-4000-8000-000000000001', '40000000-0000-4000-8000-000000000001',
     NULL, 'masterplan', 'anthropic', 'claude-x', 2000, 1500, 0.50, 9000, 'ok'),
    (DEFAULT, '10000000-0000-4000-8000-000000000001', NULL, NULL, 'chat', 'openai', 'gpt-x', 10, 10, 0.001, 300, 'ok');
INSERT INTO llm_calls (owner_id, plan_id, purpose, provider, model, cost_usd, latency_ms, status, error) VALUES
    ('10000000-0000-4000-8000-000000000001', '40000000-0000-4000-8000-000000000001', 'atom', 'anthropic', 'claude-x', 0, 30000, 'error', 'HTTP 529 overloaded');
CALL pg_temp.expect('plan actual cost = sum of its llm_calls', $q$SELECT actual_cost_usd = 0.75 FROM masterplans WHERE id = '40000000-0000-4000-8000-000000000001'$q$);
CALL pg_temp.expect('reported costs leave the plan''s cost exact', $q$SELECT NOT actual_cost_estimated FROM masterplans WHERE id = '40000000-0000-4000-8000-000000000001'$q$);
-- 0017: an estimated call marks its plan's cost estimated, even when its own cost is unknown.
INSERT INTO llm_calls (owner_id, plan_id, purpose, provider, model, input_tokens, output_tokens, usage_estimated, latency_ms, status) VALUES
    ('10000000-0000-4000-8000-000000000001', '40000000-0000-4000-8000-000000000002', 'chat', 'openai-compatible', 'local', 40, 12, true, 10, 'ok');
CALL pg_temp.expect('an estimated call of unknown cost marks the plan', $q$SELECT actual_cost_estimated AND actual_cost_usd = 0 FROM masterplans WHERE id = '40000000-0000-4000-8000-000000000002'$q$);
INSERT INTO llm_calls (owner_id, plan_id, purpose, provider, model, input_tokens, output_tokens, cost_usd, usage_estimated, latency_ms, status) VALUES
    ('10000000-0000-4000-8000-000000000001', '40000000-0000-4000-8000-000000000002', 'chat', 'openai', 'gpt-x', 40, 12, 0.125, true, 10, 'ok');
CALL pg_temp.expect('an estimated cost is added', $q$SELECT actual_cost_estimated AND actual_cost_usd = 0.125 FROM masterplans WHERE id = '40000000-0000-4000-8000-000000000002'$q$);
DELETE FROM llm_calls WHERE plan_id = '40000000-0000-4000-8000-000000000002';  -- section 9 counts the ledger's other rows
CALL pg_temp.expect_error('llm purpose', $q$INSERT INTO llm_calls (purpose, provider, model, latency_ms, status) VALUES ('fun', 'openai', 'm', 1, 'ok')$q$, '23514', 'llm_calls_purpose_check');
CALL pg_temp.expect_error('llm provider', $q$INSERT INTO llm_calls (purpose, provider, model, latency_ms, status) VALUES ('chat', 'acme', 'm', 1, 'ok')$q$, '23514', 'llm_calls_provider_check');
CALL pg_temp.expect_error('llm model', $q$INSERT INTO llm_calls (purpose, provider, model, latency_ms, status) VALUES ('chat', 'openai', '', 1, 'ok')$q$, '23514', 'llm_calls_model_check');
CALL pg_temp.expect_error('llm status', $q$INSERT INTO llm_calls (purpose, provider, model, latency_ms, status) VALUES ('chat', 'openai', 'm', 1, 'fine')$q$, '23514', 'llm_calls_status_check');
CALL pg_temp.expect_error('llm error without message', $q$INSERT INTO llm_calls (purpose, provider, model, latency_ms, status) VALUES ('chat', 'openai', 'm', 1, 'error')$q$, '23514', 'llm_calls_error_check');
CALL pg_temp.expect_error('llm ok with error', $q$INSERT INTO llm_calls (purpose, provider, model, latency_ms, status, error) VALUES ('chat', 'openai', 'm', 1, 'ok', 'x')$q$, '23514', 'llm_calls_error_check');
CALL pg_temp.expect_error('llm tokens', $q$INSERT INTO llm_calls (purpose, provider, model, latency_ms, status, cached_tokens) VALUES ('chat', 'openai', 'm', 1, 'ok', -1)$q$, '23514', 'llm_calls_tokens_check');
CALL pg_temp.expect_error('llm cost', $q$INSERT INTO llm_calls (purpose, provider, model, latency_ms, status, cost_usd) VALUES ('chat', 'openai', 'm', 1, 'ok', -0.1)$q$, '23514', 'llm_calls_cost_check');
CALL pg_temp.expect_error('llm latency', $q$INSERT INTO llm_calls (purpose, provider, model, latency_ms, status) VALUES ('chat', 'openai', 'm', -1, 'ok')$q$, '23514', 'llm_calls_latency_check');
CALL pg_temp.expect_error('llm owner fk', $q$INSERT INTO llm_calls (owner_id, purpose, provider, model, latency_ms, status) VALUES (gen_random_uuid(), 'chat', 'openai', 'm', 1, 'ok')$q$, '23503', 'llm_calls_owner_id_fkey');
CALL pg_temp.expect_error('llm plan fk', $q$INSERT INTO llm_calls (plan_id, purpose, provider, model, latency_ms, status) VALUES (gen_random_uuid(), 'chat', 'openai', 'm', 1, 'ok')$q$, '23503', 'llm_calls_plan_id_fkey');
CALL pg_temp.expect_error('llm job fk', $q$INSERT INTO llm_calls (job_id, purpose, provider, model, latency_ms, status) VALUES (gen_random_uuid(), 'chat', 'openai', 'm', 1, 'ok')$q$, '23503', 'llm_calls_job_id_fkey');
CALL pg_temp.expect_error('llm conversation fk', $q$INSERT INTO llm_calls (conversation_id, purpose, provider, model, latency_ms, status) VALUES (gen_random_uuid(), 'chat', 'openai', 'm', 1, 'ok')$q$, '23503', 'llm_calls_conversation_id_fkey');

-- 6. execution ------------------------------------------------------------------------------

INSERT INTO waves (id, plan_id, number, atom_count, status, started_at) VALUES
    ('50000000-0000-4000-8000-000000000001', '40000000-0000-4000-8000-000000000001', 1, 3, 'running', now()),
    ('50000000-0000-4000-8000-000000000002', '40000000-0000-4000-8000-000000000001', 2, 2, 'pending', NULL),
    ('50000000-0000-4000-8000-000000000009', '40000000-0000-4000-8000-000000000002', 1, 1, 'pending', NULL);
CALL pg_temp.expect_error('wave number', $q$INSERT INTO waves (plan_id, number) VALUES ('40000000-0000-4000-8000-000000000001', 0)$q$, '23514', 'waves_number_check');
CALL pg_temp.expect_error('wave atom count', $q$INSERT INTO waves (plan_id, number, atom_count) VALUES ('40000000-0000-4000-8000-000000000001', 3, -1)$q$, '23514', 'waves_atom_count_check');
CALL pg_temp.expect_error('wave status', $q$INSERT INTO waves (plan_id, number, status) VALUES ('40000000-0000-4000-8000-000000000001', 3, 'done')$q$, '23514', 'waves_status_check');
CALL pg_temp.expect_error('wave repair rounds', $q$INSERT INTO waves (plan_id, number, repair_rounds) VALUES ('40000000-0000-4000-8000-000000000001', 3, -1)$q$, '23514', 'waves_repair_rounds_check');
CALL pg_temp.expect_error('wave commit sha', $q$INSERT INTO waves (plan_id, number, commit_sha) VALUES ('40000000-0000-4000-8000-000000000001', 3, 'abc')$q$, '23514', 'waves_commit_sha_check');
CALL pg_temp.expect_error('running wave without started_at', $q$UPDATE waves SET status = 'running' WHERE id = '50000000-0000-4000-8000-000000000002'$q$, '23514', 'waves_started_check');
CALL pg_temp.expect_error('gating wave without gate_started_at', $q$UPDATE waves SET status = 'gating' WHERE id = '50000000-0000-4000-8000-000000000001'$q$, '23514', 'waves_gate_started_check');
CALL pg_temp.expect_error('passed wave without finished_at', $q$UPDATE waves SET status = 'passed' WHERE id = '50000000-0000-4000-8000-000000000001'$q$, '23514', 'waves_finished_check');
CALL pg_temp.expect_error('wave plan fk', $q$INSERT INTO waves (plan_id, number) VALUES (gen_random_uuid(), 1)$q$, '23503', 'waves_plan_id_fkey');
CALL pg_temp.expect_error('wave number unique', $q$INSERT INTO waves (plan_id, number) VALUES ('40000000-0000-4000-8000-000000000001', 1)$q$, '23505', 'waves_plan_number_key');

INSERT INTO atoms (id, plan_id, task_id, file_path, wave, status) VALUES
    ('51000000-0000-4000-8000-000000000001', '40000000-0000-4000-8000-000000000001', '43000000-0000-4000-8000-000000000001', 'app/main.py', 1, 'pending'),
    ('51000000-0000-4000-8000-000000000002', '40000000-0000-4000-8000-000000000001', '43000000-0000-4000-8000-000000000002', 'app/auth.py', 1, 'pending'),
    ('51000000-0000-4000-8000-000000000003', '40000000-0000-4000-8000-000000000001', '43000000-0000-4000-8000-000000000002', 'app/main.py', 2, 'pending'),
    ('51000000-0000-4000-8000-000000000009', '40000000-0000-4000-8000-000000000002', '43000000-0000-4000-8000-000000000009', 'src/main.rs', 1, 'pending');
CALL pg_temp.expect_error('atom file path', $q$INSERT INTO atoms (plan_id, task_id, file_path) VALUES ('40000000-0000-4000-8000-000000000001', '43000000-0000-4000-8000-000000000001', '../x.py')$q$, '23514', 'atoms_file_path_check');
CALL pg_temp.expect_error('atom wave number', $q$INSERT INTO atoms (plan_id, task_id, file_path, wave) VALUES ('40000000-0000-4000-8000-000000000001', '43000000-0000-4000-8000-000000000001', 'x.py', 0)$q$, '23514', 'atoms_wave_check');
CALL pg_temp.expect_error('atom status', $q$UPDATE atoms SET status = 'done' WHERE id = '51000000-0000-4000-8000-000000000001'$q$, '23514', 'atoms_status_check');
CALL pg_temp.expect_error('atom attempts', $q$UPDATE atoms SET attempts = -1 WHERE id = '51000000-0000-4000-8000-000000000001'$q$, '23514', 'atoms_attempts_check');
CALL pg_temp.expect_error('atom confidence above 1', $q$UPDATE atoms SET confidence = 1.5 WHERE id = '51000000-0000-4000-8000-000000000001'$q$, '23514', 'atoms_confidence_check');
CALL pg_temp.expect_error('atom confidence below 0', $q$UPDATE atoms SET confidence = -0.01 WHERE id = '51000000-0000-4000-8000-000000000001'$q$, '23514', 'atoms_confidence_check');
CALL pg_temp.expect_error('atom confidence NaN', $q$UPDATE atoms SET confidence = 'NaN' WHERE id = '51000000-0000-4000-8000-000000000001'$q$, '23514', 'atoms_confidence_check');
CALL pg_temp.expect_error('atom sha format', $q$UPDATE atoms SET final_content_sha256 = 'abc' WHERE id = '51000000-0000-4000-8000-000000000001'$q$, '23514', 'atoms_final_sha_check');
CALL pg_temp.expect_error('succeeded atom without content hash', $q$UPDATE atoms SET status = 'succeeded' WHERE id = '51000000-0000-4000-8000-000000000001'$q$, '23514', 'atoms_accepted_check');
CALL pg_temp.expect_error('needs_review atom without confidence', $q$UPDATE atoms SET status = 'needs_review' WHERE id = '51000000-0000-4000-8000-000000000001'$q$, '23514', 'atoms_needs_review_check');
CALL pg_temp.expect_error('running atom without started_at', $q$UPDATE atoms SET status = 'running' WHERE id = '51000000-0000-4000-8000-000000000001'$q$, '23514', 'atoms_started_check');
CALL pg_temp.expect_error('atom of another plan''s task', $q$INSERT INTO atoms (plan_id, task_id, file_path) VALUES ('40000000-0000-4000-8000-000000000001', '43000000-0000-4000-8000-000000000009', 'x.py')$q$, '23503', 'atoms_task_fkey');
CALL pg_temp.expect_error('atom in a missing wave', $q$INSERT INTO atoms (plan_id, task_id, file_path, wave) VALUES ('40000000-0000-4000-8000-000000000001', '43000000-0000-4000-8000-000000000001', 'x.py', 99)$q$, '23503', 'atoms_wave_fkey');
CALL pg_temp.expect_error('atom plan fk', $q$INSERT INTO atoms (plan_id, task_id, file_path) VALUES (gen_random_uuid(), '43000000-0000-4000-8000-000000000001', 'x.py')$q$, '23503', 'atoms_plan_id_fkey');
CALL pg_temp.expect_error('one atom per task and file', $q$INSERT INTO atoms (plan_id, task_id, file_path) VALUES ('40000000-0000-4000-8000-000000000001', '43000000-0000-4000-8000-000000000001', 'app/main.py')$q$, '23505', 'atoms_plan_task_file_key');
CALL pg_temp.expect_error('two writers of one file in one wave', $q$UPDATE atoms SET wave = 1 WHERE id = '51000000-0000-4000-8000-000000000003'$q$, '23505', 'atoms_plan_wave_file_key');

INSERT INTO atom_dependencies (plan_id, atom_id, depends_on_atom_id, kind) VALUES
    ('40000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000003', '51000000-0000-4000-8000-000000000001', 'same_file'),
    ('40000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000003', '51000000-0000-4000-8000-000000000002', 'task');
CALL pg_temp.expect_error('atom depends on itself', $q$INSERT INTO atom_dependencies (plan_id, atom_id, depends_on_atom_id, kind) VALUES ('40000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000001', 'task')$q$, '23514', 'atom_dependencies_not_self_check');
CALL pg_temp.expect_error('atom dependency kind', $q$INSERT INTO atom_dependencies (plan_id, atom_id, depends_on_atom_id, kind) VALUES ('40000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000002', '51000000-0000-4000-8000-000000000001', 'hunch')$q$, '23514', 'atom_dependencies_kind_check');
CALL pg_temp.expect_error('atom depends across plans', $q$INSERT INTO atom_dependencies (plan_id, atom_id, depends_on_atom_id, kind) VALUES ('40000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000002', '51000000-0000-4000-8000-000000000009', 'task')$q$, '23503', 'atom_dependencies_depends_on_fkey');
CALL pg_temp.expect_error('atom of another plan depends', $q$INSERT INTO atom_dependencies (plan_id, atom_id, depends_on_atom_id, kind) VALUES ('40000000-0000-4000-8000-000000000002', '51000000-0000-4000-8000-000000000002', '51000000-0000-4000-8000-000000000009', 'task')$q$, '23503', 'atom_dependencies_atom_fkey');
CALL pg_temp.expect_error('atom dependency unique', $q$INSERT INTO atom_dependencies (plan_id, atom_id, depends_on_atom_id, kind) VALUES ('40000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000003', '51000000-0000-4000-8000-000000000001', 'task')$q$, '23505', 'atom_dependencies_pkey');
CALL pg_temp.expect_error('atom dependency plan fk', $q$INSERT INTO atom_dependencies (plan_id, atom_id, depends_on_atom_id, kind) VALUES (gen_random_uuid(), '51000000-0000-4000-8000-000000000002', '51000000-0000-4000-8000-000000000001', 'task')$q$, '23503', 'atom_dependencies_plan_id_fkey');

UPDATE atoms SET status = 'running', started_at = now(), attempts = 1 WHERE id = '51000000-0000-4000-8000-000000000001';
INSERT INTO atom_attempts (plan_id, atom_id, attempt, origin, temperature, prompt_digest, llm_call_id, output, validation, error_feedback, input_tokens, output_tokens, cost_usd, accepted) VALUES
    ('40000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000001', 1, 'generate', 0.7, repeat('d', 64), '60000000-0000-4000-8000-000000000001',
     'from fastapi import FastAPI', '[{"validator": "py_compile", "passed": false, "message": "line 1"}]', 'SyntaxError line 1', 1000, 500, 0.25, false),
    ('40000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000001', 2, 'retry', 0.5, repeat('e', 64), NULL,
     E'from fastapi import FastAPI\napp = FastAPI()\n', '[{"validator": "py_compile", "passed": true}]', NULL, 1000, 500, 0.25, true);
UPDATE atoms SET status = 'succeeded', attempts = 2, confidence = 0.86, finished_at = now(),
                 final_content_sha256 = encode(sha256(convert_to(E'from fastapi import FastAPI\napp = FastAPI()\n', 'UTF8')), 'hex')
WHERE id = '51000000-0000-4000-8000-000000000001';
CALL pg_temp.expect_error('attempt number', $q$INSERT INTO atom_attempts (plan_id, atom_id, attempt, temperature, prompt_digest) VALUES ('40000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000002', 0, 0.7, repeat('d', 64))$q$, '23514', 'atom_attempts_attempt_check');
CALL pg_temp.expect_error('attempt origin', $q$INSERT INTO atom_attempts (plan_id, atom_id, attempt, origin, temperature, prompt_digest) VALUES ('40000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000002', 1, 'magic', 0.7, repeat('d', 64))$q$, '23514', 'atom_attempts_origin_check');
CALL pg_temp.expect_error('LLM attempt without temperature', $q$INSERT INTO atom_attempts (plan_id, atom_id, attempt, prompt_digest) VALUES ('40000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000002', 1, repeat('d', 64))$q$, '23514', 'atom_attempts_llm_check');
CALL pg_temp.expect_error('attempt temperature', $q$INSERT INTO atom_attempts (plan_id, atom_id, attempt, temperature, prompt_digest) VALUES ('40000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000002', 1, 2.5, repeat('d', 64))$q$, '23514', 'atom_attempts_temperature_check');
CALL pg_temp.expect_error('attempt prompt digest', $q$INSERT INTO atom_attempts (plan_id, atom_id, attempt, temperature, prompt_digest) VALUES ('40000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000002', 1, 0.7, 'xyz')$q$, '23514', 'atom_attempts_prompt_digest_check');
CALL pg_temp.expect_error('attempt validation', $q$INSERT INTO atom_attempts (plan_id, atom_id, attempt, temperature, prompt_digest, validation) VALUES ('40000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000002', 1, 0.7, repeat('d', 64), '{}')$q$, '23514', 'atom_attempts_validation_check');
CALL pg_temp.expect_error('attempt tokens', $q$INSERT INTO atom_attempts (plan_id, atom_id, attempt, temperature, prompt_digest, output_tokens) VALUES ('40000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000002', 1, 0.7, repeat('d', 64), -1)$q$, '23514', 'atom_attempts_tokens_check');
CALL pg_temp.expect_error('attempt cost', $q$INSERT INTO atom_attempts (plan_id, atom_id, attempt, temperature, prompt_digest, cost_usd) VALUES ('40000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000002', 1, 0.7, repeat('d', 64), -1)$q$, '23514', 'atom_attempts_cost_check');
CALL pg_temp.expect_error('accepted attempt without output', $q$INSERT INTO atom_attempts (plan_id, atom_id, attempt, temperature, prompt_digest, accepted) VALUES ('40000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000002', 1, 0.7, repeat('d', 64), true)$q$, '23514', 'atom_attempts_accepted_check');
CALL pg_temp.expect_error('attempt of another plan''s atom', $q$INSERT INTO atom_attempts (plan_id, atom_id, attempt, temperature, prompt_digest) VALUES ('40000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000009', 1, 0.7, repeat('d', 64))$q$, '23503', 'atom_attempts_atom_fkey');
CALL pg_temp.expect_error('attempt plan fk', $q$INSERT INTO atom_attempts (plan_id, atom_id, attempt, temperature, prompt_digest) VALUES (gen_random_uuid(), '51000000-0000-4000-8000-000000000002', 1, 0.7, repeat('d', 64))$q$, '23503', 'atom_attempts_plan_id_fkey');
CALL pg_temp.expect_error('attempt llm call fk', $q$INSERT INTO atom_attempts (plan_id, atom_id, attempt, temperature, prompt_digest, llm_call_id) VALUES ('40000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000002', 1, 0.7, repeat('d', 64), gen_random_uuid())$q$, '23503', 'atom_attempts_llm_call_id_fkey');
CALL pg_temp.expect_error('attempt number unique per atom', $q$INSERT INTO atom_attempts (plan_id, atom_id, attempt, temperature, prompt_digest) VALUES ('40000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000001', 2, 0.3, repeat('d', 64))$q$, '23505', 'atom_attempts_atom_attempt_key');
CALL pg_temp.expect_error('no atom accepted twice', $q$INSERT INTO atom_attempts (plan_id, atom_id, attempt, origin, output, accepted) VALUES ('40000000-0000-4000-8000-000000000001', '51000000-0000-4000-8000-000000000001', 3, 'review_edit', 'x', true)$q$, '23505', 'atom_attempts_one_accepted_key');
CALL pg_temp.expect_error('task with atoms cannot be deleted', $q$DELETE FROM tasks WHERE id = '43000000-0000-4000-8000-000000000001'$q$, '23503', 'atoms_task_fkey');
CALL pg_temp.expect_error('atom with attempts cannot be deleted', $q$DELETE FROM atoms WHERE id = '51000000-0000-4000-8000-000000000001'$q$, '23503', 'atom_attempts_atom_fkey');
CALL pg_temp.expect('llm call of an attempt keeps its link', $q$SELECT count(*) = 1 FROM atom_attempts WHERE llm_call_id IS NOT NULL$q$);

UPDATE waves SET status = 'gating', gate_started_at = now() WHERE id = '50000000-0000-4000-8000-000000000001';
INSERT INTO test_runs (plan_id, test_id, test_sha256, wave_id, status, exit_code, duration_ms, output_tail)
SELECT plan_id, id, sha256, '50000000-0000-4000-8000-000000000001', 'pass', 0, 420, '1 passed'
FROM acceptance_tests WHERE id = '45000000-0000-4000-8000-000000000001';
CALL pg_temp.expect_error('test run of a changed test', $q$INSERT INTO test_runs (plan_id, test_id, test_sha256, wave_id, status, duration_ms) VALUES ('40000000-0000-4000-8000-000000000001', '45000000-0000-4000-8000-000000000001', repeat('0', 64), '50000000-0000-4000-8000-000000000001', 'pass', 1)$q$, '23503', 'test_runs_test_fkey');
CALL pg_temp.expect_error('test run of another plan''s test', $q$INSERT INTO test_runs (plan_id, test_id, test_sha256, wave_id, status, duration_ms) SELECT '40000000-0000-4000-8000-000000000001', id, sha256, '50000000-0000-4000-8000-000000000001', 'pass', 1 FROM acceptance_tests WHERE id = '45000000-0000-4000-8000-000000000009'$q$, '23503', 'test_runs_test_fkey');
CALL pg_temp.expect_error('test run in another plan''s wave', $q$INSERT INTO test_runs (plan_id, test_id, test_sha256, wave_id, status, duration_ms) SELECT plan_id, id, sha256, '50000000-0000-4000-8000-000000000009', 'pass', 1 FROM acceptance_tests WHERE id = '45000000-0000-4000-8000-000000000001'$q$, '23503', 'test_runs_wave_fkey');
CALL pg_temp.expect_error('test run plan fk', $q$INSERT INTO test_runs (plan_id, test_id, test_sha256, wave_id, status, duration_ms) SELECT gen_random_uuid(), id, sha256, '50000000-0000-4000-8000-000000000001', 'pass', 1 FROM acceptance_tests WHERE id = '45000000-0000-4000-8000-000000000001'$q$, '23503', 'test_runs_plan_id_fkey');
CALL pg_temp.expect_error('test run repair round', $q$INSERT INTO test_runs (plan_id, test_id, test_sha256, wave_id, repair_round, status, duration_ms) SELECT plan_id, id, sha256, '50000000-0000-4000-8000-000000000001', -1, 'pass', 1 FROM acceptance_tests WHERE id = '45000000-0000-4000-8000-000000000001'$q$, '23514', 'test_runs_repair_round_check');
CALL pg_temp.expect_error('test run status', $q$INSERT INTO test_runs (plan_id, test_id, test_sha256, wave_id, status, duration_ms) SELECT plan_id, id, sha256, '50000000-0000-4000-8000-000000000001', 'skipped', 1 FROM acceptance_tests WHERE id = '45000000-0000-4000-8000-000000000001'$q$, '23514', 'test_runs_status_check');
CALL pg_temp.expect_error('test run duration', $q$INSERT INTO test_runs (plan_id, test_id, test_sha256, wave_id, status, duration_ms) SELECT plan_id, id, sha256, '50000000-0000-4000-8000-000000000001', 'pass', -1 FROM acceptance_tests WHERE id = '45000000-0000-4000-8000-000000000001'$q$, '23514', 'test_runs_duration_check');
CALL pg_temp.expect_error('test run output tail size', $q$INSERT INTO test_runs (plan_id, test_id, test_sha256, wave_id, status, duration_ms, output_tail) SELECT plan_id, id, sha256, '50000000-0000-4000-8000-000000000001', 'fail', 1, repeat('x', 65537) FROM acceptance_tests WHERE id = '45000000-0000-4000-8000-000000000001'$q$, '23514', 'test_runs_output_tail_check');
CALL pg_temp.expect_error('test run cases not an array', $q$INSERT INTO test_runs (plan_id, test_id, test_sha256, wave_id, status, duration_ms, cases) SELECT plan_id, id, sha256, '50000000-0000-4000-8000-000000000001', 'fail', 1, '{}' FROM acceptance_tests WHERE id = '45000000-0000-4000-8000-000000000001'$q$, '23514', 'test_runs_cases_check');
CALL pg_temp.expect_error('test run reason size', $q$INSERT INTO test_runs (plan_id, test_id, test_sha256, wave_id, status, duration_ms, reason) SELECT plan_id, id, sha256, '50000000-0000-4000-8000-000000000001', 'fail', 1, repeat('x', 4097) FROM acceptance_tests WHERE id = '45000000-0000-4000-8000-000000000001'$q$, '23514', 'test_runs_reason_check');
CALL pg_temp.expect_error('test run kind', $q$INSERT INTO test_runs (plan_id, test_id, test_sha256, wave_id, status, duration_ms, kind) SELECT plan_id, id, sha256, '50000000-0000-4000-8000-000000000001', 'fail', 1, 'vibes' FROM acceptance_tests WHERE id = '45000000-0000-4000-8000-000000000001'$q$, '23514', 'test_runs_kind_check');
CALL pg_temp.expect_error('mutation run without its files digest', $q$INSERT INTO test_runs (plan_id, test_id, test_sha256, wave_id, status, duration_ms, kind) SELECT plan_id, id, sha256, '50000000-0000-4000-8000-000000000001', 'fail', 1, 'mutation' FROM acceptance_tests WHERE id = '45000000-0000-4000-8000-000000000001'$q$, '23514', 'test_runs_files_sha256_check');
CALL pg_temp.expect_error('tested test cannot be deleted', $q$DELETE FROM acceptance_tests WHERE id = '45000000-0000-4000-8000-000000000001'$q$, '23503', 'test_runs_test_fkey');

INSERT INTO gate_results (plan_id, wave_id, repair_round, must_total, must_passed, should_total, should_passed, passed, failing_tests) VALUES
    ('40000000-0000-4000-8000-000000000001', '50000000-0000-4000-8000-000000000001', 0, 1, 1, 100, 94, false, '[{"name": "test_expired_token"}]'),
    ('40000000-0000-4000-8000-000000000001', '50000000-0000-4000-8000-000000000001', 1, 1, 1, 100, 95, true, '[]'),
    ('40000000-0000-4000-8000-000000000001', '50000000-0000-4000-8000-000000000002', 0, 0, 0, 0, 0, true, '[]');
CALL pg_temp.expect_error('gate repair round', $q$INSERT INTO gate_results (plan_id, wave_id, repair_round, must_total, must_passed, should_total, should_passed, passed) VALUES ('40000000-0000-4000-8000-000000000001', '50000000-0000-4000-8000-000000000001', -1, 0, 0, 0, 0, true)$q$, '23514', 'gate_results_repair_round_check');
CALL pg_temp.expect_error('gate counts', $q$INSERT INTO gate_results (plan_id, wave_id, repair_round, must_total, must_passed, should_total, should_passed, passed) VALUES ('40000000-0000-4000-8000-000000000001', '50000000-0000-4000-8000-000000000001', 2, 1, 2, 0, 0, false)$q$, '23514', 'gate_results_counts_check');
CALL pg_temp.expect_error('gate passed with a failing MUST', $q$INSERT INTO gate_results (plan_id, wave_id, repair_round, must_total, must_passed, should_total, should_passed, passed) VALUES ('40000000-0000-4000-8000-000000000001', '50000000-0000-4000-8000-000000000001', 2, 2, 1, 0, 0, true)$q$, '23514', 'gate_results_gate_s_check');
CALL pg_temp.expect_error('gate passed with SHOULD at 94 %', $q$INSERT INTO gate_results (plan_id, wave_id, repair_round, must_total, must_passed, should_total, should_passed, passed) VALUES ('40000000-0000-4000-8000-000000000001', '50000000-0000-4000-8000-000000000001', 2, 1, 1, 100, 94, true)$q$, '23514', 'gate_results_gate_s_check');
CALL pg_temp.expect_error('gate failing tests', $q$INSERT INTO gate_results (plan_id, wave_id, repair_round, must_total, must_passed, should_total, should_passed, passed, failing_tests) VALUES ('40000000-0000-4000-8000-000000000001', '50000000-0000-4000-8000-000000000001', 2, 0, 0, 0, 0, true, '{}')$q$, '23514', 'gate_results_failing_tests_check');
CALL pg_temp.expect_error('gate of another plan''s wave', $q$INSERT INTO gate_results (plan_id, wave_id, repair_round, must_total, must_passed, should_total, should_passed, passed) VALUES ('40000000-0000-4000-8000-000000000001', '50000000-0000-4000-8000-000000000009', 0, 0, 0, 0, 0, true)$q$, '23503', 'gate_results_wave_fkey');
CALL pg_temp.expect_error('gate plan fk', $q$INSERT INTO gate_results (plan_id, wave_id, repair_round, must_total, must_passed, should_total, should_passed, passed) VALUES (gen_random_uuid(), '50000000-0000-4000-8000-000000000001', 5, 0, 0, 0, 0, true)$q$, '23503', 'gate_results_plan_id_fkey');
CALL pg_temp.expect_error('one gate per wave and round', $q$INSERT INTO gate_results (plan_id, wave_id, repair_round, must_total, must_passed, should_total, should_passed, passed) VALUES ('40000000-0000-4000-8000-000000000001', '50000000-0000-4000-8000-000000000001', 1, 0, 0, 0, 0, true)$q$, '23505', 'gate_results_wave_round_key');
CALL pg_temp.expect_error('gated wave cannot be deleted', $q$DELETE FROM waves WHERE id = '50000000-0000-4000-8000-000000000002'$q$, '23503', 'gate_results_wave_fkey');
-- Deleting an unused wave un-assigns its atoms (SET NULL on the wave column only).
DELETE FROM waves WHERE id = '50000000-0000-4000-8000-000000000009';
CALL pg_temp.expect('atom kept, wave cleared', $q$SELECT wave IS NULL AND plan_id = '40000000-0000-4000-8000-000000000002' FROM atoms WHERE id = '51000000-0000-4000-8000-000000000009'$q$);

-- 7. reviews --------------------------------------------------------------------------------

UPDATE atoms SET status = 'needs_review', started_at = now(), attempts = 3, confidence = 0.55 WHERE id = '51000000-0000-4000-8000-000000000002';
INSERT INTO reviews (id, plan_id, kind, atom_id, confidence, reason, priority, ai_suggestions) VALUES
    ('70000000-0000-4000-8000-000000000001', '40000000-0000-4000-8000-000000000001', 'atom', '51000000-0000-4000-8000-000000000002', 0.55,
     'confidence 0.55 below 0.70', 'medium', '[{"suggestion": "validate exp claim"}]');
INSERT INTO reviews (id, plan_id, kind, task_id, wave_id, reason, priority) VALUES
    ('70000000-0000-4000-8000-000000000002', '40000000-0000-4000-8000-000000000001', 'gate', '43000000-0000-4000-8000-000000000002',
     '50000000-0000-4000-8000-000000000001', 'test_expired_token still failing after 2 repair rounds', 'high');
CALL pg_temp.expect_error('review kind', $q$INSERT INTO reviews (plan_id, kind, atom_id, confidence, reason, priority) VALUES ('40000000-0000-4000-8000-000000000001', 'hunch', '51000000-0000-4000-8000-000000000001', 0.5, 'r', 'high')$q$, '23514', 'reviews_kind_check');
CALL pg_temp.expect_error('atom review without atom', $q$INSERT INTO reviews (plan_id, kind, confidence, reason, priority) VALUES ('40000000-0000-4000-8000-000000000001', 'atom', 0.5, 'r', 'high')$q$, '23514', 'reviews_subject_check');
CALL pg_temp.expect_error('gate review without wave', $q$INSERT INTO reviews (plan_id, kind, task_id, reason, priority) VALUES ('40000000-0000-4000-8000-000000000001', 'gate', '43000000-0000-4000-8000-000000000001', 'r', 'high')$q$, '23514', 'reviews_subject_check');
CALL pg_temp.expect_error('review confidence', $q$INSERT INTO reviews (plan_id, kind, atom_id, confidence, reason, priority) VALUES ('40000000-0000-4000-8000-000000000001', 'atom', '51000000-0000-4000-8000-000000000001', 1.2, 'r', 'high')$q$, '23514', 'reviews_confidence_check');
CALL pg_temp.expect_error('review reason', $q$INSERT INTO reviews (plan_id, kind, atom_id, confidence, reason, priority) VALUES ('40000000-0000-4000-8000-000000000001', 'atom', '51000000-0000-4000-8000-000000000001', 0.5, ' ', 'high')$q$, '23514', 'reviews_reason_check');
CALL pg_temp.expect_error('review priority', $q$INSERT INTO reviews (plan_id, kind, atom_id, confidence, reason, priority) VALUES ('40000000-0000-4000-8000-000000000001', 'atom', '51000000-0000-4000-8000-000000000001', 0.5, 'r', 'low')$q$, '23514', 'reviews_priority_check');
CALL pg_temp.expect_error('review suggestions', $q$INSERT INTO reviews (plan_id, kind, atom_id, confidence, reason, priority, ai_suggestions) VALUES ('40000000-0000-4000-8000-000000000001', 'atom', '51000000-0000-4000-8000-000000000001', 0.5, 'r', 'high', '"text"')$q$, '23514', 'reviews_ai_suggestions_check');
CALL pg_temp.expect_error('review status', $q$UPDATE reviews SET status = 'ignored', resolved_at = now(), reviewer_id = '10000000-0000-4000-8000-000000000001' WHERE id = '70000000-0000-4000-8000-000000000001'$q$, '23514', 'reviews_status_check');
CALL pg_temp.expect_error('resolved review without resolved_at', $q$UPDATE reviews SET status = 'approved', reviewer_id = '10000000-0000-4000-8000-000000000001' WHERE id = '70000000-0000-4000-8000-000000000001'$q$, '23514', 'reviews_resolved_check');
CALL pg_temp.expect_error('pending review with resolved_at', $q$UPDATE reviews SET resolved_at = now() WHERE id = '70000000-0000-4000-8000-000000000001'$q$, '23514', 'reviews_resolved_check');
CALL pg_temp.expect_error('resolved review without reviewer', $q$UPDATE reviews SET status = 'approved', resolved_at = now() WHERE id = '70000000-0000-4000-8000-000000000001'$q$, '23514', 'reviews_reviewer_check');
CALL pg_temp.expect_error('edited review without content', $q$UPDATE reviews SET status = 'edited', resolved_at = now(), reviewer_id = '10000000-0000-4000-8000-000000000001' WHERE id = '70000000-0000-4000-8000-000000000001'$q$, '23514', 'reviews_edited_check');
CALL pg_temp.expect_error('pending review marked applied', $q$UPDATE reviews SET applied_at = now() WHERE id = '70000000-0000-4000-8000-000000000001'$q$, '23514', 'reviews_applied_check');
CALL pg_temp.expect_error('waiver without reason', $q$UPDATE reviews SET status = 'waived', resolved_at = now(), reviewer_id = '10000000-0000-4000-8000-000000000001' WHERE id = '70000000-0000-4000-8000-000000000002'$q$, '23514', 'reviews_waiver_check');
CALL pg_temp.expect_error('waiver with blank reason', $q$UPDATE reviews SET status = 'waived', waiver_reason = ' ', resolved_at = now(), reviewer_id = '10000000-0000-4000-8000-000000000001' WHERE id = '70000000-0000-4000-8000-000000000002'$q$, '23514', 'reviews_waiver_check');
CALL pg_temp.expect_error('atom review cannot be waived', $q$UPDATE reviews SET status = 'waived', waiver_reason = 'fine', resolved_at = now(), reviewer_id = '10000000-0000-4000-8000-000000000001' WHERE id = '70000000-0000-4000-8000-000000000001'$q$, '23514', 'reviews_waiver_check');
CALL pg_temp.expect_error('waiver reason on a non-waived review', $q$UPDATE reviews SET status = 'approved', waiver_reason = 'fine', resolved_at = now(), reviewer_id = '10000000-0000-4000-8000-000000000001' WHERE id = '70000000-0000-4000-8000-000000000001'$q$, '23514', 'reviews_waiver_check');
CALL pg_temp.expect_error('review of another plan''s atom', $q$INSERT INTO reviews (plan_id, kind, atom_id, confidence, reason, priority) VALUES ('40000000-0000-4000-8000-000000000001', 'atom', '51000000-0000-4000-8000-000000000009', 0.5, 'r', 'high')$q$, '23503', 'reviews_atom_fkey');
CALL pg_temp.expect_error('gate review of another plan''s task', $q$INSERT INTO reviews (plan_id, kind, task_id, wave_id, reason, priority) VALUES ('40000000-0000-4000-8000-000000000001', 'gate', '43000000-0000-4000-8000-000000000009', '50000000-0000-4000-8000-000000000001', 'r', 'high')$q$, '23503', 'reviews_task_fkey');
CALL pg_temp.expect_error('gate review of another plan''s wave', $q$INSERT INTO reviews (plan_id, kind, task_id, wave_id, reason, priority) VALUES ('40000000-0000-4000-8000-000000000001', 'gate', '43000000-0000-4000-8000-000000000001', gen_random_uuid(), 'r', 'high')$q$, '23503', 'reviews_wave_fkey');
CALL pg_temp.expect_error('review plan fk', $q$INSERT INTO reviews (plan_id, kind, atom_id, confidence, reason, priority) VALUES (gen_random_uuid(), 'atom', '51000000-0000-4000-8000-000000000001', 0.5, 'r', 'high')$q$, '23503', 'reviews_plan_id_fkey');
CALL pg_temp.expect_error('reviewer fk', $q$UPDATE reviews SET status = 'approved', resolved_at = now(), reviewer_id = gen_random_uuid() WHERE id = '70000000-0000-4000-8000-000000000001'$q$, '23503', 'reviews_reviewer_id_fkey');
CALL pg_temp.expect_error('one pending review per atom', $q$INSERT INTO reviews (plan_id, kind, atom_id, confidence, reason, priority) VALUES ('40000000-0000-4000-8000-000000000001', 'atom', '51000000-0000-4000-8000-000000000002', 0.4, 'again', 'high')$q$, '23505', 'reviews_one_pending_atom_key');
CALL pg_temp.expect_error('one pending gate review per wave and task', $q$INSERT INTO reviews (plan_id, kind, task_id, wave_id, reason, priority) VALUES ('40000000-0000-4000-8000-000000000001', 'gate', '43000000-0000-4000-8000-000000000002', '50000000-0000-4000-8000-000000000001', 'again', 'high')$q$, '23505', 'reviews_one_pending_gate_key');
UPDATE reviews SET status = 'regenerated', feedback = 'check exp', resolved_at = now(), reviewer_id = '10000000-0000-4000-8000-000000000001' WHERE id = '70000000-0000-4000-8000-000000000001';
INSERT INTO reviews (plan_id, kind, atom_id, confidence, reason, priority) VALUES
    ('40000000-0000-4000-8000-000000000001', 'atom', '51000000-0000-4000-8000-000000000002', 0.45, 'still low after regeneration', 'high');
UPDATE reviews SET status = 'waived', waiver_reason = 'expiry is checked by the gateway in production', resolved_at = now(),
                   reviewer_id = '10000000-0000-4000-8000-000000000001' WHERE id = '70000000-0000-4000-8000-000000000002';
CALL pg_temp.expect_error('reviewed atom cannot be deleted', $q$DELETE FROM reviews WHERE atom_id = '51000000-0000-4000-8000-000000000002' AND status = 'pending'; DELETE FROM atoms WHERE id = '51000000-0000-4000-8000-000000000002'$q$, '23503', 'reviews_atom_fkey');
CALL pg_temp.expect_error('reviewed task cannot be deleted', $q$DELETE FROM atoms WHERE task_id = '43000000-0000-4000-8000-000000000002' AND id <> '51000000-0000-4000-8000-000000000002'; DELETE FROM atom_dependencies; DELETE FROM reviews WHERE kind = 'atom'; DELETE FROM atoms WHERE task_id = '43000000-0000-4000-8000-000000000002'; DELETE FROM tasks WHERE id = '43000000-0000-4000-8000-000000000002'$q$, '23503', 'reviews_task_fkey');
CALL pg_temp.expect_error('reviewed wave cannot be deleted', $q$DELETE FROM test_runs; DELETE FROM gate_results; DELETE FROM waves WHERE id = '50000000-0000-4000-8000-000000000001'$q$, '23503', 'reviews_wave_fkey');
CALL pg_temp.expect_error('a reviewer cannot be deleted', $q$DELETE FROM users WHERE id = '10000000-0000-4000-8000-000000000001'$q$, '23503');

-- 7a. waivers and how a plan was proven (0014) -----------------------------------------------

INSERT INTO test_waivers (plan_id, test_id, wave_id, review_id, reason, waived_by) VALUES ('40000000-0000-4000-8000-000000000001', '45000000-0000-4000-8000-000000000001', '50000000-0000-4000-8000-000000000001', '70000000-0000-4000-8000-000000000002', 'the clock test is flaky on this host; tracked', '10000000-0000-4000-8000-000000000001');
CALL pg_temp.expect_error('waiver without a reason', $q$INSERT INTO test_waivers (plan_id, test_id, wave_id, review_id, reason, waived_by) VALUES ('40000000-0000-4000-8000-000000000001', '45000000-0000-4000-8000-000000000001', '50000000-0000-4000-8000-000000000002', '70000000-0000-4000-8000-000000000002', '   ', '10000000-0000-4000-8000-000000000001')$q$, '23514', 'test_waivers_reason_check');
CALL pg_temp.expect_error('test waived twice in one wave', $q$INSERT INTO test_waivers (plan_id, test_id, wave_id, review_id, reason, waived_by) VALUES ('40000000-0000-4000-8000-000000000001', '45000000-0000-4000-8000-000000000001', '50000000-0000-4000-8000-000000000001', '70000000-0000-4000-8000-000000000002', 'again', '10000000-0000-4000-8000-000000000001')$q$, '23505', 'test_waivers_test_wave_key');
CALL pg_temp.expect_error('waiver of another plan''s test', $q$INSERT INTO test_waivers (plan_id, test_id, wave_id, review_id, reason, waived_by) VALUES ('40000000-0000-4000-8000-000000000001', '45000000-0000-4000-8000-000000000009', '50000000-0000-4000-8000-000000000001', '70000000-0000-4000-8000-000000000002', 'r', '10000000-0000-4000-8000-000000000001')$q$, '23503', 'test_waivers_test_fkey');
CALL pg_temp.expect_error('waiver in another plan''s wave', $q$INSERT INTO test_waivers (plan_id, test_id, wave_id, review_id, reason, waived_by) VALUES ('40000000-0000-4000-8000-000000000001', '45000000-0000-4000-8000-000000000001', '50000000-0000-4000-8000-000000000009', '70000000-0000-4000-8000-000000000002', 'r', '10000000-0000-4000-8000-000000000001')$q$, '23503', 'test_waivers_wave_fkey');
CALL pg_temp.expect_error('waiver of an unknown review', $q$INSERT INTO test_waivers (plan_id, test_id, wave_id, review_id, reason, waived_by) VALUES ('40000000-0000-4000-8000-000000000001', '45000000-0000-4000-8000-000000000001', '50000000-0000-4000-8000-000000000002', gen_random_uuid(), 'r', '10000000-0000-4000-8000-000000000001')$q$, '23503', 'test_waivers_review_fkey');
CALL pg_temp.expect_error('waiver by an unknown user', $q$INSERT INTO test_waivers (plan_id, test_id, wave_id, review_id, reason, waived_by) VALUES ('40000000-0000-4000-8000-000000000001', '45000000-0000-4000-8000-000000000001', '50000000-0000-4000-8000-000000000002', '70000000-0000-4000-8000-000000000002', 'r', gen_random_uuid())$q$, '23503', 'test_waivers_waived_by_fkey');
CALL pg_temp.expect_error('waiver of an unknown plan', $q$INSERT INTO test_waivers (plan_id, test_id, wave_id, review_id, reason, waived_by) VALUES (gen_random_uuid(), '45000000-0000-4000-8000-000000000001', '50000000-0000-4000-8000-000000000002', '70000000-0000-4000-8000-000000000002', 'r', '10000000-0000-4000-8000-000000000001')$q$, '23503', 'test_waivers_plan_id_fkey');
CALL pg_temp.expect_error('cannot-fail output size', $q$UPDATE acceptance_tests SET cannot_fail = true, cannot_fail_output = repeat('x', 65537) WHERE id = '45000000-0000-4000-8000-000000000002'$q$, '23514', 'acceptance_tests_cannot_fail_output_check');
CALL pg_temp.expect_error('confirming a test that can fail', $q$UPDATE acceptance_tests SET cannot_fail_confirmation = 'kept', cannot_fail_confirmed_at = now() WHERE id = '45000000-0000-4000-8000-000000000002'$q$, '23514', 'acceptance_tests_confirmation_check');
CALL pg_temp.expect_error('confirmation without a reason', $q$UPDATE acceptance_tests SET cannot_fail = true, cannot_fail_confirmation = ' ', cannot_fail_confirmed_at = now() WHERE id = '45000000-0000-4000-8000-000000000002'$q$, '23514', 'acceptance_tests_confirmation_check');
CALL pg_temp.expect_error('confirmation by an unknown user', $q$UPDATE acceptance_tests SET cannot_fail = true, cannot_fail_confirmation = 'kept', cannot_fail_confirmed_at = now(), cannot_fail_confirmed_by = gen_random_uuid() WHERE id = '45000000-0000-4000-8000-000000000002'$q$, '23503', 'acceptance_tests_cannot_fail_confirmed_by_fkey');
CALL pg_temp.expect_error('gate commit format', $q$INSERT INTO gate_results (plan_id, wave_id, repair_round, must_total, must_passed, should_total, should_passed, passed, commit_sha, final) VALUES ('40000000-0000-4000-8000-000000000001', '50000000-0000-4000-8000-000000000001', 5, 0, 0, 0, 0, true, 'HEAD', true)$q$, '23514', 'gate_results_commit_sha_check');
CALL pg_temp.expect_error('verification of a plan that is not completed', $q$UPDATE masterplans SET verification = 'verified' WHERE id = '40000000-0000-4000-8000-000000000002'$q$, '23514', 'masterplans_verification_check');
CALL pg_temp.expect_error('waived wave without finished_at', $q$UPDATE waves SET status = 'waived', finished_at = NULL WHERE id = '50000000-0000-4000-8000-000000000001'$q$, '23514', 'waves_finished_check');

-- 7b. login attempts (0016) ------------------------------------------------------------------

INSERT INTO login_attempts (account, address) VALUES ('ann@example.org', '192.0.2.1'), (NULL, '2001:db8::/64');
CALL pg_temp.expect_error('login account not lower-case', $q$INSERT INTO login_attempts (account, address) VALUES ('Ann@example.org', '192.0.2.1')$q$, '23514', 'login_attempts_account_check');
CALL pg_temp.expect_error('login account too long', $q$INSERT INTO login_attempts (account, address) VALUES (repeat('a', 321), '192.0.2.1')$q$, '23514', 'login_attempts_account_check');
CALL pg_temp.expect_error('login address too long', $q$INSERT INTO login_attempts (account, address) VALUES ('ann@example.org', repeat('1', 65))$q$, '23514', 'login_attempts_address_check');
CALL pg_temp.expect('login address keys', $q$SELECT masterplan_login_address_key('192.0.2.1') = '192.0.2.1'
       AND masterplan_login_address_key('2001:db8:1:2:3:4:5:6') = '2001:db8:1:2::/64'
       AND masterplan_login_address_key('::ffff:192.0.2.1') = '::ffff:192.0.2.1'
       AND masterplan_login_address_key('unix:') = 'unix:'$q$);

-- 8. events ---------------------------------------------------------------------------------

CALL pg_temp.expect('21 event types (0010 adds chat_reply_progress)', $q$SELECT count(*) = 21 FROM event_types$q$);
CALL pg_temp.expect('emit returns increasing ids and derives the owner', $q$SELECT masterplan_emit_event(NULL, '40000000-0000-4000-8000-000000000001', NULL, 'wave_execution_start', '{"wave": 1}')
         < masterplan_emit_event('10000000-0000-4000-8000-000000000001', NULL, '20000000-0000-4000-8000-000000000001', 'chat_message', NULL)$q$);
CALL pg_temp.expect('event rows', $q$SELECT array_agg(type ORDER BY id) = '{wave_execution_start,chat_message}'
       AND bool_and(owner_id = '10000000-0000-4000-8000-000000000001')
    FROM events$q$);
CALL pg_temp.expect_error('emit: unknown type', $q$SELECT masterplan_emit_event(NULL, '40000000-0000-4000-8000-000000000001', NULL, 'wave_exploded', '{}')$q$, '23503', 'events_type_fkey');
CALL pg_temp.expect_error('emit: array payload', $q$SELECT masterplan_emit_event(NULL, '40000000-0000-4000-8000-000000000001', NULL, 'cost_warning', '[]')$q$, '23514', 'events_payload_check');
CALL pg_temp.expect_error('emit: owner is not the plan owner', $q$SELECT masterplan_emit_event('10000000-0000-4000-8000-000000000002', '40000000-0000-4000-8000-000000000001', NULL, 'cost_warning', '{}')$q$, '23514');
CALL pg_temp.expect_error('emit: owner is not the conversation owner', $q$SELECT masterplan_emit_event('10000000-0000-4000-8000-000000000002', NULL, '20000000-0000-4000-8000-000000000001', 'chat_message', '{}')$q$, '23514');
CALL pg_temp.expect_error('emit: missing plan', $q$SELECT masterplan_emit_event(NULL, gen_random_uuid(), NULL, 'cost_warning', '{}')$q$, '23503');
CALL pg_temp.expect_error('emit: missing conversation', $q$SELECT masterplan_emit_event(NULL, NULL, gen_random_uuid(), 'chat_message', '{}')$q$, '23503');
CALL pg_temp.expect_error('emit: no owner at all', $q$SELECT masterplan_emit_event(NULL, NULL, NULL, 'chat_message', '{}')$q$, '23502');
CALL pg_temp.expect_error('event owner fk', $q$INSERT INTO events (owner_id, type) VALUES (gen_random_uuid(), 'chat_message')$q$, '23503', 'events_owner_id_fkey');
CALL pg_temp.expect_error('event plan fk', $q$INSERT INTO events (owner_id, plan_id, type) VALUES ('10000000-0000-4000-8000-000000000001', gen_random_uuid(), 'cost_warning')$q$, '23503', 'events_plan_id_fkey');
CALL pg_temp.expect_error('event conversation fk', $q$INSERT INTO events (owner_id, conversation_id, type) VALUES ('10000000-0000-4000-8000-000000000001', gen_random_uuid(), 'chat_message')$q$, '23503', 'events_conversation_id_fkey');
CALL pg_temp.expect_error('event type name format', $q$INSERT INTO event_types (name, description) VALUES ('Bad-Name', 'x')$q$, '23514', 'event_types_name_check');
CALL pg_temp.expect_error('event type unique', $q$INSERT INTO event_types (name, description) VALUES ('chat_message', 'again')$q$, '23505', 'event_types_pkey');
CALL pg_temp.expect_error('event type in use cannot be deleted', $q$DELETE FROM event_types WHERE name = 'chat_message'$q$, '23503', 'events_type_fkey');
INSERT INTO event_types (name, description) VALUES ('workspace_exported', 'added by a later migration');
CALL pg_temp.expect('a type added by INSERT is accepted', $q$SELECT masterplan_emit_event(NULL, '40000000-0000-4000-8000-000000000001', NULL, 'workspace_exported', '{}') IS NOT NULL$q$);

-- 8a. token versions and stream tickets (0015) ----------------------------------------------

CALL pg_temp.expect_error('token version below 1', $q$UPDATE users SET token_version = 0 WHERE id = '10000000-0000-4000-8000-000000000002'$q$, '23514', 'users_token_version_check');
UPDATE users SET password_hash = '$argon2id$y2' WHERE id = '10000000-0000-4000-8000-000000000002';
UPDATE users SET display_name = 'Bob' WHERE id = '10000000-0000-4000-8000-000000000002';
CALL pg_temp.expect('a new password raises the token version, other changes do not', $q$SELECT token_version = 2 FROM users WHERE id = '10000000-0000-4000-8000-000000000002'$q$);
UPDATE users SET disabled_at = now() WHERE id = '10000000-0000-4000-8000-000000000002';
UPDATE users SET disabled_at = NULL WHERE id = '10000000-0000-4000-8000-000000000002';
CALL pg_temp.expect('a disable raises the token version, an enable does not', $q$SELECT token_version = 3 FROM users WHERE id = '10000000-0000-4000-8000-000000000002'$q$);

INSERT INTO stream_tickets (ticket_hash, user_id, token_version, plan_id, token_expires_at, expires_at) VALUES
    (repeat('a', 64), '10000000-0000-4000-8000-000000000002', 3, NULL, now() + interval '1 hour', now() + interval '1 minute'),
    (repeat('b', 64), '10000000-0000-4000-8000-000000000001', 1, '40000000-0000-4000-8000-000000000001', now() + interval '1 hour', now() + interval '1 minute');
CALL pg_temp.expect_error('ticket stored in the clear', $q$INSERT INTO stream_tickets (ticket_hash, user_id, token_version, token_expires_at, expires_at) VALUES ('the-ticket-itself', '10000000-0000-4000-8000-000000000002', 3, now() + interval '1 hour', now() + interval '1 minute')$q$, '23514', 'stream_tickets_hash_check');
CALL pg_temp.expect_error('ticket hash used twice', $q$INSERT INTO stream_tickets (ticket_hash, user_id, token_version, token_expires_at, expires_at) VALUES (repeat('a', 64), '10000000-0000-4000-8000-000000000002', 3, now() + interval '1 hour', now() + interval '1 minute')$q$, '23505', 'stream_tickets_pkey');
CALL pg_temp.expect_error('ticket outliving its token', $q$INSERT INTO stream_tickets (ticket_hash, user_id, token_version, token_expires_at, expires_at) VALUES (repeat('c', 64), '10000000-0000-4000-8000-000000000002', 3, now() + interval '10 seconds', now() + interval '1 minute')$q$, '23514', 'stream_tickets_expiry_check');
CALL pg_temp.expect_error('ticket expired at birth', $q$INSERT INTO stream_tickets (ticket_hash, user_id, token_version, token_expires_at, expires_at) VALUES (repeat('c', 64), '10000000-0000-4000-8000-000000000002', 3, now() + interval '1 hour', now() - interval '1 second')$q$, '23514', 'stream_tickets_expiry_check');
CALL pg_temp.expect_error('ticket of an unknown user', $q$INSERT INTO stream_tickets (ticket_hash, user_id, token_version, token_expires_at, expires_at) VALUES (repeat('c', 64), gen_random_uuid(), 1, now() + interval '1 hour', now() + interval '1 minute')$q$, '23503', 'stream_tickets_user_id_fkey');
CALL pg_temp.expect_error('ticket of an unknown plan', $q$INSERT INTO stream_tickets (ticket_hash, user_id, token_version, plan_id, token_expires_at, expires_at) VALUES (repeat('c', 64), '10000000-0000-4000-8000-000000000002', 3, gen_random_uuid(), now() + interval '1 hour', now() + interval '1 minute')$q$, '23503', 'stream_tickets_plan_id_fkey');

-- 9. deletion -------------------------------------------------------------------------------

-- A user with no plans, reviews or spending can be deleted; their tokens and chats go with them.
DELETE FROM users WHERE id = '10000000-0000-4000-8000-000000000003';
CALL pg_temp.expect('tokens and chats of a deleted user are gone', $q$SELECT NOT EXISTS (SELECT 1 FROM api_tokens WHERE name = 'cat')
       AND NOT EXISTS (SELECT 1 FROM conversations WHERE title = 'cat')$q$);
CALL pg_temp.expect_error('a plan owner cannot be deleted', $q$DELETE FROM users WHERE id = '10000000-0000-4000-8000-000000000002'$q$, '23503', 'masterplans_owner_id_fkey');

-- Deleting a plan removes its whole tree (through the RESTRICT links inside it) but keeps the
-- cost ledger, detached.
DELETE FROM masterplans WHERE id = '40000000-0000-4000-8000-000000000001';
CALL pg_temp.expect('plan tree gone', $q$SELECT (SELECT count(*) FROM phases WHERE plan_id = '40000000-0000-4000-8000-000000000001')
         + (SELECT count(*) FROM tasks WHERE plan_id = '40000000-0000-4000-8000-000000000001')
         + (SELECT count(*) FROM subtasks WHERE task_id = '43000000-0000-4000-8000-000000000002')
         + (SELECT count(*) FROM acceptance_tests WHERE plan_id = '40000000-0000-4000-8000-000000000001')
         + (SELECT count(*) FROM atoms WHERE plan_id = '40000000-0000-4000-8000-000000000001')
         + (SELECT count(*) FROM atom_attempts WHERE plan_id = '40000000-0000-4000-8000-000000000001')
         + (SELECT count(*) FROM waves WHERE plan_id = '40000000-0000-4000-8000-000000000001')
         + (SELECT count(*) FROM test_runs WHERE plan_id = '40000000-0000-4000-8000-000000000001')
         + (SELECT count(*) FROM gate_results WHERE plan_id = '40000000-0000-4000-8000-000000000001')
         + (SELECT count(*) FROM reviews WHERE plan_id = '40000000-0000-4000-8000-000000000001')
         + (SELECT count(*) FROM plan_history WHERE plan_id = '40000000-0000-4000-8000-000000000001')
         + (SELECT count(*) FROM jobs WHERE plan_id = '40000000-0000-4000-8000-000000000001')
         + (SELECT count(*) FROM events WHERE plan_id = '40000000-0000-4000-8000-000000000001')
         + (SELECT count(*) FROM stream_tickets WHERE plan_id = '40000000-0000-4000-8000-000000000001') = 0$q$);
CALL pg_temp.expect('llm_calls kept, detached from the deleted plan', $q$SELECT count(*) = 4 AND bool_and(plan_id IS NULL) AND bool_and(job_id IS NULL OR purpose = 'chat')
    FROM llm_calls$q$);
CALL pg_temp.expect('the other plan is untouched', $q$SELECT count(*) = 1 FROM tasks WHERE plan_id = '40000000-0000-4000-8000-000000000002'$q$);

-- 10. coverage: every CHECK / FOREIGN KEY / UNIQUE constraint was seen failing ----------------

DO $$
DECLARE
    missing text;
BEGIN
    SELECT string_agg(c.conrelid::regclass || '.' || c.conname, ', ' ORDER BY 1) INTO missing
    FROM pg_constraint c
    WHERE c.connamespace = current_schema()::regnamespace
      AND c.contype IN ('c', 'f', 'u', 'p')
      -- a UNIQUE that contains the primary key column cannot fail on its own
      AND NOT (c.contype = 'u' AND EXISTS (
              SELECT 1 FROM pg_constraint pk
              WHERE pk.conrelid = c.conrelid AND pk.contype = 'p' AND pk.conkey <@ c.conkey))
      -- generated uuid / identity primary keys are not supplied by callers; natural ones are checked
      AND NOT (c.contype = 'p' AND c.conrelid::regclass::text NOT IN ('task_dependencies', 'acceptance_test_criteria',
                                                                          'atom_dependencies', 'event_types', 'stream_tickets'))
      AND c.conname NOT IN (SELECT name FROM pg_temp.covered);
    IF missing IS NOT NULL THEN
        RAISE EXCEPTION 'FAIL constraints never exercised: %', missing;
    END IF;
    RAISE NOTICE 'schema_checks: all constraints exercised (% distinct)', (SELECT count(DISTINCT name) FROM pg_temp.covered);
END;
$$;

ROLLBACK;
