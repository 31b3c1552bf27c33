-- 0013_test_run_reports.sql
--
-- What a test run proves, per test.
--
-- An acceptance test's outcome used to be its runner's exit status, which the code under test can
-- choose (exit early with 0). It now comes from the per-test report of the engine's harness: every
-- test id of the frozen file must be reported passed. The report is kept with the run, so the
-- evidence of a verdict can be read back:
--   cases   one entry per test id: {"id", "outcome", "duration_ms"}; outcome is passed, failed,
--           error, skipped, xfailed, xpassed, missing (never reported) or duplicate (reported twice)
--   reason  why the run is not a pass, in one sentence (NULL for a pass)
--   kind    'gate' for a run at a Gate S evaluation; 'mutation' for the run of a MUST test with the
--           files of the tasks it covers removed, which must NOT pass for the test to count
--   files_sha256  for a mutation run, the digest of the removed files' paths and contents: while they
--           are unchanged the run's verdict stands and is not repeated

ALTER TABLE test_runs
    ADD COLUMN cases  jsonb NOT NULL DEFAULT '[]',
    ADD COLUMN reason text,
    ADD COLUMN kind   text  NOT NULL DEFAULT 'gate',
    ADD COLUMN files_sha256 text,
    ADD CONSTRAINT test_runs_cases_check  CHECK (jsonb_typeof(cases) = 'array'),
    ADD CONSTRAINT test_runs_reason_check CHECK (reason IS NULL OR octet_length(reason) <= 4096),
    ADD CONSTRAINT test_runs_kind_check   CHECK (kind IN ('gate', 'mutation')),
    ADD CONSTRAINT test_runs_files_sha256_check CHECK ((kind = 'mutation') = (files_sha256 IS NOT NULL));

CREATE INDEX test_runs_mutation_idx ON test_runs (test_id, files_sha256) WHERE kind = 'mutation';

COMMENT ON COLUMN test_runs.cases IS
    'Per test id of the run''s file: {"id", "outcome", "duration_ms"}, from the harness''s report.';
COMMENT ON COLUMN test_runs.reason IS 'Why the run is not a pass, in one sentence; NULL for a pass.';
COMMENT ON COLUMN test_runs.kind IS
    '''gate'': run at a Gate S evaluation; ''mutation'': run with the covered tasks'' files removed (must fail).';
